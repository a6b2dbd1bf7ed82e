"""How much of a knowledge base its scenarios exercise: rules fired, condition branches seen
true and false, and codes that no scenario checks.

A leaf test of a rule's condition is evaluated, through its normal forms
(`guidekb.engine.semantics.normal_form`), on each scenario's case plus the conclusions the
engine derived for it. A derived conclusion that was not drawn counts as false here (it
is only ever asserted true, so "not drawn" is the only other outcome a scenario can show); a
case fact left unknown counts as neither, exactly as the engine's three-valued logic has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from guidekb.engine.format.conditions import LeafSite, leaves
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Compare, Known
from guidekb.engine.format.validation import dotted
from guidekb.engine.qa.scenarios import ScenarioResult
from guidekb.engine.semantics.normal_form import Truth, holds, when_false, when_true


@dataclass
class BranchCoverage:
    """One leaf of one rule's condition and the truth values the scenarios gave it."""

    rule: str
    path: str  # dotted YAML path of the leaf under the rule's `when`
    test: str  # the leaf, written compactly
    seen: set[Truth] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        return True in self.seen and False in self.seen

    @property
    def missing(self) -> str:
        absent = [name for value, name in ((True, "true"), (False, "false")) if value not in self.seen]
        return " and ".join(absent)


@dataclass
class CoverageReport:
    rules_fired: dict[str, list[str]]  # rule id -> scenarios in which it fired
    branches: list[BranchCoverage]
    codes_unchecked: list[str]  # codes no scenario expects recommended or forbidden
    derived_unchecked: list[str]  # derived facts no scenario expects

    @property
    def rules_not_fired(self) -> list[str]:
        return [rule for rule, names in self.rules_fired.items() if not names]

    @property
    def branches_incomplete(self) -> list[BranchCoverage]:
        return [b for b in self.branches if not b.complete]

    @property
    def complete(self) -> bool:
        return not (self.rules_not_fired or self.branches_incomplete or self.codes_unchecked)


def describe_leaf(site: LeafSite) -> str:
    """A leaf as a short line, e.g. `days_on_therapy ge 10` or `unknown adherent`."""
    leaf = site.leaf
    if isinstance(leaf, Compare):
        operand = leaf.operand
        shown = ("true" if operand else "false") if isinstance(operand, bool) else (
            "[" + ", ".join(map(str, operand)) + "]" if isinstance(operand, list) else str(operand))
        body = f"{leaf.fact} {leaf.operator} {shown}"
    else:
        body = f"{'known' if isinstance(leaf, Known) else 'unknown'} {site.fact}"
    return ("not " if site.negated else "") + body


def measure(kb: KnowledgeBase, results: Sequence[ScenarioResult]) -> CoverageReport:
    """The coverage of `kb` by the scenarios behind `results`."""
    fired: dict[str, list[str]] = {rule.id: [] for rule in kb.rules}
    branches: list[BranchCoverage] = []
    sites = {rule.id: list(leaves(rule.when)) for rule in kb.rules}
    forms = {id(site): (when_true(kb.facts, site.leaf), when_false(kb.facts, site.leaf))
             for found in sites.values() for site in found}
    for rule in kb.rules:
        for site in sites[rule.id]:
            branches.append(BranchCoverage(rule.id, dotted(("when", *site.path)), describe_leaf(site)))
    expected_codes: set[str] = set()
    expected_derived: set[str] = set()
    for result in results:
        for rule_id in result.answer.fired:
            fired[rule_id].append(result.name)
        facts = dict(result.loaded.case)
        facts.update({name: True for name in result.answer.derived_facts()})
        index = 0
        for rule in kb.rules:
            for site in sites[rule.id]:
                is_true, is_false = forms[id(site)]
                value: Truth = True if holds(is_true, facts) else False if holds(is_false, facts) else None
                if value is None and site.fact in kb.derived_facts:
                    value = False
                branches[index].seen.add(value)
                index += 1
        expect = result.loaded.scenario.expect
        expected_codes.update(expect.recommended, expect.forbidden)
        expected_derived.update(expect.derived)
    return CoverageReport(
        rules_fired=fired,
        branches=branches,
        codes_unchecked=[code for code in kb.outcomes if code not in expected_codes],
        derived_unchecked=[name for name in kb.derived_facts if name not in expected_derived],
    )
