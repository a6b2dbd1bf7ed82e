"""Safety invariants: properties a knowledge base must satisfy for every case, stated once in
its optional `invariants.yaml` and checked by Hypothesis, by exhaustive proof and in CI.

An invariant is written in the same condition language as rules, over case facts (so that
it checks the rules rather than restating them) and, where useful, over derived facts. A
condition "holds" only when it evaluates to True under the three-valued logic of
`guidekb.engine.semantics.logic`: an invariant never fires on what is unknown.

Kinds (exactly one per invariant):

* ``never_recommend: {code|codes, when}``  - none of the codes is recommended when C holds;
* ``always_forbid: {code|codes, when}``    - every one of the codes is forbidden when C holds;
* ``requires: {code, also}``               - whenever `code` is recommended, `also` is too;
* ``never_both: {codes: [X, Y, ...]}``     - no two of the codes are recommended together;
* ``monotone: {fact, codes?}``             - learning `fact` (unknown -> any value) never
  removes a prohibition (of `codes`, or of any code);
* ``no_recommendation_forbidden: true``    - no rule recommends a code that is forbidden in
  the same answer (the engine would hide the clash: the prohibition wins);
* ``recommendations_have_provenance: true`` - every recommendation cites a source quote.

Clinical kinds cite their source like rules do, verified the same way; the structural kinds
(monotone and the last two: properties of how rules combine) may omit provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import Field, model_validator

from guidekb.engine.errors import KnowledgeBaseError, Problem
from guidekb.engine.format.checking import check_condition, check_provenance
from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase, Location
from guidekb.engine.format.models import ID_PATTERN, Condition, Provenance, Strict
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.format.validation import KNOWN_KEYS, validate
from guidekb.engine.format.yamlsource import PathKey, YamlDocument, load_yaml
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.semantics.logic import evaluate as truth

INVARIANTS_FILE = "invariants.yaml"

Evaluate = Callable[[dict[str, Any]], Answer]


# --- the format -------------------------------------------------------------------------------


class _Codes(Strict):
    """`code: x` or `codes: [x, y]`: one spelling for one code, a list for several."""

    code: str | None = None
    codes: list[str] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_spelling(self) -> _Codes:
        if (self.code is None) == (self.codes is None):
            raise ValueError("write exactly one of 'code' or 'codes'")
        return self

    @property
    def all_codes(self) -> list[str]:
        return [self.code] if self.code is not None else list(self.codes or [])


class CodesWhen(_Codes):
    when: Condition


class Requires(Strict):
    code: str = Field(description="whenever this code is recommended...")
    also: str = Field(description="...this code must be recommended too")


class NeverBoth(Strict):
    codes: list[str] = Field(min_length=2, description="no two of these are recommended together")


class Monotone(Strict):
    fact: str = Field(description="the case fact whose learning must not remove a prohibition")
    codes: list[str] | None = Field(None, min_length=1,
                                    description="only these prohibitions (default: all)")


KINDS = ("never_recommend", "always_forbid", "requires", "never_both", "monotone",
         "no_recommendation_forbidden", "recommendations_have_provenance")
# Properties of how rules combine rather than clinical claims: provenance is optional.
STRUCTURAL_KINDS = ("monotone", "no_recommendation_forbidden", "recommendations_have_provenance")


class Invariant(Strict):
    id: str = Field(pattern=ID_PATTERN)
    rationale: str = Field(min_length=1, description="why this must hold, in clinical terms")
    provenance: list[Provenance] = Field(default_factory=list)
    never_recommend: CodesWhen | None = None
    always_forbid: CodesWhen | None = None
    requires: Requires | None = None
    never_both: NeverBoth | None = None
    monotone: Monotone | None = None
    no_recommendation_forbidden: Literal[True] | None = None
    recommendations_have_provenance: Literal[True] | None = None

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
    def condition(self) -> Condition | None:
        """The `when` of a conditional invariant, else None."""
        spec = self.never_recommend or self.always_forbid
        return spec.when if spec is not None else None


class InvariantsFile(Strict):
    invariants: list[Invariant]


# Unknown keys in invariants.yaml get did-you-mean suggestions like the other files do.
for _model in (CodesWhen, Requires, NeverBoth, Monotone, Invariant, InvariantsFile):
    KNOWN_KEYS.update(info.alias or name for name, info in _model.model_fields.items())


# --- what an invariant talks about -------------------------------------------------------------


def facts_mentioned(inv: Invariant) -> set[str]:
    """Facts named by the invariant: those of its condition, or the fact of `monotone`."""
    if inv.monotone is not None:
        return {inv.monotone.fact}
    cond = inv.condition
    return facts_read(cond) if cond is not None else set()


def codes_mentioned(inv: Invariant) -> set[str]:
    spec = inv.never_recommend or inv.always_forbid
    if spec is not None:
        return set(spec.all_codes)
    if inv.requires is not None:
        return {inv.requires.code, inv.requires.also}
    if inv.never_both is not None:
        return set(inv.never_both.codes)
    if inv.monotone is not None:
        return set(inv.monotone.codes or [])
    return set()


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
        for key, code in _code_sites(inv):
            if code not in kb.outcomes:
                problems.append(doc.problem((*here, kind, *key), f"{owner} names unknown code '{code}'",
                                            did_you_mean(code, kb.outcomes, "codes")))
        if inv.condition is not None:
            problems += check_condition(kb, owner, inv.condition, doc, (*here, kind, "when"))
        if inv.monotone is not None:
            fact = inv.monotone.fact
            if fact not in kb.case_facts:
                hint = ("a derived fact is never learnt from the case; name a case fact"
                        if fact in kb.derived_facts else did_you_mean(fact, kb.case_facts, "case facts"))
                problems.append(doc.problem((*here, kind, "fact"),
                                            f"{owner} is monotone in '{fact}', which is not a case fact",
                                            hint))
        problems += check_provenance(kb, owner, inv.provenance, doc, (*here, "provenance"))
    return problems


def _code_sites(inv: Invariant) -> Iterable[tuple[PathKey, str]]:
    spec = inv.never_recommend or inv.always_forbid
    if spec is not None:
        if spec.code is not None:
            yield ("code",), spec.code
        for j, code in enumerate(spec.codes or []):
            yield ("codes", j), code
    if inv.requires is not None:
        yield ("code",), inv.requires.code
        yield ("also",), inv.requires.also
    if inv.never_both is not None:
        for j, code in enumerate(inv.never_both.codes):
            yield ("codes", j), code
    if inv.monotone is not None:
        for j, code in enumerate(inv.monotone.codes or []):
            yield ("codes", j), code


# --- checking one case -------------------------------------------------------------------------


def holds_when(cond: Condition, case: dict[str, Any], answer: Answer) -> bool:
    """Whether an invariant's condition is True for the case and the conclusions drawn."""
    facts = {**case, **dict.fromkeys(answer.derived_facts(), True)}
    return truth(cond, facts) is True


def check_case(inv: Invariant, case: dict[str, Any], evaluate: Evaluate) -> str | None:
    """None when the invariant holds for this (validated) case, else what went wrong.

    `evaluate` answers a case (usually `Engine.for_kb(kb).evaluate`); a monotone invariant
    also evaluates the case with its fact made unknown, and compares the prohibitions.
    """
    answer = evaluate(case)
    recommended = answer.recommended_codes()
    forbidden = answer.forbidden_codes()
    spec = inv.never_recommend or inv.always_forbid
    if spec is not None:
        if not holds_when(spec.when, case, answer):
            return None
        if inv.never_recommend is not None:
            bad = [c for c in spec.all_codes if c in recommended]
            return f"recommends {', '.join(bad)} although the condition holds" if bad else None
        missing = [c for c in spec.all_codes if c not in forbidden]
        return f"does not forbid {', '.join(missing)} although the condition holds" if missing else None
    if inv.requires is not None:
        x, y = inv.requires.code, inv.requires.also
        return f"recommends {x} without {y}" if x in recommended and y not in recommended else None
    if inv.never_both is not None:
        both = [c for c in inv.never_both.codes if c in recommended]
        return f"recommends {' and '.join(both)} together" if len(both) > 1 else None
    if inv.monotone is not None:
        lost = monotone_losses(inv.monotone, case, answer, evaluate)
        fact = inv.monotone.fact
        return (f"learning {fact}={case.get(fact)!r} removes the prohibition of {', '.join(lost)}"
                if lost else None)
    if inv.no_recommendation_forbidden is not None:
        clash = sorted({c.code for c in answer.conflicts} | (set(recommended) & set(forbidden)))
        return (f"{', '.join(clash)} {'is' if len(clash) == 1 else 'are'} both recommended and "
                "forbidden (the prohibition wins, but the rules contradict each other)"
                if clash else None)
    bare = [r.code for r in answer.recommendations if not any(p.quote for p in r.provenance)]
    return f"recommends {', '.join(bare)} without provenance" if bare else None


def monotone_losses(spec: Monotone, case: dict[str, Any], answer: Answer, evaluate: Evaluate) -> list[str]:
    """Codes forbidden while `spec.fact` was unknown that are no longer forbidden once the
    case's value of it is learnt. Empty when the case leaves the fact unknown."""
    if spec.fact not in case:
        return []
    before = evaluate({k: v for k, v in case.items() if k != spec.fact}).forbidden_codes()
    after = set(answer.forbidden_codes())
    watched = spec.codes if spec.codes is not None else before
    return [c for c in before if c in watched and c not in after]
