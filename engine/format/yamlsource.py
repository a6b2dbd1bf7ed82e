"""The one way guidekb reads YAML: safe scalars, bounded input, and where every value came from.

Every case file and knowledge-base file is read here (`load_yaml`, or `parse_yaml` for text
in memory), and the reading fails closed -- every way a file can be wrong is a located problem,
never a traceback, a hang or a silently changed value:

- the file: a regular file, within a size limit, strict UTF-8, no control characters
  (`textfiles`);
- the structure: depth, keys, values, aliases and text length within `Limits`, checked while
  parsing, so that a 370-byte "billion laughs" file is refused without being expanded; anchors
  and aliases are refused in case files (`yamlcompose`; most files are composed by libyaml's
  own composer under the same limits and rules, `yamlfast`, and the rest, with every refusal
  and syntax error, by `yamlcompose`'s);
- the scalars: YAML 1.2 core, narrowed -- `010`, `0x0E`, `1:30`, `1_0`, `1.5` are refused
  with a hint, `yes`/`on` are text, not booleans (`yamlscalars`);
- only plain data: explicit tags other than `!!str` and merge keys (`<<`) are refused, and so
  are control characters written as escapes in quoted text (`"\\e[2J"`);
- positions are recorded for every key and value, and a duplicate key is a problem (PyYAML's
  `safe_load` forgets positions and silently keeps the last of two equal keys).

The figures and rules are in docs/reliability.md; tests/test_yaml_safety.py and
tests/test_fuzz.py test them, and tests/test_yaml_fast_compose.py that the fast reading is
the reading it replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from guidekb.engine.errors import (
    CONTROL_CHARACTER,
    DUPLICATE_KEY,
    INPUT_LIMIT,
    KEY_NOT_TEXT,
    UNCLASSIFIED,
    UNSUPPORTED_YAML,
    YAML_SYNTAX,
    ErrorCode,
    Problem,
    relative,
)
from guidekb.engine.format.paths import dotted, owned
from guidekb.engine.format.textfiles import (
    FORBIDDEN_IN_VALUE,
    TextRefused,
    check_characters,
    describe_character,
    read_text,
)
from guidekb.engine.format.yamlcompose import Refused, compose
from guidekb.engine.format.yamlfast import collection_paused
from guidekb.engine.format.yamllimits import CASE_LIMITS, KB_LIMITS, Limits
from guidekb.engine.format.yamlscalars import (
    MAP_TAG,
    MERGE_TAG,
    SEQ_TAG,
    STR_TAG,
    construct,
    shown,
    unsupported_tag,
)

__all__ = ["CASE_LIMITS", "KB_LIMITS", "Limits", "PathKey", "Position", "YamlDocument",
           "load_yaml", "parse_yaml"]

PathKey = tuple[str | int, ...]


class Position(NamedTuple):
    """Where a key or value starts in its file, 1-based. A named tuple, not a dataclass: one is
    made for every key and value of every file read (130,000 in the 2,000-rule benchmark),
    and `tuple.__new__` makes one in a quarter of the time a frozen dataclass takes."""

    line: int
    column: int


_new = tuple.__new__  # _new(Position, (line, column)): Position(line, column), without the call


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

    def problem(self, path: PathKey, message: str, hint: str = "", prefer_key: bool = False,
                code: ErrorCode = UNCLASSIFIED) -> Problem:
        pos = self.position(path, prefer_key)
        return Problem(self.file, pos.line, pos.column, message, hint, code=code,
                       path=dotted(path) if path else "", where=owned(self.data, path) if path else "")


_control = FORBIDDEN_IN_VALUE.search


class _Builder:
    """Nodes to plain Python values, recording the position of every key and value.

    Written for speed (it visits every node of every file: 80,000 in the 2,000-rule
    benchmark): text values and text keys, nearly all of a file, take a short path; anything
    else goes the general way. tests/test_yaml_fast_compose.py checks it against the plain
    version it replaced."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.values = doc.values
        self.keys = doc.keys
        self.problems: list[Problem] = []

    def report(self, node: Node, message: str, hint: str, code: ErrorCode) -> None:
        self.problems.append(Problem(self.doc.file, node.start_mark.line + 1,
                                     node.start_mark.column + 1, message, hint, code=code))

    def build(self, node: Node, path: PathKey) -> Any:
        mark = node.start_mark
        self.values[path] = _new(Position, (mark.line + 1, mark.column + 1))
        if node.__class__ is ScalarNode and node.tag == STR_TAG and _control(node.value) is None:
            return node.value  # text, as `_scalar` would return it
        if isinstance(node, MappingNode):
            return self._mapping(node, path) if node.tag == MAP_TAG else self._unsupported(node)
        if isinstance(node, SequenceNode):
            return self._sequence(node, path) if node.tag == SEQ_TAG else self._unsupported(node)
        return self._scalar(node)

    def _sequence(self, node: SequenceNode, path: PathKey) -> list[Any]:
        result: list[Any] = []
        values, build = self.values, self.build
        for i, item in enumerate(node.value):
            if item.__class__ is ScalarNode and item.tag == STR_TAG and _control(item.value) is None:
                mark = item.start_mark  # `build`'s short path, without the call
                values[(*path, i)] = _new(Position, (mark.line + 1, mark.column + 1))
                result.append(item.value)
            else:
                result.append(build(item, (*path, i)))
        return result

    def _scalar(self, node: Node) -> Any:
        value, refusal = construct(node.tag, str(node.value))
        if refusal is not None:
            self.report(node, *refusal)
        elif isinstance(value, str):
            bad = FORBIDDEN_IN_VALUE.search(value)
            if bad:
                self.report(node, f"control character {describe_character(bad.group())} in a "
                            "value is not allowed", "escapes such as \\e, \\x1b, \\0 or \\r "
                            "in quoted text are refused; write the text without them",
                            CONTROL_CHARACTER)
                return None
        return value

    def _unsupported(self, node: Node) -> None:
        self.report(node, *unsupported_tag(node.tag))

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        values, keys, problems, build = self.values, self.keys, self.problems, self.build
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            key_pos = _new(Position, (mark.line + 1, mark.column + 1))
            tag = key_node.tag
            if tag == MERGE_TAG:
                self.report(key_node, "merge keys ('<<') are not supported",
                            "write the keys out in full (YAML 1.2 has no merge keys)",
                            UNSUPPORTED_YAML)
                continue
            if key_node.__class__ is ScalarNode and tag == STR_TAG and _control(key_node.value) is None:
                key = key_node.value  # what `build` returns for it (its position is dropped below)
            else:
                reported = len(problems)
                key = build(key_node, (*path, "<key>"))
                if len(problems) > reported:  # the key itself was refused
                    continue
                if not isinstance(key, str | int) or isinstance(key, bool):
                    problems.append(Problem(self.doc.file, key_pos.line, key_pos.column,
                                            f"mapping key {shown(repr(key))} is not a string",
                                            "write the key as plain text", code=KEY_NOT_TEXT))
                    continue
            here = (*path, key)
            if key in result:
                seen, name = keys[here], shown(str(key))
                problems.append(Problem(
                    self.doc.file, key_pos.line, key_pos.column, f"duplicate key '{name}'",
                    f"'{name}' is already set at line {seen.line}; YAML would silently keep only "
                    "the last one, so remove or rename one of them", code=DUPLICATE_KEY))
                continue
            keys[here] = key_pos
            if value_node.__class__ is ScalarNode and value_node.tag == STR_TAG \
                    and _control(value_node.value) is None:
                mark = value_node.start_mark  # `build`'s short path, without the call
                values[here] = _new(Position, (mark.line + 1, mark.column + 1))
                result[key] = value_node.value
            else:
                result[key] = build(value_node, here)
        values.pop((*path, "<key>"), None)
        return result


def load_yaml(path: Path, limits: Limits = KB_LIMITS) -> tuple[YamlDocument, list[Problem]]:
    """Read and parse one YAML file; every way it can be wrong comes back as a problem."""
    name = str(Path(relative(path.parent)) / path.name)  # a link named as written, not its target
    try:
        text = read_text(path, limits.max_bytes, limits.what)
    except TextRefused as refused:
        return YamlDocument(file=name, data=None), [_refusal(name, refused)]
    return parse_yaml(text, name, limits)


def parse_yaml(text: str, name: str, limits: Limits = KB_LIMITS) -> tuple[YamlDocument, list[Problem]]:
    """Parse YAML text held in memory (used by `load_yaml`, by API callers and by tests)."""
    with collection_paused():  # a third of the time went to collections that freed nothing
        return _parse(text, name, limits)


def _parse(text: str, name: str, limits: Limits) -> tuple[YamlDocument, list[Problem]]:
    doc = YamlDocument(file=name, data=None)
    try:
        if len(text) > limits.max_bytes or len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
            raise TextRefused(f"text too large: the limit for a {limits.what} is "
                              f"{limits.max_bytes:,} bytes", "split it into smaller files",
                              INPUT_LIMIT)
        node = compose(check_characters(text), limits)
    except TextRefused as refused:
        return doc, [_refusal(name, refused)]
    except Refused as refused:
        return doc, [Problem(name, refused.line, refused.column, refused.message, refused.hint,
                             code=refused.code)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        opened = exc.context_mark.line + 1 if exc.context_mark else None
        detail, hint = syntax_words(exc.problem or "", exc.context or "", opened)
        return doc, [Problem(name, line, col, f"YAML syntax error: {detail}", hint, code=YAML_SYNTAX)]
    except yaml.YAMLError:
        return doc, [Problem(name, 1, 1, "YAML syntax error: the file could not be read as YAML",
                             "check indentation, colons and quotes", code=YAML_SYNTAX)]
    if node is None:
        return doc, []
    builder = _Builder(doc)
    doc.data = builder.build(node, ())
    return doc, builder.problems


# --- the parser's words, said in the author's ----------------------------------------------------

# What PyYAML calls the construct it was reading ("while parsing a block mapping"), as an
# author would name it, to say where the trouble began.
_OPENED: tuple[tuple[str, str], ...] = (
    ("flow sequence", "the [...] list"), ("flow mapping", "the {...} mapping"),
    ("block collection", "the list"), ("block mapping", "the mapping"),
    ("quoted scalar", "the quoted text"), ("simple key", "the key"), ("node", "the value"),
)
# What PyYAML found, in words: '<block mapping start>' is a key, '<scalar>' a value, ...
_FOUND: dict[str, str] = {
    "?": "a key", "<block mapping start>": "a key", "<block sequence start>": "a list item",
    "-": "a list item", "<block entry>": "a list item", "<scalar>": "more text",
    "<stream end>": "the end of the file", "]": "a ']'", "}": "a '}'", ",": "a ','",
}
_EXPECTED_BLOCK_END = re.compile(r"expected <block end>, but found '(.*)'")
# libyaml says "did not find expected ',' or ']'", PyYAML "expected ',' or ']', but got ..."
_UNCLOSED_FLOW = re.compile(r"(?:did not find )?expected ',' or '([\]}])'(?:, but got '.*')?")
_NODE_CONTENT = re.compile(r"expected the node content, but found '(.*)'")
_CANNOT_START = re.compile(r"found character '(.*)' that cannot start any token")
_UNKNOWN_ESCAPE = re.compile(r"found unknown escape character '?([^']*)'?")
_UNDEFINED_ALIAS = re.compile(r"found undefined alias '(.*)'")


def syntax_words(problem: str, context: str, opened: int | None) -> tuple[str, str]:
    """(what is wrong, how to fix it) for a YAML syntax error, in the words of someone
    writing the file rather than of the parser ("expected <block end>, but found '<block
    mapping start>' while parsing a block mapping" is a key that does not line up)."""
    what = next((words for key, words in _OPENED if key in context), "")
    where = f"{what} that starts at line {opened}" if what and opened else "the lines above"
    if "'\\t'" in problem or "tab character" in problem:  # a tab where YAML allows none
        return ("a tab character, which YAML does not allow here",
                "indent with spaces, not tabs (set your editor to insert spaces in YAML files)")
    if problem in ("mapping values are not allowed here",  # PyYAML's words, then libyaml's
                   "mapping values are not allowed in this context"):
        return ("a ':' where no key can start",
                "if the value holds ': ', put it in quotes (title: \"Dose: 400 mg\"); if this is "
                "a key, indent it like the keys of its mapping (and give the line above its ':')")
    if found := _EXPECTED_BLOCK_END.fullmatch(problem):
        thing = _FOUND.get(found.group(1), f"'{found.group(1)}'")
        if found.group(1) == "<scalar>":
            return ("more text after a quoted value",
                    "a quoted value ends at its closing quote: put the whole value in quotes; inside "
                    "single quotes write a quote twice ('it''s')")
        if found.group(1) in ("]", "}"):
            return f"{thing} with no opening bracket", "remove it, or open the list or mapping it closes"
        return (f"{thing} that does not line up with {where}",
                "the keys of one mapping start in the same column, and the '- ' of one list too")
    if found := _UNCLOSED_FLOW.fullmatch(problem):
        bracket = found.group(1)
        kind, opening = ("list", "[") if bracket == "]" else ("mapping", "{")
        line = f" at line {opened}" if opened else ""
        return (f"the {opening}...{bracket} {kind} opened{line} is not closed",
                f"close it with '{bracket}'; separate its items with commas")
    if problem == "found unexpected end of stream" and "quoted" in context:
        return (f"the quoted text that starts at line {opened} is never closed" if opened
                else "a quoted text is never closed", "add the closing quote")
    if found := _NODE_CONTENT.fullmatch(problem):
        thing = _FOUND.get(found.group(1), f"'{found.group(1)}'")
        return f"a value was expected here, not {thing}", "write the value, or remove the key"
    if found := _CANNOT_START.fullmatch(problem):
        char = found.group(1)
        return (f"a value cannot start with '{char}' unquoted",
                f"put the value in quotes: \"{char}...\"")
    if problem == "found an escape beyond the last Unicode character":
        return ("an escape '\\U...' beyond the last Unicode character, \\U0010FFFF",
                "write the character itself, or use single quotes, where a backslash is plain text")
    if found := _UNKNOWN_ESCAPE.fullmatch(problem):
        return (f"unknown escape '\\{found.group(1)}' in double-quoted text",
                "write \\\\ for a backslash, or use single quotes, where a backslash is plain text")
    if problem == "could not find expected ':'":
        return ("a line with no ':' where a key was expected",
                "write 'key: value'; a value that goes on over several lines goes in quotes or "
                "after '>-'")
    if found := _UNDEFINED_ALIAS.fullmatch(problem):
        return (f"'*{found.group(1)}' refers to an anchor '&{found.group(1)}' defined nowhere above",
                "write the value out in full")
    if "another document" in problem:
        return ("a second document ('---') in the file",
                "a guidekb file holds one document: remove the '---' line, or move what follows "
                "it to a file of its own")
    if "<document start>" in problem:
        return ("the first line is indented and the next ones are not",
                "start the top-level keys in the first column")
    if problem == "did not find expected key":
        return (f"a line that does not continue {where}", "check its indentation and its 'key: value'")
    if problem == "did not find expected '-' indicator":
        return (f"a line that does not continue {where}",
                "every item of a list starts with '- ' in the same column")
    said = problem or "the file could not be read as YAML"
    return said, f"check indentation, colons and quotes around this point (in {where})" if what \
        else "check indentation, colons and quotes around this point"


def _refusal(name: str, refused: TextRefused) -> Problem:
    return Problem(name, refused.line, refused.column, refused.message, refused.hint,
                   code=refused.code)
