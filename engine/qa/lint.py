"""Lint a knowledge base: rules and declarations that load fine but cannot be what the author
meant. Every finding kind is documented in docs/lint.md.

Findings that need reasoning about cases (can this rule ever fire? do these two rules ever
fire together?) are decided over *every* case with the z3 encoding of `guidekb.engine.qa.symbolic`, so a
finding is never a sampling accident, and no finding is missed for want of a sample. Each
finding has a stable id (``kind:subject``) that an author can acknowledge, with a reason, in
the knowledge base's `lint.yaml`; an acknowledgement that matches no finding is itself a
finding, so acknowledgements cannot outlive what they excuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
import z3
from pydantic import Field

from guidekb.engine.errors import DUPLICATE_ID, INVALID_VALUE, NOT_A_MAPPING, KnowledgeBaseError, Problem
from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase, Location
from guidekb.engine.format.models import Rule, Strict
from guidekb.engine.format.suggest import closest
from guidekb.engine.format.validation import validate
from guidekb.engine.format.yamlsource import load_yaml
from guidekb.engine.qa.invariants import Invariant, load_invariants_located
from guidekb.engine.qa.proof import Prover
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.semantics.derivation import producers

LINT_FILE = "lint.yaml"

KINDS: dict[str, str] = {
    "never-fires": "a rule whose condition no case can make true",
    "redundant-rule": "a rule that only fires when another does, and does nothing more",
    "recommend-forbid-overlap": "one case on which a rule recommends a code that another forbids",
    "unread-fact": "a case fact no rule reads",
    "underived-fact": "a derived fact no rule can derive",
    "unproduced-code": "a code no rule that can fire recommends or forbids",
    "vacuous-invariant": "an invariant no case can trigger",
    "stale-acknowledgement": "an acknowledgement in lint.yaml that matches no finding",
}


@dataclass
class Finding:
    id: str
    kind: str
    message: str
    location: Location
    rules: list[str] = field(default_factory=list)
    hint: str = ""
    example: dict[str, Any] | None = None
    acknowledged: str | None = None  # the reason given in lint.yaml

    def render(self) -> str:
        rules = f" [rules: {', '.join(self.rules)}]" if self.rules else ""
        text = f"{self.location.file}:{self.location.line}:{self.location.column}: {self.id}: " \
               f"{self.message}{rules}"
        if self.example is not None:
            text += f"\n    example case: {_case_text(self.example)}"
        if self.hint:
            text += f"\n    {self.hint}"
        return text


def _case_text(case: dict[str, Any]) -> str:
    """The case as a one-line YAML flow mapping, ready to paste into a case file."""
    if not case:
        return "{} (no facts known)"
    return yaml.safe_dump(case, default_flow_style=True, sort_keys=False, width=10_000).strip()


# --- lint.yaml ------------------------------------------------------------------------------


class Acknowledgement(Strict):
    finding: str = Field(pattern=r"^[a-z-]+:.+$", description="the id of the finding, kind:subject",
                         examples=["never-fires:rule-id"])
    reason: str = Field(min_length=1, description="why this is not a problem",
                        examples=["Kept for documentation: the source states it."])


class LintFile(Strict):
    """Lint findings the authors have reviewed and accept (lint.yaml)."""

    acknowledgements: list[Acknowledgement] = Field(default_factory=list, description="each "
                                                    "accepted finding with its reason")


def load_acknowledgements(kb: KnowledgeBase) -> list[tuple[Acknowledgement, Location]]:
    """The acknowledgements of the knowledge base's lint.yaml (none without one), located;
    raises KnowledgeBaseError on any problem of the file."""
    path = kb.root / LINT_FILE
    if not path.is_file():
        return []
    doc, problems = load_yaml(path)
    if problems:
        raise KnowledgeBaseError(problems)
    if doc.data is None:
        return []
    if not isinstance(doc.data, dict):
        raise KnowledgeBaseError([Problem(doc.file, 1, 1, "expected a mapping at the top of the file",
                                          "write 'acknowledgements:' followed by a list",
                                          code=NOT_A_MAPPING)])
    parsed, problems = validate(LintFile, doc)
    if parsed is None:
        raise KnowledgeBaseError(problems)
    located: list[tuple[Acknowledgement, Location]] = []
    seen: dict[str, int] = {}
    for i, ack in enumerate(parsed.acknowledgements):
        pos = doc.position(("acknowledgements", i, "finding"))
        kind = ack.finding.split(":", 1)[0]
        if kind not in KINDS or kind == "stale-acknowledgement":
            best = closest(kind, [k for k in KINDS if k != "stale-acknowledgement"])
            hint = f"did you mean '{best}'?" if best else "finding kinds: " + ", ".join(KINDS)
            problems.append(Problem(doc.file, pos.line, pos.column,
                                    f"unknown finding kind '{kind}' in '{ack.finding}'", hint,
                                    code=INVALID_VALUE))
        elif ack.finding in seen:
            problems.append(Problem(doc.file, pos.line, pos.column,
                                    f"'{ack.finding}' is acknowledged twice",
                                    f"first at line {seen[ack.finding]}; keep one reason", code=DUPLICATE_ID))
        seen.setdefault(ack.finding, pos.line)
        located.append((ack, Location(doc.file, pos.line, pos.column)))
    if problems:
        raise KnowledgeBaseError(problems)
    return located


# --- the linter -----------------------------------------------------------------------------


@dataclass
class LintReport:
    findings: list[Finding]
    solver_calls: int

    @property
    def unacknowledged(self) -> list[Finding]:
        return [f for f in self.findings if f.acknowledged is None]


def lint(kb: KnowledgeBase) -> LintReport:
    """Every finding of the knowledge base, acknowledged ones marked with their reason.

    Raises KnowledgeBaseError when invariants.yaml or lint.yaml have errors."""
    invariants, inv_locations = load_invariants_located(kb)
    acks = load_acknowledgements(kb)
    linter = _Linter(kb)
    findings = linter.findings(invariants, inv_locations)
    by_id = {f.id: f for f in findings}
    for ack, where in acks:
        if ack.finding in by_id:
            by_id[ack.finding].acknowledged = ack.reason
        else:
            best = closest(ack.finding, by_id)
            findings.append(Finding(
                f"stale-acknowledgement:{ack.finding}", "stale-acknowledgement",
                f"'{ack.finding}' is acknowledged but there is no such finding", where,
                hint=(f"did you mean '{best}'? " if best else "") +
                "remove the acknowledgement: what it excused is gone"))
    return LintReport(findings, linter.prover.calls)


class _Linter:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.producers = producers(kb)
        self.prover = Prover(kb)
        self.sym = self.prover.sym
        self.engine = Engine.for_kb(kb)
        self._can_fire: dict[str, bool] = {}

    def possible(self, *constraints: Any) -> bool:
        """Some case satisfies the constraints (an undecided query counts as possible, so
        that a solver time-out never produces a finding)."""
        return bool(self.prover.check(*constraints) != z3.unsat)

    def can_fire(self, rule_id: str) -> bool:
        if rule_id not in self._can_fire:
            fired = self.sym.fired(rule_id)
            self._can_fire[rule_id] = not z3.is_false(fired) and self.possible(fired)
        return self._can_fire[rule_id]

    def findings(self, invariants: list[Invariant], inv_locations: dict[str, Location]) -> list[Finding]:
        return [*self.never_fires(), *self.redundant(), *self.overlaps(), *self.unread_facts(),
                *self.underived_facts(), *self.unproduced_codes(),
                *self.vacuous(invariants, inv_locations)]

    def rule_at(self, rule_id: str) -> Location:
        return self.kb.rule_locations.get(rule_id, Location(str(self.kb.root), 1))

    def never_fires(self) -> list[Finding]:
        found = []
        for rule in self.kb.rules:
            if self.can_fire(rule.id):
                continue
            underived = sorted(f for f in facts_read(rule.when) if f in self.kb.derived_facts
                               and not any(self.can_fire(r) for r in self.producers[f]))
            why = (f"it needs {', '.join(underived)}, which no rule can derive" if underived
                   else "its condition is contradictory: no case makes it true")
            found.append(Finding(f"never-fires:{rule.id}", "never-fires",
                                 f"rule '{rule.id}' can never fire: {why}", self.rule_at(rule.id),
                                 [rule.id], "fix the condition (or the rules it relies on), or "
                                 "delete the rule"))
        return found

    def redundant(self) -> list[Finding]:
        found = []
        rules = self.kb.rules
        for i, rule in enumerate(rules):
            if not self.can_fire(rule.id):
                continue
            for j, other in enumerate(rules):
                if i == j or not _contained(rule, other):
                    continue
                if not self._implies(rule.id, other.id):
                    continue
                if j > i and _contained(other, rule) and self._implies(other.id, rule.id):
                    continue  # two copies of one rule: only the later one is reported
                at = self.rule_at(other.id)
                found.append(Finding(
                    f"redundant-rule:{rule.id}", "redundant-rule",
                    f"rule '{rule.id}' is redundant: whenever it fires, '{other.id}' "
                    f"({at.file}:{at.line}) fires too and already does everything it does",
                    self.rule_at(rule.id), [rule.id, other.id],
                    "delete it (moving its provenance to the other rule if it cites another "
                    "source), or narrow the other rule"))
                break
        return found

    def _implies(self, rule_id: str, other_id: str) -> bool:
        """Every case on which the first rule fires makes the second fire too."""
        return not self.possible(self.sym.fired(rule_id), z3.Not(self.sym.fired(other_id)))

    def overlaps(self) -> list[Finding]:
        found = []
        for code in self.kb.outcomes:
            for rec in self.sym.recommenders(code):
                for forb in self.sym.forbidders(code):
                    if rec == forb or not (self.can_fire(rec) and self.can_fire(forb)):
                        continue
                    case = self.prover.example(self.sym.fired(rec), self.sym.fired(forb))
                    if case is None:
                        continue
                    at = self.rule_at(forb)
                    fired = self.engine.evaluate(case).fired
                    replay = ("" if rec in fired and forb in fired else
                              " NOTE: replayed through the engine, the example does not fire both "
                              "rules; the symbolic encoding and the compiler disagree (a bug).")
                    found.append(Finding(
                        f"recommend-forbid-overlap:{code}:{rec}:{forb}", "recommend-forbid-overlap",
                        f"rule '{rec}' recommends '{code}' and rule '{forb}' ({at.file}:{at.line}) "
                        "forbids it, and both fire on one case (the prohibition wins)",
                        self.rule_at(rec), [rec, forb],
                        "narrow one of the two conditions so they exclude each other, or "
                        "acknowledge the override" + replay, example=case))
        return found

    def unread_facts(self) -> list[Finding]:
        read = {f for rule in self.kb.rules for f in facts_read(rule.when)}
        return [Finding(f"unread-fact:{name}", "unread-fact",
                        f"case fact '{name}' is read by no rule: knowing it never changes an answer",
                        self.kb.fact_locations[name], [],
                        "write the rules that use it, or remove the fact")
                for name in self.kb.case_facts if name not in read]

    def underived_facts(self) -> list[Finding]:
        found = []
        for name in self.kb.derived_facts:
            derivers = self.producers[name]
            if any(self.can_fire(r) for r in derivers):
                continue
            why = ("no rule derives it" if not derivers
                   else f"the rules deriving it ({', '.join(derivers)}) can never fire")
            found.append(Finding(f"underived-fact:{name}", "underived-fact",
                                 f"derived fact '{name}' is never derived: {why}",
                                 self.kb.fact_locations[name], derivers,
                                 "write a rule that derives it, or remove the fact"))
        return found

    def unproduced_codes(self) -> list[Finding]:
        found = []
        for code in self.kb.outcomes:
            naming = [*self.sym.recommenders(code), *self.sym.forbidders(code)]
            if any(self.can_fire(r) for r in naming):
                continue
            why = ("no rule recommends or forbids it" if not naming
                   else f"the rules naming it ({', '.join(dict.fromkeys(naming))}) can never fire")
            found.append(Finding(f"unproduced-code:{code}", "unproduced-code",
                                 f"code '{code}' never appears in an answer: {why}",
                                 self.kb.outcome_locations[code], list(dict.fromkeys(naming)),
                                 "write the rule that recommends or forbids it, or remove the code"))
        return found

    def vacuous(self, invariants: list[Invariant], locations: dict[str, Location]) -> list[Finding]:
        found = []
        for inv in invariants:
            why = self._vacuous_reason(inv)
            if why is None:
                continue
            found.append(Finding(f"vacuous-invariant:{inv.id}", "vacuous-invariant",
                                 f"invariant '{inv.id}' can never be triggered: {why}",
                                 locations.get(inv.id, Location(str(self.kb.root / "invariants.yaml"), 1)),
                                 [], "it holds trivially and protects nothing: fix its premise "
                                 "(or the rules it is about), or remove it"))
        return found

    def _vacuous_reason(self, inv: Invariant) -> str | None:
        return inv.definition.vacuous(inv.spec, self.sym, self.possible)


def _contained(rule: Rule, other: Rule) -> bool:
    """Everything `rule` does, `other` does too."""
    return (set(rule.then.derive) <= set(other.then.derive)
            and set(rule.then.recommend) <= set(other.then.recommend)
            and {p.code for p in rule.then.forbid} <= {p.code for p in other.then.forbid})
