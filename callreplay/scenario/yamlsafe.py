"""A YAML loader for untrusted scenario files that remembers where every value came from.

``ScenarioYamlLoader`` is PyYAML's ``SafeLoader`` (no Python objects, no custom tags) with three
changes that matter for call data:

* phone-like and zero-padded scalars (``+97231234567``, ``0501234567``) stay strings; YAML 1.1
  would turn them into integers (or octal), silently corrupting tenant routing;
* duplicate mapping keys are an error instead of "last one wins";
* alias expansion is bounded, so a "billion laughs" document cannot exhaust memory.

:func:`load_with_lines` returns the plain data plus a map from YAML path (``steps[3].ws``) to the
1-based line where that value starts, which every error message uses.
"""

from __future__ import annotations

import re

import yaml

from ..errors import ScenarioError

MAX_NODES = 2_000_000
_KEEP_AS_STRING = re.compile(r"^(\+\d[\d\s\-]*|0\d+)$")


class ScenarioYamlLoader(yaml.SafeLoader):
    """SafeLoader that keeps phone numbers as strings; see the module docstring."""


ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: (
    loader.construct_scalar(node) if _KEEP_AS_STRING.match(loader.construct_scalar(node) or "")
    else yaml.SafeLoader.construct_yaml_int(loader, node)))


def path_str(parts: tuple) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class LineMap(dict):
    """Maps a YAML path string to the 1-based line where its value starts."""

    def line_for(self, parts: tuple) -> int | None:
        parts = tuple(parts)
        while True:
            line = self.get(path_str(parts))
            if line is not None or not parts:
                return line
            parts = parts[:-1]


def load_with_lines(text: str, file: str) -> tuple[object, LineMap]:
    """Parse ``text`` safely; return the data and its line map, or raise a located ScenarioError."""
    try:
        loader = ScenarioYamlLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ScenarioError(f"not valid YAML: {exc.problem}", file=file,
                            line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}", file=file) from None
    if node is None:
        raise ScenarioError("the file is empty", file=file, expected="a mapping with at least 'name' and 'steps'")
    lines = LineMap()
    budget = [MAX_NODES]
    constructor = ScenarioYamlLoader("")

    def build(n: yaml.Node, parts: tuple):
        budget[0] -= 1
        if budget[0] < 0:
            raise ScenarioError("the document expands to too many values (alias bomb?)", file=file,
                                line=n.start_mark.line + 1)
        lines.setdefault(path_str(parts), n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            constructor.flatten_mapping(n)
            result = {}
            for key_node, value_node in n.value:
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    raise ScenarioError("mapping keys must be plain scalars", file=file,
                                        line=key_node.start_mark.line + 1, path=path_str(parts) or None)
                if key in result:
                    raise ScenarioError(f"duplicate key {key!r}", file=file, line=key_node.start_mark.line + 1,
                                        path=path_str(parts) or None, expected="each key once")
                result[key] = build(value_node, parts + (key,))
            return result
        if isinstance(n, yaml.SequenceNode):
            return [build(item, parts + (i,)) for i, item in enumerate(n.value)]
        try:
            return constructor.construct_object(n, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise ScenarioError(f"cannot read value: {exc.problem}", file=file, line=n.start_mark.line + 1,
                                path=path_str(parts) or None) from None

    data = build(node, ())
    constructor.dispose()
    return data, lines
