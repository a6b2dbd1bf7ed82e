"""The space of cases of a knowledge base: its size, the part of it that can influence an
invariant, and random samples of it biased to where answers change.

Used by `guidekb check` (the sampled check and the sizes it reports next to a proof) and by
`guidekb lint`. Nothing here needs a solver.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from typing import Any

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Condition
from guidekb.engine.qa.invariants import Invariant, codes_mentioned, facts_mentioned
from guidekb.engine.semantics.cut_points import cut_points
from guidekb.engine.semantics.derivation import closure, forbidders, recommenders


def cone_of_influence(kb: KnowledgeBase, inv: Invariant) -> set[str]:
    """The case facts that can change whether the invariant holds: those its condition reads,
    plus those read by every rule that can produce (through any chain of conclusions) a code
    or conclusion the invariant looks at. Facts outside the cone cannot affect the verdict."""
    wanted = codes_mentioned(inv) or set(kb.outcomes)  # a kind naming no code watches them all
    reads = set(facts_mentioned(inv))
    recommending, forbidding = recommenders(kb), forbidders(kb)
    producing = [r for code in wanted for r in (*recommending.get(code, []), *forbidding.get(code, []))]
    relevant = closure(kb, producing, conclusions=[f for f in reads if f in kb.derived_facts])
    reads |= {f for rule_id in relevant for f in facts_read(kb.rule(rule_id).when)}
    return {f for f in reads if f in kb.case_facts}


def abstract_values(kb: KnowledgeBase, fact: str) -> int:
    """How many cases of one fact a naive enumeration must try: its distinguishable values
    (an integer split at the thresholds the rules test) plus unknown."""
    spec = kb.case_facts[fact]
    if spec.type == "boolean":
        return 3
    if spec.type == "enum":
        return len(spec.values or []) + 1
    if spec.type == "enum_list":
        return (1 << len(spec.values or [])) + 1
    return len(integer_cuts(kb, fact)) + 2


def integer_cuts(kb: KnowledgeBase, fact: str, extra: Iterable[Condition] = ()) -> list[int]:
    """Points c where some test of an integer fact differs between c-1 and c (inside its
    range): the regions between them behave alike for every rule. The one convention of
    `guidekb.engine.semantics.cut_points`."""
    return cut_points([*(rule.when for rule in kb.rules), *extra], kb.facts).get(fact, [])


def space_size(kb: KnowledgeBase, facts: set[str] | None = None) -> int:
    """Number of abstract cases over the given case facts (all of them by default)."""
    names = kb.case_facts if facts is None else facts
    return math.prod(abstract_values(kb, f) for f in names)


# --- the quick sampled check -----------------------------------------------------------------


def sample_cases(kb: KnowledgeBase, count: int, seed: int = 0,
                 extra: Iterable[Condition] = ()) -> Iterator[dict[str, Any]]:
    """Random valid cases, each fact unknown a third of the time and integers drawn mostly
    at and around the thresholds the rules (and `extra` conditions) test, where answers
    change."""
    rng = random.Random(seed)
    conditions = list(extra)
    near: dict[str, list[int]] = {}
    for name, spec in kb.case_facts.items():
        if spec.type == "integer":
            lo, hi = spec.min or 0, spec.max or 0
            points = {c + d for c in integer_cuts(kb, name, conditions) for d in (-1, 0)} | {lo, hi}
            near[name] = sorted(v for v in points if lo <= v <= hi)
    for _ in range(count):
        case: dict[str, Any] = {}
        for name, spec in kb.case_facts.items():
            if rng.random() < 1 / 3:
                continue
            if spec.type == "boolean":
                case[name] = rng.random() < 0.5
            elif spec.type == "enum":
                case[name] = rng.choice(spec.values or [])
            elif spec.type == "enum_list":
                case[name] = [v for v in spec.values or [] if rng.random() < 0.3]
            elif rng.random() < 0.8:
                case[name] = rng.choice(near[name])
            else:
                case[name] = rng.randint(spec.min or 0, spec.max or 0)
        yield case
