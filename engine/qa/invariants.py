"""Safety invariants: properties a knowledge base must satisfy for every case, stated once in
its optional `invariants.yaml` and checked by Hypothesis, by exhaustive proof and in CI.

An invariant is written in the same condition language as rules, over case facts (so that
it checks the rules rather than restating them) and, where useful, over derived facts. A
condition "holds" only when it evaluates to True under the three-valued logic of
`guidekb.engine.semantics.logic`: an invariant never fires on what is unknown.

Each invariant has exactly one kind. Everything about a kind (what it claims, its spec, its
check, proof encoding, counterexample, lint and case-generation hooks) is one registered class
in `guidekb.engine.qa.invariant_kinds`; this module holds the file format, loading and the
cross-checks, and dispatches to those classes. Clinical kinds cite their source like rules
do, verified the same way; the structural kinds (properties of how rules combine) may omit
provenance.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from guidekb.engine.errors import KnowledgeBaseError, Problem
from guidekb.engine.format.checking import check_provenance
from guidekb.engine.format.knowledge import KnowledgeBase, Location
from guidekb.engine.format.models import ID_PATTERN, Condition, Provenance, Strict
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.format.validation import validate
from guidekb.engine.format.yamlsource import PathKey, YamlDocument, load_yaml
from guidekb.engine.qa.invariant_kinds import (
    KIND_REGISTRY,
    CodesWhen,
    Evaluate,
    InvariantKind,
    Monotone,
    NeverBoth,
    Requires,
    holds_when,
    monotone_losses,
)

__all__ = ["INVARIANTS_FILE", "KINDS", "STRUCTURAL_KINDS", "CodesWhen", "Evaluate", "Invariant",
           "InvariantsFile", "Monotone", "NeverBoth", "Requires", "check_case", "check_invariants",
           "codes_mentioned", "facts_mentioned", "holds_when", "load_invariants",
           "load_invariants_located", "monotone_losses"]

INVARIANTS_FILE = "invariants.yaml"


# --- the format -------------------------------------------------------------------------------


KINDS = tuple(KIND_REGISTRY)
# Properties of how rules combine rather than clinical claims: provenance is optional.
STRUCTURAL_KINDS = tuple(name for name, kind in KIND_REGISTRY.items() if kind.structural)


# One invariant: exactly one field per kind is set, named and typed as the kind registered in
# `guidekb.engine.qa.invariant_kinds` (a test checks the two agree). No docstring: it would
# become the description of the published JSON Schema.
class Invariant(Strict):
    id: str = Field(pattern=ID_PATTERN, description="unique id, shown when the invariant fails",
                    examples=["no-famciclovir-when-resistant"])
    rationale: str = Field(min_length=1, description="why this must hold, in clinical terms",
                           examples=["Famciclovir shares acyclovir's resistance."])
    provenance: list[Provenance] = Field(default_factory=list, description="the source passages "
                                         "behind a clinical invariant (structural kinds need none)")
    never_recommend: CodesWhen | None = Field(None, description="these codes are never "
                                              "recommended when `when` holds",
                                              examples=[{"code": "famciclovir", "when": {
                                                  "fact": "resistance_confirmed", "equals": True}}])
    always_forbid: CodesWhen | None = Field(None, description="these codes are always forbidden "
                                            "when `when` holds",
                                            examples=[{"codes": ["acyclovir"], "when": {
                                                "fact": "resistance_confirmed", "equals": True}}])
    requires: Requires | None = Field(None, description="whenever `code` is recommended, `also` "
                                      "is too", examples=[{"code": "iv_foscarnet",
                                                           "also": "monitor_renal_function"}])
    never_both: NeverBoth | None = Field(None, description="no two of `codes` are recommended "
                                         "together", examples=[{"codes": ["a", "b"]}])
    monotone: Monotone | None = Field(None, description="learning `fact` never removes a "
                                      "prohibition", examples=[{"fact": "immune_status"}])
    no_recommendation_forbidden: Literal[True] | None = Field(
        None, description="no code is both recommended and forbidden", examples=[True])
    recommendations_have_provenance: Literal[True] | None = Field(
        None, description="every recommendation carries a source quote", examples=[True])

    @model_validator(mode="after")
    def _one_kind(self) -> Invariant:
        used = [k for k in KINDS if getattr(self, k) is not None]
        if len(used) != 1:
            raise ValueError(f"an invariant needs exactly one of {', '.join(KINDS)} "
                             f"(got {', '.join(used) if used else 'none'})")
        if used[0] not in STRUCTURAL_KINDS and not self.provenance:
            raise ValueError(f"a '{used[0]}' invariant is a clinical claim: cite its source "
                             "under 'provenance'")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def definition(self) -> InvariantKind[Any]:
        """The registered class of this invariant's kind: everything the tools do with it."""
        return KIND_REGISTRY[self.kind]

    @property
    def spec(self) -> Any:
        """What follows the kind's key (`True` for the kinds that take no parameters)."""
        return getattr(self, self.kind)

    @property
    def condition(self) -> Condition | None:
        """The `when` of a conditional invariant, else None."""
        return self.definition.condition(self.spec)


class InvariantsFile(Strict):
    """Safety properties that must hold for every case (invariants.yaml)."""

    invariants: list[Invariant] = Field(description="each invariant: an id, a rationale and "
                                        "exactly one kind")


# --- what an invariant talks about -------------------------------------------------------------


def facts_mentioned(inv: Invariant) -> set[str]:
    """Facts named by the invariant: those of its condition, or the fact of `monotone`."""
    return inv.definition.facts(inv.spec)


def codes_mentioned(inv: Invariant) -> set[str]:
    """Codes named by the invariant (none for the kinds about every code)."""
    return {code for _, code in inv.definition.code_sites(inv.spec)}


# --- loading -----------------------------------------------------------------------------------


def load_invariants(kb: KnowledgeBase) -> list[Invariant]:
    """The knowledge base's invariants (none if it has no invariants.yaml), or raise
    KnowledgeBaseError listing every problem of the file, located."""
    return load_invariants_located(kb)[0]


def load_invariants_located(kb: KnowledgeBase) -> tuple[list[Invariant], dict[str, Location]]:
    """As `load_invariants`, plus where each invariant was written (for findings and reports)."""
    path = kb.root / INVARIANTS_FILE
    if not path.is_file():
        return [], {}
    doc, problems = load_yaml(path)
    if problems:
        raise KnowledgeBaseError(problems)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("invariants"), list):
        raise KnowledgeBaseError([doc.problem((), "expected 'invariants:' followed by a list",
                                              "see docs/qa-guide.md for the format")])
    for key in data:
        if key != "invariants":
            problems.append(doc.problem((key,), f"unknown key '{key}' at the top of the file",
                                        did_you_mean(str(key), ["invariants"], "keys"), prefer_key=True))
    # Each invariant is validated on its own so that one malformed entry does not hide the
    # cross-reference problems of the others.
    indexed: list[tuple[int, Invariant]] = []
    for i in range(len(data["invariants"])):
        inv, errors = validate(Invariant, doc, ("invariants", i))
        problems += errors
        if inv is not None:
            indexed.append((i, inv))
    problems += check_invariants(kb, indexed, doc)
    if problems:
        raise KnowledgeBaseError(problems)
    locations = {}
    for i, inv in indexed:
        pos = doc.position(("invariants", i), prefer_key=True)
        locations[inv.id] = Location(doc.file, pos.line, pos.column)
    return [inv for _, inv in indexed], locations


def check_invariants(kb: KnowledgeBase, indexed: list[tuple[int, Invariant]],
                     doc: YamlDocument) -> list[Problem]:
    """Cross-checks against the knowledge base: ids, codes, facts, values, provenance.
    `indexed` pairs each invariant with its position in the file's list."""
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for i, inv in indexed:
        here: PathKey = ("invariants", i)
        owner = f"invariant '{inv.id}'"
        if inv.id in first_seen:
            problems.append(doc.problem((*here, "id"), f"duplicate invariant id '{inv.id}'",
                                        f"first defined at line {first_seen[inv.id]}"))
        else:
            first_seen[inv.id] = doc.position((*here, "id")).line
        kind = inv.kind
        for key, code in inv.definition.code_sites(inv.spec):
            if code not in kb.outcomes:
                problems.append(doc.problem((*here, kind, *key), f"{owner} names unknown code '{code}'",
                                            did_you_mean(code, kb.outcomes, "codes")))
        problems += inv.definition.cross_check(kb, inv.spec, owner, doc, (*here, kind))
        problems += check_provenance(kb, owner, inv.provenance, doc, (*here, "provenance"))
    return problems


# --- checking one case -------------------------------------------------------------------------


def check_case(inv: Invariant, case: dict[str, Any], evaluate: Evaluate) -> str | None:
    """None when the invariant holds for this (validated) case, else what went wrong.

    `evaluate` answers a case (usually `Engine.for_kb(kb).evaluate`); a monotone invariant
    also evaluates the case with its fact made unknown, and compares the prohibitions.
    """
    return inv.definition.check(inv.spec, case, evaluate(case), evaluate)
