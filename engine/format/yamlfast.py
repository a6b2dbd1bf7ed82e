"""YAML text to a node graph by libyaml's own composer, for the files where it is safe to.

Why. Composing the node graph in Python from libyaml's events (`yamlcompose`) is most of the
cost of loading a knowledge base: the 2,000-rule benchmark spent about a second there, and
another third of a second in the garbage collector while the nodes were being made. PyYAML's
C extension also composes (`CParser.get_single_node`), some three times faster, but it has
none of guidekb's limits and none of its scalar rules, and it recurses in C: 100,000 nested
`[` would overflow the C stack, not raise RecursionError.

How this stays as safe as the Python composer. The C composer calls three Python hooks for
every node it builds (`descend_resolver` before, `ascend_resolver` after, `resolve` for the
tag of an untagged node); here they count depth, values, keys and text length exactly as
`yamlcompose._Composer` does, give plain scalars their YAML 1.2 meaning through
`yamlscalars.resolve_plain`, and abandon the attempt at the first limit passed -- before the
C recursion goes one level past `max_depth`. What the hooks cannot see is left out before
the C composer starts: a text in which an anchor (`&a`), an alias (`*a`) or a tag (`!x`,
`!!int`, and `!`, which makes `! 010` text where the hooks would see a plain `010`) could
begin is never composed here.

Whenever this composer does not return a node -- such a text, a limit, a syntax error, a
second document -- `yamlcompose.compose` composes the text again with the Python composer,
whose node graph, refusal or syntax error is what the author gets; so every problem reads as
it always did, and a result from here is one the Python composer would have returned
(tests/test_yaml_fast_compose.py compares the two on every YAML file of the repository and on
generated documents).
"""

from __future__ import annotations

import enum
import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import yaml
from yaml.nodes import Node, SequenceNode

from guidekb.engine.format.yamlscalars import MAP_TAG, SEQ_TAG, STR_TAG, resolve_plain

if TYPE_CHECKING:
    from guidekb.engine.format.yamllimits import Limits

# Where a tag, an anchor or an alias could begin: at a token's start (the start of the text, or
# after a space, a line break, a flow indicator, ':', '?', a quote or a byte-order mark), a
# '!' of any kind, or a '&' or '*' followed by a character that is not a space (libyaml's
# names are letters, digits, '_' and '-'). A superset: '& ' in "Board & Editors" is no anchor,
# but '!' in "Do not!" and "1 ! 2" only costs the slower composer. Written indicator first,
# so that the regular expression engine skips to the few '!', '&' and '*' of a file (four
# times faster than testing the context at every character).
_PROPERTY_OR_ALIAS = re.compile(r"""
    [!&*]                                   # an indicator ...
    (?<![^\s\[\]{},:?"'\ufeff][!&*])        # ... at the start of the text or after a separator
    (?: (?<=!) | (?=\S) )                   # a '!'; a '&' or '*' only before a name
""", re.VERBOSE)


class Declined(enum.Enum):
    """What `compose_fast` returns when it declines or abandons a text."""

    NOT_COMPOSED = "not composed"


NOT_COMPOSED: Final = Declined.NOT_COMPOSED


class _Abandoned(Exception):
    """A limit passed (or a hook surprised): the Python composer will say which, and where."""


def composable(text: str) -> bool:
    """False when `text` may hold a tag, an anchor or an alias, which the hooks cannot see."""
    return _COMPOSER is not None and _PROPERTY_OR_ALIAS.search(text) is None


def _limited_composer() -> Callable[[str, Limits], Any] | None:
    """libyaml's composer with guidekb's limits and scalar rules in its resolver hooks (None
    when PyYAML was built without libyaml: then `yamlcompose` composes everything)."""
    try:
        from yaml._yaml import CParser
    except ImportError:
        return None

    class LimitedComposer(CParser):
        """`CParser.get_single_node`, its hooks counting and resolving as `_Composer` does."""

        def __init__(self, text: str, limits: Limits) -> None:
            super().__init__(text)
            self.limits = limits
            self.max_depth, self.max_values = limits.max_depth, limits.max_values
            self.values = self.keys = 0
            # One entry per node being composed: the depth is its length. Called after each
            # node, `list.pop` costs no Python call, so only `descend_resolver` is one.
            self.open: list[None] = []
            self.ascend_resolver = self.open.pop

        def descend_resolver(self, parent: Node | None, index: Any) -> None:
            """Called before each node (never for an alias): counted as `_Composer.node` does."""
            opened = self.open
            opened.append(None)
            self.values += 1
            if self.values > self.max_values or len(opened) > self.max_depth:
                raise _Abandoned
            if index is None and parent is not None:  # a mapping key (a value's index is its key)
                self.keys += 1
                if self.keys > self.limits.max_keys:
                    raise _Abandoned

        def resolve(self, kind: type[Node], value: str | None, implicit: Any) -> str:
            """The tag of a node written without one: `_Composer._scalar`'s rule for scalars."""
            if value is None:  # a sequence or a mapping
                return SEQ_TAG if kind is SequenceNode else MAP_TAG
            if len(value) > self.limits.max_string:
                raise _Abandoned
            return resolve_plain(value) if implicit[0] else STR_TAG

    return LimitedComposer


_COMPOSER = _limited_composer()


def compose_fast(text: str, limits: Limits) -> Node | Declined | None:
    """The node graph of `text` as the Python composer would make it (None for an empty
    document), or NOT_COMPOSED when this composer declines or gives up: then the caller
    composes with `yamlcompose`, which reports whatever is wrong."""
    if _COMPOSER is None or not composable(text):
        return NOT_COMPOSED
    try:
        node: Node | None = _COMPOSER(text, limits).get_single_node()
    except (_Abandoned, yaml.YAMLError):
        return NOT_COMPOSED
    return node


@contextmanager
def collection_paused() -> Iterator[None]:
    """The cyclic garbage collector off while one file is composed and built.

    Composing makes hundreds of thousands of small objects that all stay alive until the file
    is built, so every collection in between walks them and frees nothing: a third of the
    2,000-rule benchmark's load went there. Reference counting still frees what is dropped;
    the little cyclic garbage made meanwhile (a refused alias that contains itself, the
    pure-Python parser's bookkeeping) is bounded by `Limits` and collected later. The
    collector is turned back on, if it was on, when the file is done, whatever happens.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


__all__ = ["NOT_COMPOSED", "Declined", "collection_paused", "composable", "compose_fast"]
