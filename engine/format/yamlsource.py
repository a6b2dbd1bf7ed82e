"""YAML reading that remembers where every value came from and rejects duplicate keys.

PyYAML's `safe_load` forgets line numbers and silently keeps the last of two equal keys. We
compose the node tree with the safe loader (so no tag can construct arbitrary objects), then
build plain Python values ourselves while recording the position of every key and value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from guidekb.engine.errors import Problem, relative

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class YamlDocument:
    """A parsed YAML file: the data plus where each part of it was written."""

    file: str
    data: Any
    values: dict[PathKey, Position] = field(default_factory=dict)
    keys: dict[PathKey, Position] = field(default_factory=dict)

    def position(self, path: PathKey, prefer_key: bool = False) -> Position:
        """The position of the deepest part of `path` that exists in the file."""
        probe = tuple(path)
        while probe:
            table = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            for candidates in table:
                if probe in candidates:
                    return candidates[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))

    def problem(self, path: PathKey, message: str, hint: str = "", prefer_key: bool = False) -> Problem:
        pos = self.position(path, prefer_key)
        return Problem(self.file, pos.line, pos.column, message, hint)


class _Builder:
    def __init__(self, doc: YamlDocument, loader: yaml.SafeLoader) -> None:
        self.doc = doc
        self.loader = loader
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.doc.values[path] = Position(node.start_mark.line + 1, node.start_mark.column + 1)
        standard = {"MappingNode": "tag:yaml.org,2002:map", "SequenceNode": "tag:yaml.org,2002:seq"}
        kind = type(node).__name__
        if kind in standard and node.tag != standard[kind]:
            pos = self.doc.values[path]
            self.problems.append(Problem(self.doc.file, pos.line, pos.column,
                                         f"unsupported YAML value: tag {node.tag}",
                                         "only plain YAML scalars, lists and mappings are allowed"))
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            pos = self.doc.values[path]
            self.problems.append(
                Problem(self.doc.file, pos.line, pos.column, f"unsupported YAML value: {exc.problem}",
                        "only plain YAML scalars, lists and mappings are allowed")
            )
            return None

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<` merge keys the safe way
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, (*path, "<key>"))
            key_pos = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key, str | int | bool) or isinstance(key, bool):
                self.problems.append(Problem(self.doc.file, key_pos.line, key_pos.column,
                                             f"mapping key {key!r} is not a string",
                                             "write the key as plain text"))
                continue
            if key in first_seen:
                seen = first_seen[key]
                self.problems.append(Problem(
                    self.doc.file, key_pos.line, key_pos.column, f"duplicate key '{key}'",
                    f"'{key}' is already set at line {seen.line}; YAML would silently keep only "
                    "the last one, so remove or rename one of them"))
                continue
            first_seen[key] = key_pos
            self.doc.keys[(*path, key)] = key_pos
            result[key] = self.build(value_node, (*path, key))
        self.doc.values.pop((*path, "<key>"), None)
        return result


def load_yaml(path: Path) -> tuple[YamlDocument, list[Problem]]:
    """Parse one YAML file; syntax errors and duplicate keys come back as problems."""
    name = relative(path)
    doc = YamlDocument(file=name, data=None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return doc, [Problem(name, 1, 1, f"cannot read file: {exc}")]
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[YamlDocument, list[Problem]]:
    """Parse YAML text held in memory (used by `load_yaml` and by tests)."""
    doc = YamlDocument(file=name, data=None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        detail = exc.problem or "invalid YAML"
        hint = f"{exc.context} (line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        return doc, [Problem(name, line, col, f"YAML syntax error: {detail}",
                             hint or "check indentation, colons and quotes around this point")]
    except yaml.YAMLError as exc:
        return doc, [Problem(name, 1, 1, f"YAML error: {exc}")]
    if node is None:
        return doc, []
    builder = _Builder(doc, loader)
    doc.data = builder.build(node, ())
    loader.dispose()
    return doc, builder.problems
