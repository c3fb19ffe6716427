"""A YAML loader for untrusted scenario files that remembers where every value came from.

``ScenarioYamlLoader`` is PyYAML's ``SafeLoader`` (no Python objects, no custom tags) with these
changes that matter for call data and hostile files:

* phone-like and zero-padded scalars (``+97231234567``, ``0501234567``) stay strings; YAML 1.1
  would turn them into integers (or octal), silently corrupting tenant routing;
* duplicate mapping keys are an error instead of "last one wins" (a merge key's values may be
  overridden, as the YAML merge spec says);
* alias expansion, nesting depth, self-referencing aliases, integer length and text that is not
  valid Unicode (lone surrogates) are bounded or refused, so no document can exhaust memory, the
  stack or a later writer;
* only the standard YAML tags are read: any other tag (``!!python/...``) is refused wherever it is,
  on a scalar, a sequence, a mapping or a key;
* mapping keys are the text the author wrote (``1:`` is the key ``"1"``), so keys never mix types.

:func:`load_with_lines` returns the plain data plus a map from YAML path (``steps[3].ws``) to the
1-based line where that value starts, which every error message uses.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError

MAX_NODES = 2_000_000
MAX_DEPTH = 64
MAX_INT_DIGITS = 100
_KEEP_AS_STRING = re.compile(r"^(\+\d[\d\s\-]*|0\d+)$")
_STANDARD_TAGS = frozenset("tag:yaml.org,2002:" + t for t in (
    "str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge", "binary", "set", "omap", "pairs"))
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class ScenarioYamlLoader(yaml.SafeLoader):
    """SafeLoader that keeps phone numbers as strings and bounds nesting; see the module docstring."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    text = loader.construct_scalar(node) or ""
    if _KEEP_AS_STRING.match(text):
        return text
    if len(text) > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(None, None, f"an integer of {len(text)} characters", node.start_mark)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


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


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _line_of_position(text: str, position: int | None) -> int:
    return text.count("\n", 0, position or 0) + 1


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        loader = ScenarioYamlLoader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except _TooDeep as exc:
        raise ScenarioError(f"values are nested more than {MAX_DEPTH} levels deep", file=file, line=exc.line,
                            expected="a flatter document") from None
    except yaml.reader.ReaderError as exc:
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise ScenarioError(f"not valid YAML: the character {char} is not allowed in YAML text", file=file,
                            line=_line_of_position(text, exc.position),
                            expected="printable text (write control characters as \\x escapes)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioError(f"not valid YAML: {_one_line(exc.problem or exc.context)}", file=file,
                            line=mark.line + 1 if mark else 1) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {_one_line(exc)}", file=file, line=1) from None
    except RecursionError:
        raise ScenarioError("values are nested too deeply", file=file, line=1, expected="a flatter document") from None


_Pair = tuple[yaml.Node, yaml.Node]


class _Builder:
    """Turns a composed node tree into plain data, recording lines and refusing hostile shapes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines = LineMap()
        self.budget = MAX_NODES
        self.active: set[int] = set()
        self.constructor = ScenarioYamlLoader("")

    def fail(self, node: yaml.Node, parts: tuple, message: str, expected: str | None = None) -> ScenarioError:
        return ScenarioError(message, file=self.file, line=node.start_mark.line + 1, path=path_str(parts) or None,
                             expected=expected)

    def check_tag(self, node: yaml.Node, parts: tuple) -> None:
        if node.tag not in _STANDARD_TAGS:
            raise self.fail(node, parts, f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')!r} is not allowed",
                            "plain YAML values (Python and custom tags are refused)")

    def build(self, node: yaml.Node, parts: tuple) -> object:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, parts, "the document expands to too many values (alias bomb?)",
                            f"at most {MAX_NODES} values")
        if len(parts) > MAX_DEPTH:
            raise self.fail(node, parts, f"values are nested more than {MAX_DEPTH} levels deep", "a flatter document")
        self.check_tag(node, parts)
        self.lines.setdefault(path_str(parts), node.start_mark.line + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if id(node) in self.active:
                raise self.fail(node, parts, "an alias refers to a value that contains it", "an alias to an earlier, "
                                "finished value")
            self.active.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self.mapping(node, parts)
                return [self.build(item, parts + (i,)) for i, item in enumerate(node.value)]
            finally:
                self.active.discard(id(node))
        return self.scalar(node, parts)

    def scalar(self, node: yaml.Node, parts: tuple) -> object:
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise self.fail(node, parts, f"cannot read value: {_one_line(exc.problem)}") from None
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            raise self.fail(node, parts, f"cannot read value {_one_line(node.value)[:40]!r} as "
                            f"{node.tag.rsplit(':', 1)[-1]} ({_one_line(exc)[:80]})") from None
        if isinstance(value, str) and _has_surrogate(value):
            raise self.fail(node, parts, "the text holds a lone surrogate escape (\\ud800-\\udfff)",
                            "valid Unicode text")
        if isinstance(value, (bytes, set)) or node.tag.endswith((":omap", ":pairs", ":set")):
            raise self.fail(node, parts, f"a {node.tag.rsplit(':', 1)[-1]} value is not supported",
                            "text, numbers, booleans, lists and mappings")
        return value

    def key(self, node: yaml.Node, parts: tuple) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, parts, "mapping keys must be plain scalars", "a text key")
        self.check_tag(node, parts)
        text = str(node.value)
        if _has_surrogate(text):
            raise self.fail(node, parts, "the key holds a lone surrogate escape", "valid Unicode text")
        return text

    def own_and_merged(self, node: yaml.MappingNode, parts: tuple) -> tuple[list[_Pair], list[_Pair]]:
        """A mapping's own pairs, and the pairs its ``<<`` keys bring in (earlier sources first)."""
        own: list[_Pair] = []
        merged: list[_Pair] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self.merge_pairs(value_node, parts))
            else:
                own.append((key_node, value_node))
        return own, merged

    def mapping(self, node: yaml.MappingNode, parts: tuple) -> dict:
        own, merged = self.own_and_merged(node, parts)
        result: dict[str, _Pair] = {}
        for key_node, value_node in merged:    # earlier merge sources win; the mapping's own keys override all
            key = self.key(key_node, parts)
            result.setdefault(key, (key_node, value_node))
        seen: set[str] = set()
        for key_node, value_node in own:
            key = self.key(key_node, parts)
            if key in seen:
                raise self.fail(key_node, parts, f"duplicate key {key!r}", "each key once")
            seen.add(key)
            result[key] = (key_node, value_node)
        return {key: self.build(pair[1], parts + (key,)) for key, pair in result.items()}

    def merge_pairs(self, value: yaml.Node, parts: tuple) -> list[_Pair]:
        """The pairs a ``<<`` key brings in, earlier sources first (they take precedence)."""
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        pairs: list[_Pair] = []
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise self.fail(source, parts, "a merge key '<<' needs a mapping or a list of mappings",
                                "<<: *anchor or <<: [*a, *b]")
            if id(source) in self.active:
                raise self.fail(source, parts, "a merge refers to the mapping that contains it", "an earlier mapping")
            self.active.add(id(source))
            try:
                inner_own, inner_merged = self.own_and_merged(source, parts)
                pairs.extend(inner_own + inner_merged)
            finally:
                self.active.discard(id(source))
        return pairs


def load_with_lines(text: str, file: str) -> tuple[object, LineMap]:
    """Parse ``text`` safely; return the data and its line map, or raise a located ScenarioError."""
    node = _compose(text, file)
    if node is None:
        raise ScenarioError("the file is empty", file=file, line=1,
                            expected="a mapping with at least 'name' and 'steps'")
    builder = _Builder(file)
    try:
        data = builder.build(node, ())
    except RecursionError:
        raise ScenarioError("values are nested too deeply", file=file, line=1, expected="a flatter document") from None
    finally:
        builder.constructor.dispose()
    return data, builder.lines


MAX_SIDE_YAML_BYTES = 16 * 1024 * 1024


def load_side_yaml(path: Path) -> object:
    """A YAML input other than a scenario (``--businesses``, ``--format``) read with the same protections:
    a regular file of bounded size, UTF-8, and everything :func:`load_with_lines` refuses."""
    try:
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ScenarioError("not a regular file", file=str(path), line=1, expected="a YAML file")
            raw = fh.read(MAX_SIDE_YAML_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", file=str(path), line=1) from None
    if len(raw) > MAX_SIDE_YAML_BYTES:
        raise ScenarioError(f"the file is larger than {MAX_SIDE_YAML_BYTES} bytes", file=str(path), line=1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("the file is not UTF-8 text", file=str(path), line=1) from None
    return load_with_lines(text, str(path))[0]
