"""YAML text to a node graph, refusing as soon as a limit is passed.

PyYAML's composer has no limits: a 370-byte "billion laughs" file (aliases of aliases) expands
to gigabytes, `a: &a [*a]` contains itself and recursion ends in RecursionError, and 500
levels of nesting exhaust the stack. This composer counts while it reads the event stream --
depth, keys, values, aliases, text length -- and stops at the first limit passed, then measures
what aliases would expand to without expanding them. Plain scalars are resolved by
`yamlscalars.resolve_plain` (YAML 1.2 core, narrowed), never by PyYAML's YAML 1.1 resolver.

The events come from libyaml when PyYAML was built with it (some twenty times faster), else
from PyYAML's pure-Python parser. When libyaml rejects the text, the pure-Python parser reads it
again, so a syntax error is always reported in the same words whichever is installed; the two
parsers' agreement on every file of the repository is a test (tests/test_yaml_safety.py).

Most files are composed faster still by libyaml's own composer under the same limits and
rules (`yamlfast`); this composer is the reference it is compared with, and it composes every
file the fast one declines or gives up on, so every refusal and syntax error is its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    Event,
    MappingEndEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from guidekb.engine.errors import INPUT_LIMIT, UNSUPPORTED_YAML, ErrorCode
from guidekb.engine.format.yamlfast import NOT_COMPOSED, compose_fast
from guidekb.engine.format.yamllimits import Limits
from guidekb.engine.format.yamlscalars import MAP_TAG, SEQ_TAG, STR_TAG, resolve_plain


class Refused(Exception):
    """A limit or rule broken while composing, at a place in the file (1-based)."""

    def __init__(self, mark: Any, message: str, hint: str, code: ErrorCode = INPUT_LIMIT) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else 1
        self.column = mark.column + 1 if mark is not None else 1
        self.message, self.hint, self.code = message, hint, code


class _EventSource(Protocol):
    def check_event(self, *choices: type[Event]) -> bool: ...
    def peek_event(self) -> Any: ...
    def get_event(self) -> Any: ...
    def dispose(self) -> None: ...


class _PythonParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python parser alone: events, no composing or constructing."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)

    def dispose(self) -> None:
        self.states = []
        self.state = None


def _libyaml_parser() -> Callable[[str], _EventSource] | None:
    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML built without libyaml
        return None
    parser: Callable[[str], _EventSource] = CParser
    return parser


LIBYAML = _libyaml_parser()


class _Composer:
    """Events to nodes, counting as it goes; `Refused` at the first limit passed."""

    def __init__(self, events: _EventSource, limits: Limits) -> None:
        self.events = events
        self.limits = limits
        self.anchors: dict[str, Node] = {}
        self.depth = self.keys = self.values = self.aliases = 0

    def document(self) -> Node | None:
        """The single document of the stream, or None when the stream is empty."""
        events = self.events
        events.get_event()  # stream start
        node = None
        if not events.check_event(StreamEndEvent):
            events.get_event()  # document start
            node = self.node()
            events.get_event()  # document end
        if not events.check_event(StreamEndEvent):
            event = events.get_event()
            raise ComposerError("expected a single document in the stream",
                                node.start_mark if node else None, "but found another document",
                                event.start_mark)
        return node

    def node(self, is_key: bool = False) -> Node:
        limits = self.limits
        event = self.events.peek_event()
        self.values += 1
        if self.values > limits.max_values:
            raise Refused(event.start_mark, f"too many values: more than {limits.max_values:,} in "
                          f"one {limits.what}", "split the file, or check that it is the file "
                          "you meant")
        if is_key:
            self.keys += 1
            if self.keys > limits.max_keys:
                raise Refused(event.start_mark, f"too many keys: more than {limits.max_keys:,} in "
                              f"one {limits.what}", "split the file, or check that it is the file "
                              "you meant")
        if isinstance(event, AliasEvent):
            return self._alias(event)
        if not isinstance(event, NodeEvent):  # cannot happen: the parser guarantees a node here
            raise ComposerError(None, None, "expected a node", event.start_mark)
        if event.anchor is not None:
            self._check_anchor(event)
        self.depth += 1
        if self.depth > limits.max_depth:
            raise Refused(event.start_mark, f"nesting too deep: more than {limits.max_depth} "
                          "levels of lists and mappings", "flatten the structure; no guidekb "
                          "file needs this depth")
        try:
            if isinstance(event, ScalarEvent):
                return self._scalar(event)
            if isinstance(event, SequenceStartEvent):
                return self._sequence(event)
            return self._mapping(event)
        finally:
            self.depth -= 1

    def _alias(self, event: Any) -> Node:
        self.events.get_event()
        limits = self.limits
        if limits.max_aliases == 0:
            raise Refused(event.start_mark, f"aliases (*{event.anchor}) are not allowed in a "
                          f"{limits.what}", "write the value out in full", UNSUPPORTED_YAML)
        self.aliases += 1
        if self.aliases > limits.max_aliases:
            raise Refused(event.start_mark, f"too many aliases: more than {limits.max_aliases} in "
                          f"one {limits.what}", "write the values out in full")
        if event.anchor not in self.anchors:
            raise ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                event.start_mark)
        return self.anchors[event.anchor]

    def _check_anchor(self, event: Any) -> None:
        if self.limits.max_aliases == 0:
            raise Refused(event.start_mark, f"anchors (&{event.anchor}) are not allowed in a "
                          f"{self.limits.what}", "write each value out in full", UNSUPPORTED_YAML)
        if event.anchor in self.anchors:
            raise ComposerError(f"found duplicate anchor {event.anchor!r}; first occurrence",
                                self.anchors[event.anchor].start_mark, "second occurrence",
                                event.start_mark)

    def _register(self, event: Any, node: Node) -> None:
        if event.anchor is not None:
            self.anchors[event.anchor] = node

    def _scalar(self, event: Any) -> Node:
        self.events.get_event()
        value: str = event.value
        if len(value) > self.limits.max_string:
            raise Refused(event.start_mark, f"text too long: {len(value):,} characters; the limit "
                          f"for one value in a {self.limits.what} is {self.limits.max_string:,}",
                          "shorten it, or check that it is the file you meant")
        tag = event.tag
        if tag == "!":  # the non-specific tag: text, whatever it looks like
            tag = STR_TAG
        elif tag is None:
            tag = resolve_plain(value) if event.implicit[0] else STR_TAG
        node = ScalarNode(tag, value, event.start_mark, event.end_mark, style=event.style)
        self._register(event, node)
        return node

    def _sequence(self, event: Any) -> Node:
        self.events.get_event()
        tag = SEQ_TAG if event.tag in (None, "!") else event.tag
        node = SequenceNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
        self._register(event, node)
        while not self.events.check_event(SequenceEndEvent):
            node.value.append(self.node())
        node.end_mark = self.events.get_event().end_mark
        return node

    def _mapping(self, event: Any) -> Node:
        self.events.get_event()
        tag = MAP_TAG if event.tag in (None, "!") else event.tag
        node = MappingNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
        self._register(event, node)
        while not self.events.check_event(MappingEndEvent):
            key = self.node(is_key=True)
            node.value.append((key, self.node()))
        node.end_mark = self.events.get_event().end_mark
        return node


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_expansion(root: Node, limits: Limits) -> None:
    """Refuse a node graph (aliases make the tree a graph) that contains itself, or that would
    expand to more values or deeper nesting than `limits` allow. Nothing is expanded: the size
    and height of each shared node are computed once, so a "billion laughs" file costs as
    much as its few dozen nodes."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)
    inside: set[int] = set()  # the nodes on the path from the root

    def too_deep(node: Node) -> Refused:
        return Refused(node.start_mark, "nesting too deep once aliases are expanded: more than "
                       f"{limits.max_depth} levels of lists and mappings",
                       "write the values out in full, with less nesting")

    def measure(node: Node, depth: int) -> tuple[int, int]:
        if id(node) in inside:
            raise Refused(node.start_mark, "an alias refers to a value that contains it: the "
                          "value would never end", "write the value out in full",
                          UNSUPPORTED_YAML)
        if depth > limits.max_depth:  # also bounds this recursion
            raise too_deep(node)
        if id(node) not in measured:
            inside.add(id(node))
            size, height = 1, 1
            for child in _children(node):
                child_size, child_height = measure(child, depth + 1)
                size, height = size + child_size, max(height, child_height + 1)
                if size > limits.max_values:
                    raise Refused(node.start_mark, f"aliases expand to more than "
                                  f"{limits.max_values:,} values in one {limits.what}",
                                  "each alias repeats its anchor's whole value; write the "
                                  "values out in full")
            inside.discard(id(node))
            measured[id(node)] = (size, height)
        size, height = measured[id(node)]
        if depth + height - 1 > limits.max_depth:
            raise too_deep(node)
        return size, height

    measure(root, 1)


def compose(text: str, limits: Limits) -> Node | None:
    """The node graph of `text` (None for an empty document), else `Refused` or a
    yaml.YAMLError. `text` must already be free of control characters (textfiles).

    libyaml's own composer (`yamlfast`) makes the graph when it can do so within the same
    rules; whenever it declines or gives up, the graph, refusal or syntax error comes from
    `compose_events`, as it always did."""
    if LIBYAML is not None:
        node = compose_fast(text, limits)
        if node is not NOT_COMPOSED:
            return node
    return compose_events(text, limits)


# A syntax error libyaml found is read again by the pure-Python parser only in a file up to
# this size, for its more specific words ("expected ',' or ']', but got ':'" where libyaml says
# "did not find expected ',' or ']'"; both give the same line and column). That parser reads
# about 50 KiB a second: a 1 MiB file broken at its end took 20 s to report. Authored files
# are far smaller (the largest HSV rules file is 12 KiB), so they keep the specific words.
REREAD_LIMIT = 64 * 1024


def compose_events(text: str, limits: Limits) -> Node | None:
    """`compose` by this module's composer alone, from libyaml's events (or the pure-Python
    parser's): the reference `yamlfast` is compared with."""
    if LIBYAML is not None:
        try:
            return _compose_with(LIBYAML(text), limits)
        except yaml.YAMLError:
            if len(text) > REREAD_LIMIT:
                raise  # libyaml's own words, at the same line and column: see REREAD_LIMIT
            # read again below, so that the message is worded as it always is
    parser = _PythonParser(text)
    try:
        return _compose_with(parser, limits)
    except ValueError as exc:
        # PyYAML's scanner turns "\U01000010" into chr(0x1000010) unchecked (libyaml refuses it)
        if not str(exc).startswith("chr()"):
            raise
        raise yaml.scanner.ScannerError(
            "while scanning a double-quoted scalar", None,
            "found an escape beyond the last Unicode character",
            parser.get_mark()) from None


def _compose_with(events: _EventSource, limits: Limits) -> Node | None:
    composer = _Composer(events, limits)
    try:
        node = composer.document()
    finally:
        events.dispose()
    if node is not None and composer.aliases:
        check_expansion(node, limits)
    return node
