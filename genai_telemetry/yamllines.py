"""YAML files a person edits, read with each key's line so that every error can name it.

The one loader of the project's hand-edited YAML: rag-api's price table (genai_telemetry/
prices.yaml, read at start-up) and the generators' inputs (genai-obs.yaml, slo/*.yaml, through
genobs.yamlspec). It lives in this lowest layer because rag-api needs it and genai_telemetry
imports nothing of the generators. Each caller words the errors for its own file kind;
`YamlProblem` carries what they need: what went wrong, where (key path and line).

Beyond yaml.safe_load it refuses: bytes that are not UTF-8 (naming the line), a key given twice
(YAML says keys are unique; PyYAML keeps the last silently), a key that is not a scalar, an alias
inside the collection it names, aliases expanding past a bound (the billion-laughs file), a typed
scalar its constructor cannot build (`!!int abc`) and nesting deeper than Python's recursion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

KeyPath = tuple[str | int, ...]
Kind = Literal["read", "encoding", "syntax", "duplicate", "structure"]


@dataclass
class YamlProblem(Exception):
    """Why a file cannot be used: `kind` (read, encoding, syntax, duplicate key, structure),
    `problem` in words, and where: `line` (1-based; None when unknown) and the key `path`."""

    kind: Kind
    problem: str
    line: int | None = None
    path: KeyPath = ()

    def __str__(self) -> str:
        return self.problem


def load(path: Path, max_values: int) -> tuple[Any, dict[KeyPath, int]]:
    """`path`'s data (None for an empty document) and the line of every key and list item.

    `max_values` bounds the values built once aliases are expanded. Raises YamlProblem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblem("read", str(exc.strerror or exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise YamlProblem("encoding", f"not UTF-8 text (byte 0x{byte})", line) from None
    lines: dict[KeyPath, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None, lines
        return _Builder(lines, max_values).build(node, ()), lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlProblem("syntax", problem, mark.line + 1 if mark else None) from None
    except RecursionError:  # PyYAML's composer and our builder recurse once per level
        raise YamlProblem("structure", "nested too deeply") from None


class _Builder:
    """Plain data from a composed node, remembering lines; one instance per file."""

    def __init__(self, lines: dict[KeyPath, int], max_values: int) -> None:
        self.lines = lines
        self.max_values = max_values
        self.left = max_values
        self.within: set[int] = set()  # the collections being built above the current node
        self.built: set[int] = set()  # every node built once (a second time: an alias)

    def _fail(self, path: KeyPath, problem: str, line: int) -> YamlProblem:
        return YamlProblem("structure", problem, line, path)

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        line = node.start_mark.line + 1
        if id(node) in self.built:  # an alias: its node's mark is the anchor's; take the user's
            line = self.lines.get(path, self.lines.get(path[:-1], line))
        self.built.add(id(node))
        line = self.lines.setdefault(path, line)
        self.left -= 1
        if self.left < 0:
            what = f"more than {self.max_values} values once its aliases are expanded"
            raise self._fail(path, what, line)
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return self._scalar(node, path, line)
        if id(node) in self.within:
            raise self._fail(path, "an alias refers to a collection that contains it", line)
        self.within.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self.within.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                why = f"the key {_source(key_node)} is a {kind}; keys are names"
                raise self._fail(path, why, key_line)
            key = str(key_node.value)
            if key in out:
                raise YamlProblem("duplicate", "given twice", key_line, (*path, key))
            self.lines[(*path, key)] = key_line
            out[key] = self.build(value_node, (*path, key))
        return out

    def _scalar(self, node: yaml.Node, path: KeyPath, line: int) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node)  # type: ignore[arg-type]
        except yaml.YAMLError as exc:  # a tag no safe constructor knows: `!foo x`
            raise self._fail(path, str(getattr(exc, "problem", exc)), line) from None
        except (ValueError, TypeError):  # `!!int abc`: the constructor's int() fails
            kind = node.tag.rsplit(":", 1)[-1]
            raise self._fail(path, f"not a valid {kind}: {node.value!r}", line) from None
        finally:
            loader.dispose()


def _source(node: yaml.Node) -> str:
    """The node as written in the file (one line, shortened), for messages."""
    start, end = node.start_mark, node.end_mark
    text = start.buffer[start.index : end.index] if start.buffer is not None else ""
    text = " ".join(text.split()) or "?"
    return text if len(text) <= 40 else text[:37] + "..."
