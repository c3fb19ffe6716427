"""The package's import graph has no cycles, and the stages' arrows run one way.

Module imports are read with ``ast``: ``import``/``from`` statements at any depth (function-local
imports count: they hide a cycle, they do not remove it), except those under ``if TYPE_CHECKING:``,
which never run. Package ``__init__`` modules that only re-export are edges like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "callreplay"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", node)
                targets = [f"{base}.{a.name}" for a in node.names]
                if any(t not in modules for t in targets):  # a name from the package itself, not a submodule
                    targets.append(base)
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _is_package_reexport(a: str, b: str) -> bool:
    """A package's ``__init__`` importing its own submodule, which imports a sibling through the package."""
    return a.startswith(b + ".") or b.startswith(a + ".")


def test_no_import_cycles():
    graph = import_graph()
    # a package __init__ re-exporting its submodules and a submodule importing a sibling through the
    # package is not a cycle of responsibilities; drop submodule -> own-package edges
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not _is_package_reexport(module, t)}
    assert _cycles(graph) == []


def test_the_model_does_not_import_the_input_format():
    graph = import_graph()
    model = [m for m in graph if m.startswith("callreplay.pipeline")]
    assert {(m, t) for m in model for t in graph[m] if t.startswith("callreplay.scenario")} == set()


def test_the_scenario_loader_does_not_import_later_stages():
    graph = import_graph()
    later = ("callreplay.pipeline", "callreplay.detectors", "callreplay.report")
    edges = {(m, t) for m in graph if m.startswith("callreplay.scenario") for t in graph[m] if t.startswith(later)}
    assert edges == set()
