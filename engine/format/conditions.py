"""Walking condition trees: the leaves, where they were written, and under which polarity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from guidekb.engine.format.models import AllOf, Always, AnyOf, Compare, Condition, Known, Not, Unknown

Leaf = Compare | Known | Unknown


@dataclass(frozen=True)
class LeafSite:
    leaf: Leaf
    path: tuple[str | int, ...]  # YAML path of the leaf, relative to the condition
    negated: bool  # under an odd number of `not`

    @property
    def fact(self) -> str:
        return leaf_fact(self.leaf)


def leaf_fact(leaf: Leaf) -> str:
    if isinstance(leaf, Known):
        return leaf.known
    if isinstance(leaf, Unknown):
        return leaf.unknown
    return leaf.fact


def leaves(condition: Condition, path: tuple[str | int, ...] = (),
           negated: bool = False) -> Iterator[LeafSite]:
    """Every leaf test of a condition tree, depth first, in the order written."""
    if isinstance(condition, AllOf):
        for i, child in enumerate(condition.all):
            yield from leaves(child, (*path, "all", i), negated)
    elif isinstance(condition, AnyOf):
        for i, child in enumerate(condition.any):
            yield from leaves(child, (*path, "any", i), negated)
    elif isinstance(condition, Not):
        yield from leaves(condition.not_, (*path, "not"), not negated)
    elif isinstance(condition, Always):
        return
    else:
        yield LeafSite(condition, path, negated)


def facts_read(condition: Condition) -> set[str]:
    return {site.fact for site in leaves(condition)}


def kind(condition: Condition) -> str:
    """The key that names a condition node as written: all, any, not, known, unknown, fact
    or always. For showing a tree as the author wrote it; what a node *means* is defined in
    guidekb.engine.semantics.normal_form."""
    kinds: dict[type, str] = {AllOf: "all", AnyOf: "any", Not: "not", Known: "known",
                              Unknown: "unknown", Compare: "fact", Always: "always"}
    return kinds[type(condition)]


def parts(condition: Condition) -> list[Condition]:
    """The children of an `all`, `any` or `not` node as written; [] for a leaf."""
    if isinstance(condition, AllOf):
        return list(condition.all)
    if isinstance(condition, AnyOf):
        return list(condition.any)
    if isinstance(condition, Not):
        return [condition.not_]
    return []
