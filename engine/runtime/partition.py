"""Split a knowledge base too large for one durable_rules ruleset into strata of chunks, each
chunk a ruleset that provably fits (`guidekb.engine.runtime.alpha_network`).

Why strata. durable_rules fails on a large ruleset (its fixed arrays, see alpha_network), so a
large knowledge base is run as several rulesets, one after another. Chaining between them
goes through the case fact: a conclusion drawn in an earlier ruleset is carried as a field
``<conclusion>: true`` (`compiling.carried_trigger`). That is sound only if a rule runs after
every rule that could draw a conclusion it tests. The loader refuses cycles among derived
facts, so the rules can be layered: a rule's stratum is 0 if it tests no conclusion, else
1 + the highest stratum of the rules deriving a conclusion it tests. Within a stratum no rule
tests another's conclusion, so its rules need no chaining and can be cut into chunks freely;
the strata run in order, each seeing every conclusion drawn before. Conclusions only ever
grow and are only tested positively, so this reaches the same fixpoint as native forward
chaining (and as `guidekb.engine.qa.reference`, which the tests compare against).

Chunks. Within a stratum rules are taken in the order of their compiled triggers (rules
testing the same conclusion or the same first fact then share alpha nodes) and packed greedily
while the chunk's worst-case alpha stack, every-case rule included, stays within the budget.
A rule that alone exceeds the budget gets a chunk of its own if it is still within durable
_rules' hard limits; one that is not cannot run at all and is refused (UnsupportedCondition).

Skipping. A chunk whose every rule needs, in each of its alternatives, a conclusion that was
not drawn cannot fire; the evaluator skips it (`Chunk.may_fire`), which is the main saving on
a case that draws few conclusions.
"""

from __future__ import annotations

import graphlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.runtime.alpha_network import (
    MAX_FACT_FIELDS,
    MAX_STACK_SIZE,
    AlphaNetwork,
)
from guidekb.engine.runtime.compiling import (
    EVERY_CASE,
    Alternative,
    Json,
    carried_trigger,
    joined_trigger,
    rule_alternatives,
)
from guidekb.engine.semantics.operators import UnsupportedCondition

DEFAULT_BUDGET = 48
"""The most alpha-stack entries a ruleset of ours may need in the worst case: provably safe at
64 (MAX_STACK_SIZE), kept at three quarters of it so that a misreading of the C source has
room before it is a failure. The shipped HSV knowledge base needs 41 and runs in one ruleset."""


@dataclass(frozen=True)
class Chunk:
    """One ruleset of a partitioned knowledge base."""

    stratum: int
    index: int  # position in the run order, over all strata
    definition: dict[str, Json]  # rule id -> trigger, without actions
    needs: tuple[frozenset[str], ...]  # per alternative of every rule: the conclusions it tests
    fields: tuple[str, ...]  # every case-fact field a trigger tests (case facts, list fields)
    conclusions: frozenset[str]  # conclusions its triggers test, carried as fields
    worst_stack: int

    def may_fire(self, drawn: Mapping[str, object]) -> bool:
        """Whether some rule here can still fire: some alternative needs only conclusions drawn."""
        return any(needs.issubset(drawn.keys()) for needs in self.needs)


@dataclass(frozen=True)
class Plan:
    """How a knowledge base is run: in one ruleset (`chunks` empty), or in chunks."""

    native: bool  # the whole knowledge base fits in one ruleset (and `chunks` is empty)
    chunks: tuple[Chunk, ...]
    native_worst_stack: int  # of the single ruleset; if it does not fit, of as much as was built
    budget: int


Alternatives = Mapping[str, list[Alternative]]


def alternatives_of(kb: KnowledgeBase) -> dict[str, list[Alternative]]:
    """Each rule's alternatives (`compiling.rule_alternatives`), computed once: the normal
    form is the costliest step of compiling a large knowledge base."""
    return {rule.id: rule_alternatives(kb, rule.when) for rule in kb.rules}


def strata(kb: KnowledgeBase, alternatives: Alternatives | None = None) -> dict[str, int]:
    """Each rule's stratum (module docstring); raises UnsupportedCondition on a cycle, which
    the loader refuses but a knowledge base built in memory could have."""
    alts = alternatives if alternatives is not None else alternatives_of(kb)
    producers: dict[str, list[str]] = {}
    for rule in kb.rules:
        for name in rule.then.derive:
            producers.setdefault(name, []).append(rule.id)
    tests = {rule.id: frozenset().union(*(alt.derived for alt in alts[rule.id])) for rule in kb.rules}
    below = {rule.id: {p for name in tests[rule.id] for p in producers.get(name, [])} for rule in kb.rules}
    # graphlib, not recursion: a chain of conclusions as long as the knowledge base must not end
    # in RecursionError, as the recursive walk this replaced would past 1,000 levels.
    try:
        order = list(graphlib.TopologicalSorter(below).static_order())
    except graphlib.CycleError as cycle:
        raise UnsupportedCondition(f"rule '{cycle.args[1][0]}' depends on its own conclusions") from None
    level: dict[str, int] = {}
    for rule_id in order:
        level[rule_id] = 1 + max(level[p] for p in below[rule_id]) if below[rule_id] else 0
    return level


def plan(kb: KnowledgeBase, budget: int = DEFAULT_BUDGET, alternatives: Alternatives | None = None) -> Plan:
    """One ruleset if the whole knowledge base fits within `budget`, else chunks."""
    if not 1 <= budget <= MAX_STACK_SIZE:
        raise ValueError(f"an alpha budget must be 1..{MAX_STACK_SIZE}, not {budget}")
    alts = alternatives if alternatives is not None else alternatives_of(kb)
    whole = _network({}, [])
    fits = _fact_fields(kb) <= MAX_FACT_FIELDS
    for rule in kb.rules:  # built rule by rule: a large knowledge base stops early
        trigger = joined_trigger(alts[rule.id])
        if trigger is None:
            continue
        whole.add_trigger(trigger)
        if not (fits := fits and _fits(whole, budget)):
            break  # grown past the budget: no need to build the rest
    if fits:
        return Plan(True, (), whole.worst_stack(), budget)
    return Plan(False, tuple(_chunks(kb, budget, alts)), whole.worst_stack(), budget)


def _fact_fields(kb: KnowledgeBase) -> int:
    """The most fields the single case fact can have: every case fact, a field per list value,
    and `_k`."""
    return 1 + sum(1 + len(spec.values or []) if spec.type == "enum_list" else 1
                   for spec in kb.case_facts.values())


def _chunks(kb: KnowledgeBase, budget: int, alts: Alternatives) -> list[Chunk]:
    """Greedy packing, stratum by stratum (module docstring). The network grows one rule at a
    time; the rule that makes it exceed the budget starts the next chunk."""
    level = strata(kb, alts)
    triggers = {rule.id: t for rule in kb.rules if (t := carried_trigger(alts[rule.id])) is not None}
    chunks: list[Chunk] = []

    def close(rule_ids: list[str], properties: set[str], worst: int, stratum: int) -> None:
        needs = tuple(alt.derived for rule_id in rule_ids for alt in alts[rule_id])
        conclusions = frozenset().union(*needs)
        chunks.append(Chunk(
            stratum=stratum, index=len(chunks), definition={r: triggers[r] for r in rule_ids}, needs=needs,
            fields=tuple(sorted(properties - conclusions - {"_k"})), conclusions=conclusions,
            worst_stack=worst))

    for stratum in sorted({level[rule_id] for rule_id in triggers}):
        members = sorted((r for r in triggers if level[r] == stratum),
                         key=lambda r: repr(triggers[r]))  # built in a fixed key order
        current: list[str] = []
        network = _network(triggers, current)
        for rule_id in members:
            before = (network.properties.copy(), network.worst_stack())
            network.add_trigger(triggers[rule_id])
            if _fits(network, budget):
                current.append(rule_id)
                continue
            if current:  # the chunk so far, as it was before this rule
                close(current, *before, stratum)
                current, network = [rule_id], _network(triggers, [rule_id])
                if _fits(network, budget):
                    continue
            problems = network.limits_exceeded() + (
                [f"{len(network.properties)} fields in its case fact (at most {MAX_FACT_FIELDS})"]
                if len(network.properties) > MAX_FACT_FIELDS else [])
            if problems:  # within the budget it is not, but within durable_rules' limits it must be
                raise UnsupportedCondition(
                    f"rule '{rule_id}' cannot run in durable_rules 2.0.28 even alone: {'; '.join(problems)}")
            close([rule_id], network.properties, network.worst_stack(), stratum)
            current, network = [], _network(triggers, [])
        if current:
            close(current, network.properties, network.worst_stack(), stratum)
    return chunks


def _fits(network: AlphaNetwork, budget: int) -> bool:
    return (network.worst_stack() <= budget and not network.limits_exceeded()
            and len(network.properties) <= MAX_FACT_FIELDS)


def _network(triggers: Mapping[str, Json], rule_ids: list[str]) -> AlphaNetwork:
    network = AlphaNetwork()
    network.add_trigger(EVERY_CASE)
    for rule_id in rule_ids:
        network.add_trigger(triggers[rule_id])
    return network


def project(chunk: Chunk, fact: Mapping[str, Any], drawn: Mapping[str, object]) -> dict[str, Any]:
    """The case fact a chunk is given: the fields its triggers test (a field it does not test
    cannot change what matches, and fewer fields are cheaper to send) and the conclusions it
    tests that were drawn."""
    projected: dict[str, Any] = {"_k": fact["_k"]}
    for name in chunk.fields:
        if name in fact:
            projected[name] = fact[name]
    for name in chunk.conclusions:
        if name in drawn:
            projected[name] = True
    return projected
