"""libyaml's composer (engine/format/yamlfast.py) reads every file exactly as the Python one did.

The fast reading of a YAML file is two changes: the node graph comes from PyYAML's C composer
with guidekb's limits and scalar rules in its hooks (`yamlfast.compose_fast`), and the
builder takes a short path for text. Both are compared here with the reading they replaced:
`yamlcompose.compose_events` (kept: it is also what the fast composer falls back on) and the
builder as it was (`ReferenceBuilder` below, verbatim). Compared: every node's kind, tag,
value, style, start and end (line and column); every value, key position and problem of the
parse. On every YAML file of the repository, the fixture knowledge bases the tests write, the
benchmark's synthetic knowledge base, and Hypothesis-generated documents, valid and broken,
under tight limits too. The last tests mutate the fast reading (a line off by one, a column,
a scalar's meaning) and check that the comparison notices.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

import guidekb.engine.format.yamlcompose as yamlcompose
import guidekb.engine.format.yamlsource as yamlsource
from guidekb.engine.errors import (
    CONTROL_CHARACTER,
    DUPLICATE_KEY,
    KEY_NOT_TEXT,
    UNSUPPORTED_YAML,
    ErrorCode,
    Problem,
)
from guidekb.engine.format.textfiles import FORBIDDEN_IN_VALUE, describe_character
from guidekb.engine.format.yamlcompose import compose_events
from guidekb.engine.format.yamlfast import NOT_COMPOSED, composable, compose_fast
from guidekb.engine.format.yamllimits import CASE_LIMITS, KB_LIMITS, Limits
from guidekb.engine.format.yamlscalars import (
    _DECIMAL,
    _LEADING_ZERO,
    _NUMBER_KINDS,
    _NUMBER_START,
    AMBIGUOUS_TAG,
    FALSE_TAG,
    INT_TAG,
    MAP_TAG,
    MERGE_TAG,
    NULL_TAG,
    SEQ_TAG,
    STR_TAG,
    TRUE_TAG,
    construct,
    resolve_plain,
    shown,
    unsupported_tag,
)
from guidekb.engine.format.yamlsource import PathKey, Position, YamlDocument, parse_yaml
from tests.conftest import ROOT
from tests.fuzzing import NASTY_SNIPPETS
from tests.minikb import write_mini_kb
from tests.negationkb import write_negation_kb
from tests.symkb import write_operator_kb
from tests.visualize_kb import write_kb

pytestmark = pytest.mark.skipif(yamlcompose.LIBYAML is None, reason="PyYAML without libyaml")

TIGHT = Limits("test file", max_bytes=4_000, max_depth=4, max_keys=6, max_values=30, max_string=12,
               max_aliases=2)


# --- the reading replaced, kept as the reference --------------------------------------------------


class ReferenceBuilder:
    """engine/format/yamlsource.py's `_Builder` before the fast path, verbatim."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def report(self, node: Node, message: str, hint: str, code: ErrorCode) -> None:
        self.problems.append(Problem(self.doc.file, node.start_mark.line + 1,
                                     node.start_mark.column + 1, message, hint, code=code))

    def build(self, node: Node, path: PathKey) -> Any:
        self.doc.values[path] = Position(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, path) if node.tag == MAP_TAG else self._unsupported(node)
        if isinstance(node, SequenceNode):
            if node.tag != SEQ_TAG:
                return self._unsupported(node)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
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
        first_seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            key_pos = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key_node.tag == MERGE_TAG:
                self.report(key_node, "merge keys ('<<') are not supported",
                            "write the keys out in full (YAML 1.2 has no merge keys)",
                            UNSUPPORTED_YAML)
                continue
            reported = len(self.problems)
            key = self.build(key_node, (*path, "<key>"))
            if len(self.problems) > reported:  # the key itself was refused
                continue
            if not isinstance(key, str | int) or isinstance(key, bool):
                self.problems.append(Problem(self.doc.file, key_pos.line, key_pos.column,
                                             f"mapping key {shown(repr(key))} is not a string",
                                             "write the key as plain text", code=KEY_NOT_TEXT))
                continue
            if key in first_seen:
                seen, name = first_seen[key], shown(str(key))
                self.problems.append(Problem(
                    self.doc.file, key_pos.line, key_pos.column, f"duplicate key '{name}'",
                    f"'{name}' is already set at line {seen.line}; YAML would silently keep only "
                    "the last one, so remove or rename one of them", code=DUPLICATE_KEY))
                continue
            first_seen[key] = key_pos
            self.doc.keys[(*path, key)] = key_pos
            result[key] = self.build(value_node, (*path, key))
        self.doc.values.pop((*path, "<key>"), None)
        return result


def reference_resolve_plain(text: str) -> str:
    """engine/format/yamlscalars.py's `resolve_plain` before its short path for text, verbatim."""
    if text in ("", "~", "null", "Null", "NULL"):
        return NULL_TAG
    if text in ("true", "True", "TRUE"):
        return TRUE_TAG
    if text in ("false", "False", "FALSE"):
        return FALSE_TAG
    if _DECIMAL.fullmatch(text):
        return INT_TAG
    if text == "<<":
        return MERGE_TAG
    if text[0] not in _NUMBER_START:  # most text: no number pattern can match
        return STR_TAG
    if _LEADING_ZERO.fullmatch(text) or any(p.fullmatch(text) for p, _ in _NUMBER_KINDS):
        return AMBIGUOUS_TAG
    return STR_TAG


@contextmanager
def _patched(module: Any, name: str, value: Any) -> Iterator[None]:
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


def reference_parse(text: str, limits: Limits) -> tuple[YamlDocument, list[Problem]]:
    """`parse_yaml` as it was: the event composer and the reference builder."""
    with _patched(yamlsource, "compose", compose_events), \
            _patched(yamlsource, "_Builder", ReferenceBuilder):
        return parse_yaml(text, "x.yaml", limits)


# --- the comparison ---------------------------------------------------------------------------------


def shape(node: Node | None) -> Any:
    """Everything of a node graph the builder and the messages can see, as plain data."""
    if node is None:
        return None
    where = (node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column)
    if isinstance(node, ScalarNode):
        return ("scalar", node.tag, node.value, node.style, where)
    if isinstance(node, SequenceNode):
        return ("seq", node.tag, node.flow_style, where, [shape(n) for n in node.value])
    assert isinstance(node, MappingNode)
    return ("map", node.tag, node.flow_style, where, [(shape(k), shape(v)) for k, v in node.value])


def typed(value: Any) -> Any:
    """`value` with every scalar's type made explicit: True == 1 in Python, not here."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, value)


def reading(doc: YamlDocument, problems: list[Problem]) -> Any:
    return (typed(doc.data), list(doc.values.items()), list(doc.keys.items()),
            [(p.render(), p.code) for p in problems])


def differences(text: str, limits: Limits = KB_LIMITS) -> list[str]:
    """How the fast reading of `text` differs from the reference reading (empty: none)."""
    found: list[str] = []
    node = compose_fast(text, limits) if composable(text) else NOT_COMPOSED
    if node is not NOT_COMPOSED:
        try:
            expected = shape(compose_events(text, limits))
        except (yamlcompose.Refused, yaml.YAMLError) as refused:
            found.append(f"the fast composer accepted what the reference refuses: {refused}")
        else:
            if shape(node) != expected:
                found.append("node graphs differ")
    fast = reading(*parse_yaml(text, "x.yaml", limits))
    if fast != reading(*reference_parse(text, limits)):
        found.append("parses differ")
    return found


# --- the texts compared ------------------------------------------------------------------------------


def _synthetic_module() -> Any:
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "benchmarks" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fixture_yaml(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The YAML files of every knowledge base the tests write, and of the synthetic benchmark."""
    base = tmp_path_factory.mktemp("fixture-kbs")
    roots = [write_mini_kb(base / "mini"), write_operator_kb(base / "operators"),
             write_negation_kb(base / "negation"), write_kb(base / "toy"),
             write_kb(base / "hostile", hostile=True),
             _synthetic_module().write_synthetic_kb(base / "synthetic", scale=0.05)]
    return sorted(p for root in roots for p in root.rglob("*.y*ml"))


def repository_yaml() -> list[Path]:
    return sorted(p for folder in ("knowledge", "docs", "tests", "benchmarks") for p in (ROOT / folder).rglob("*.y*ml")
                  if "__pycache__" not in p.parts)


def test_every_repository_and_fixture_file_reads_alike(fixture_yaml: list[Path]) -> None:
    files = repository_yaml() + fixture_yaml
    assert len(files) > 80
    for path in files:
        text = path.read_text(encoding="utf-8")
        for limits in (KB_LIMITS, CASE_LIMITS, TIGHT):
            assert differences(text, limits) == [], (path, limits.what)


def test_the_fast_composer_is_the_one_used_for_the_knowledge_bases(fixture_yaml: list[Path]) -> None:
    """Not a comparison that passes because the fast path never runs: it composes every file
    of the shipped and fixture knowledge bases (none holds a tag, an anchor or an alias)."""
    files = sorted((ROOT / "knowledge").rglob("*.yaml")) + fixture_yaml
    declined = [p for p in files if compose_fast(p.read_text(encoding="utf-8"), KB_LIMITS) is NOT_COMPOSED]
    assert declined == []


# Scalars that mean something different in YAML 1.1, YAML 1.2 and guidekb, or that look like syntax.
TRICKY = ["010", "0x0E", "0o17", "0b101", "1:30", "1_0", "1.5", "1e3", ".inf", ".nan", "yes", "no",
          "on", "off", "y", "~", "null", "Null", "", "true", "False", "TRUE", "14", "-3", "+5", "0",
          "9007199254740991", "9007199254740992", "<<", "2026-02-08", "0.1.0", "a: b", "- x", "# c",
          "'q'", '"d"', "!x", "! 010", "!!int 5", "&a", "*a", "Board & Editors", "x\ty", "two\nlines",
          "\x1b[2J", "\r", "\u202e", "\x85", " lead", "trail ", "[1, 5]", "{a: 1}", "x" * 13]
SCALARS = st.sampled_from(TRICKY) | st.text(max_size=16) | st.integers(-(2**60), 2**60) \
    | st.booleans() | st.none()
KEYS = st.sampled_from(TRICKY[:30]) | st.text(max_size=8) | st.integers(-3, 3)
DATA = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                    max_leaves=30)
LIMITS = st.sampled_from([KB_LIMITS, CASE_LIMITS, TIGHT])


PLAIN_ALPHABET = "0123456789+-._:xXoObBeEiInNfFaAlLsStTrRuU~<yY !#"


def test_every_short_plain_scalar_resolves_as_it_did() -> None:
    """Every plain scalar of up to three characters from the characters that make numbers,
    words and syntax, and every tricky scalar: the same tag as before the short path."""
    texts = [""] + [a + b + c for a in PLAIN_ALPHABET for b in ["", *PLAIN_ALPHABET]
                    for c in ["", *PLAIN_ALPHABET] if b or not c]
    for text in [*texts, *TRICKY]:
        assert resolve_plain(text) == reference_resolve_plain(text), text


@given(text=st.text(max_size=20) | st.from_regex(r"[-+]?[0-9._:xXoObBeE]{0,10}|\.(inf|nan|Inf|NaN)",
                                                  fullmatch=True))
def test_plain_scalars_resolve_as_they_did(text: str) -> None:
    assert resolve_plain(text) == reference_resolve_plain(text)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A YAML document in one of the styles people and tools write: block, flow or mixed,
    any width and indentation, Unicode written out or escaped."""
    return yaml.safe_dump(draw(DATA), default_flow_style=draw(st.sampled_from([False, True, None])),
                          allow_unicode=draw(st.booleans()), width=draw(st.sampled_from([20, 80, 1000])),
                          indent=draw(st.sampled_from([2, 4])), sort_keys=False)


@given(text=documents(), limits=LIMITS)
def test_generated_documents_read_alike(text: str, limits: Limits) -> None:
    assert differences(text, limits) == []


@given(text=documents(), at=st.integers(0, 2000), snippet=st.sampled_from(NASTY_SNIPPETS[:60]) | st.text(max_size=6),
       limits=LIMITS)
def test_broken_generated_documents_read_alike(text: str, at: int, snippet: str, limits: Limits) -> None:
    """A snippet put anywhere: syntax errors, tags, anchors, aliases, control characters,
    second documents, limits passed -- each refused in the same words at the same place."""
    at = at % (len(text) + 1)
    assert differences(text[:at] + snippet + text[at:], limits) == []


@given(seed=st.sampled_from(repository_yaml()[:40]), at=st.integers(0, 6000),
       snippet=st.sampled_from(NASTY_SNIPPETS[:80]) | st.text(max_size=12), cut=st.booleans())
def test_broken_repository_files_read_alike(seed: Path, at: int, snippet: str, cut: bool) -> None:
    text = seed.read_text(encoding="utf-8")
    at = at % (len(text) + 1)
    assert differences(text[:at] if cut else text[:at] + snippet + text[at:]) == []


@pytest.mark.parametrize("text", [
    "a: ! 010\n", "a: !!str 010\n", "a: &x 1\nb: *x\n", "a: !<tag:guidekb,2026:int> 5\n",
    "%TAG !e! tag:x.com,2026:\n---\na: !e!b 1\n", "{a:!x b}\n", "[&a 1, *a]\n", "\ufeff!x a\n",
    "a: 1\n---\nb: 2\n", "a: [1, 2\n", "a: 1\na: 2\n", "<<: {a: 1}\n", "? [a]\n: 1\n",
    "\"<key>\": {a: 1}\nb: 2\n", "1: a\n\"1\": b\n", "true: 1\n", "a: \"\\e\"\n", "\"\\e\": 1\n",
    "[" * 60 + "]" * 60, "- " * 60 + "x\n", "k: " + "x" * 30_000 + "\n", "",
    "# only a comment\n", "---\n", "...\n",
])
@pytest.mark.parametrize("limits", [KB_LIMITS, CASE_LIMITS, TIGHT])
def test_corner_cases_read_alike(text: str, limits: Limits) -> None:
    assert differences(text, limits) == []


@pytest.mark.parametrize("text", [
    "a: ! 010\n", "a: !!str 010\n", "a: &x 1\n", "b: *x\n", "{a:!x b}\n", "[&a 1]\n", "\ufeff!x a\n",
    "a: 'x'!y\n", "- !x a\n", "? !x a\n: 1\n", "a: [!x 1]\n", "{!x a: 1}\n", "a:\n  !x b\n",
])
def test_texts_where_a_tag_anchor_or_alias_may_start_are_left_to_the_python_composer(text: str) -> None:
    assert not composable(text)


# The pre-check as first written: the context tested at every character.
READABLE_PRE_CHECK = re.compile(r"(?<![^\s\[\]{},:?\"'\ufeff])(?:!|[&*]\S)")


@given(st.text(alphabet=st.sampled_from(" \t\n\r!&*ab:?,[]{}\"'#-\ufeff\u2028\u00a0"), max_size=8))
def test_the_pre_check_finds_what_the_readable_one_finds(text: str) -> None:
    assert composable(text) == (READABLE_PRE_CHECK.search(text) is None)


@pytest.mark.parametrize("text", ["a: Board & Editors\n", "a: Do not!\n", "a: 2 * 3\n", "a: '& x'\n"])
def test_ampersands_and_exclamation_marks_in_text_keep_the_fast_composer(text: str) -> None:
    assert composable(text)


# --- limits hold before the C composer goes deeper ----------------------------------------------------


@pytest.mark.parametrize("text", ["[" * 200_000, "- " * 200_000 + "x\n", "{a: " * 100_000])
def test_deep_nesting_is_abandoned_at_the_limit_not_a_crash(text: str) -> None:
    """The C composer recurses in C: 200,000 levels would overflow the stack. It gives up at
    the 51st (the Python composer then reports it); quickly."""
    start = time.perf_counter()
    assert compose_fast(text, KB_LIMITS) is NOT_COMPOSED
    _, problems = parse_yaml(text, "x.yaml")
    assert [p.code.name for p in problems] == ["input-limit"]
    assert time.perf_counter() - start < 5


def test_each_limit_makes_the_fast_composer_give_up() -> None:
    assert compose_fast("[1, [2, [3, [4, [5]]]]]\n", TIGHT) is NOT_COMPOSED  # depth 5
    assert compose_fast("{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7}\n", TIGHT) is NOT_COMPOSED  # keys
    assert compose_fast("[" + ", ".join(["1"] * 30) + "]\n", TIGHT) is NOT_COMPOSED  # values
    assert compose_fast("a: " + "x" * 13 + "\n", TIGHT) is NOT_COMPOSED  # text length
    assert compose_fast("[1, [2, [3]]]\n{a: 1}\n", TIGHT) is NOT_COMPOSED  # syntax
    assert compose_fast("a: 1\n---\nb: 2\n", TIGHT) is NOT_COMPOSED  # second document
    assert compose_fast("[1, [2, [3]]]\n", TIGHT) is not NOT_COMPOSED


def test_the_garbage_collector_is_back_on_after_every_parse() -> None:
    import gc

    for text in ("a: 1\n", "a: [1\n", "a: &x 1\nb: *x\n", "[" * 100, "a: \x1b\n"):
        parse_yaml(text, "x.yaml")
        assert gc.isenabled()
    gc.disable()
    try:
        parse_yaml("a: 1\n", "x.yaml")
        assert not gc.isenabled()  # one who turned it off keeps it off
    finally:
        gc.enable()


# --- the comparison notices a wrong reading ---------------------------------------------------------


def _scalars(node: Node) -> Iterator[ScalarNode]:
    if isinstance(node, ScalarNode):
        yield node
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield from _scalars(key)
            yield from _scalars(value)


def _mutant(change: Callable[[ScalarNode], None], nth: int) -> Callable[[str, Limits], Any]:
    """The fast composer with one change made to its `nth` scalar."""
    def compose(text: str, limits: Limits) -> Any:
        node = compose_fast(text, limits)
        if node is not NOT_COMPOSED and node is not None:
            scalars = list(_scalars(node))
            change(scalars[nth % len(scalars)])
        return node
    return compose


def _line_down(node: ScalarNode) -> None:
    mark = node.start_mark
    node.start_mark = Mark(mark.name, mark.index, mark.line + 1, mark.column, None, None)


def _column_right(node: ScalarNode) -> None:
    mark = node.start_mark
    node.start_mark = Mark(mark.name, mark.index, mark.line, mark.column + 1, None, None)


def _read_as_text(node: ScalarNode) -> None:
    node.tag = "tag:yaml.org,2002:str"


HSV_RULES = ROOT / "knowledge" / "hsv-resistance" / "rules"


@pytest.mark.parametrize("change", [_line_down, _column_right])
@pytest.mark.parametrize("nth", [0, 7, 123])
def test_a_wrong_position_from_the_fast_composer_is_caught(change: Callable[[ScalarNode], None], nth: int) -> None:
    text = sorted(HSV_RULES.glob("*.yaml"))[0].read_text(encoding="utf-8")
    assert differences(text) == []
    with _patched(yamlcompose, "compose_fast", _mutant(change, nth)):
        assert differences(text) == ["parses differ"]
    # and at the node level, whether or not the builder would show it
    node = compose_fast(text, KB_LIMITS)
    change(list(_scalars(node))[nth])
    assert shape(node) != shape(compose_events(text, KB_LIMITS))


def test_a_scalar_read_with_the_wrong_meaning_is_caught() -> None:
    """`days: 010` read as the text '010' instead of refused as ambiguous."""
    text = "a: 1\ndays: 010\n"
    with _patched(yamlcompose, "compose_fast", _mutant(_read_as_text, 3)):
        assert differences(text) == ["parses differ"]


@pytest.mark.parametrize("nth", [0, 5, 200])
def test_a_wrong_line_in_the_builder_is_caught(nth: int) -> None:
    """The builder's short path recording one position a line down (the `nth` it makes)."""
    made = itertools.count()

    def mutant(cls: type, fields: tuple[int, int]) -> Any:
        if next(made) == nth:
            fields = (fields[0] + 1, fields[1])
        return tuple.__new__(cls, fields)

    text = sorted(HSV_RULES.glob("*.yaml"))[0].read_text(encoding="utf-8")
    with _patched(yamlsource, "_new", mutant):
        assert differences(text) == ["parses differ"]
