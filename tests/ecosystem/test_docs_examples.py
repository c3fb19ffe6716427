"""Every Python example in docs/api.md and docs/pytest.md runs as written, from the repository root."""

from __future__ import annotations

import re

import pytest

from .helpers import REPO

_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _examples(name: str) -> list[str]:
    return _BLOCK.findall((REPO / "docs" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("index", range(len(_examples("api.md"))))
def test_api_examples_run(index, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    exec(compile(_examples("api.md")[index], f"docs/api.md example {index + 1}", "exec"), {})


def test_every_public_name_is_documented():
    import callreplay

    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in callreplay.__all__ if name != "__version__" and f"`{name}" not in text]
    assert missing == []


def test_pytest_page_fixture_examples_pass(tmp_path, monkeypatch):
    from callreplay.pytest_fixtures import Replayer

    monkeypatch.chdir(REPO)
    (block,) = _examples("pytest.md")
    namespace: dict = {}
    exec(compile(block, "docs/pytest.md example", "exec"), namespace)
    tests = [fn for name, fn in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test(Replayer(tmp_path))
