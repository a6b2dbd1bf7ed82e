"""Where the answers of a fact's tests change: integer cut points and tested list items.

One convention for the whole code base: **c is a cut point of integer fact f when some test
of f gives c - 1 and c different values**, and, given the fact's range, only
``min < c <= max`` are kept. The cut points c1 < c2 < ... < ck thus split ``min..max`` into
the regions ``min..c1-1, c1..c2-1, ..., ck..max`` on which every test is constant: the answers
of a flowchart question, the abstract values counted for the size of the case space, the
values worth drawing in generated cases (each cut point and its neighbours). ``ge 10`` and
``lt 10`` cut at 10, ``gt 10`` and ``le 10`` at 11, ``equals 7`` at 7 and 8.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from guidekb.engine.format.conditions import leaves
from guidekb.engine.format.models import Compare, Condition, FactSpec
from guidekb.engine.semantics.normal_form import ListHas, atoms, when_true
from guidekb.engine.semantics.operators import integer_cuts


def cut_points(conditions: Iterable[Condition],
               facts: Mapping[str, FactSpec] | None = None) -> dict[str, list[int]]:
    """Integer fact -> its sorted cut points over `conditions`. With `facts` (the fact
    vocabulary) only integer facts are kept and each is clipped to its range; without, every
    cut is kept (for callers that have conditions but no knowledge base)."""
    found: dict[str, set[int]] = {}
    for condition in conditions:
        for site in leaves(condition):
            if isinstance(site.leaf, Compare):
                cuts = integer_cuts(site.leaf)
                if cuts:
                    found.setdefault(site.fact, set()).update(cuts)
    result: dict[str, list[int]] = {}
    for fact, cuts in found.items():
        if facts is None:
            result[fact] = sorted(cuts)
            continue
        spec = facts.get(fact)
        if spec is None or spec.type != "integer" or spec.min is None or spec.max is None:
            continue
        low, high = spec.min, spec.max
        kept = sorted(c for c in cuts if low < c <= high)
        if kept:
            result[fact] = kept
    return result


def regions(spec: FactSpec, cuts: Iterable[int]) -> list[tuple[int, int]]:
    """The ranges of ``min..max`` between cut points, on which every test is constant."""
    assert spec.min is not None and spec.max is not None
    starts = sorted({spec.min} | {c for c in cuts if spec.min < c <= spec.max})
    ends = [s - 1 for s in starts[1:]] + [spec.max]
    return list(zip(starts, ends, strict=True))


def tested_items(facts: Mapping[str, FactSpec], conditions: Iterable[Condition]) -> dict[str, set[str]]:
    """List fact -> the items whose presence some condition tests."""
    found: dict[str, set[str]] = {}
    for condition in conditions:
        for atom in atoms(when_true(facts, condition)):
            if isinstance(atom, ListHas):
                found.setdefault(atom.fact, set()).add(atom.item)
    return found
