"""Each kind of invariant, defined once: one registered class per kind holds everything the
QA tools need to know about it.

A kind's class has its spec model (what follows the kind's key in invariants.yaml) and these
hooks, each used by one tool:

* ``code_sites``, ``condition``, ``facts``, ``cross_check`` - what the invariant names, and
  its checks against the knowledge base at load time (`guidekb.engine.qa.invariants`);
* ``check``        - does one concrete answer violate it (property tests, `guidekb check`);
* ``violation``    - the z3 formula satisfiable exactly by violating cases (`guidekb check
  --prove`, `guidekb.engine.qa.proof`);
* ``expectations`` and ``scenario_note`` - the scenario a counterexample is written out as
  (`guidekb.engine.qa.counterexamples`);
* ``vacuous``      - why no case can trigger it, if so (`guidekb lint`);
* ``aims``         - conditions under which it has something to check, to aim generated cases
  at (`guidekb.engine.qa.strategies.invariant_cases`);
* ``structural``   - a property of how rules combine rather than a clinical claim, so its
  provenance is optional.

Adding a kind means writing one class here, decorated with `@register`, and adding its field
(named like the kind, typed by its spec) to `guidekb.engine.qa.invariants.Invariant`;
`tests/test_invariants_api.py` checks the two agree and that every hook is implemented.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

import z3
from pydantic import Field, model_validator

from guidekb.engine.errors import Problem
from guidekb.engine.format.checking import check_condition
from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import AllOf, AnyOf, Condition, Expectations, Strict
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.format.yamlsource import PathKey, YamlDocument
from guidekb.engine.qa.symbolic import SymbolicKB
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.semantics.derivation import forbidders, recommenders
from guidekb.engine.semantics.logic import evaluate as truth

Evaluate = Callable[[dict[str, Any]], Answer]
Possible = Callable[..., bool]  # some case satisfies these z3 constraints (domain included)


# --- the spec models: what follows each kind's key in invariants.yaml -------------------------


class _Codes(Strict):
    """`code: x` or `codes: [x, y]`: one spelling for one code, a list for several."""

    code: str | None = Field(None, description="one code (or write `codes` for several)",
                             examples=["famciclovir"])
    codes: list[str] | None = Field(None, min_length=1, description="several codes (or write "
                                    "`code` for one)", examples=[["famciclovir", "acyclovir"]])

    @model_validator(mode="after")
    def _one_spelling(self) -> _Codes:
        if (self.code is None) == (self.codes is None):
            raise ValueError("write exactly one of 'code' or 'codes'")
        return self

    @property
    def all_codes(self) -> list[str]:
        return [self.code] if self.code is not None else list(self.codes or [])


class CodesWhen(_Codes):
    when: Condition = Field(description="the cases the invariant is about: a condition as in "
                            "rules", examples=[{"fact": "resistance_confirmed", "equals": True}])


class Requires(Strict):
    code: str = Field(description="whenever this code is recommended...", examples=["iv_foscarnet"])
    also: str = Field(description="...this code must be recommended too",
                      examples=["monitor_renal_function"])


class NeverBoth(Strict):
    codes: list[str] = Field(min_length=2, description="no two of these are recommended together",
                             examples=[["iv_foscarnet", "valacyclovir"]])


class Monotone(Strict):
    fact: str = Field(description="the case fact whose learning must not remove a prohibition",
                      examples=["immune_status"])
    codes: list[str] | None = Field(None, min_length=1,
                                    description="only these prohibitions (default: all)",
                                    examples=[["famciclovir"]])


Flag = Literal[True]  # the spec of a kind that takes no parameters: `kind: true`


# --- what every kind shares ---------------------------------------------------------------------


@dataclass
class Goal:
    """A violation as a z3 question: `formula` is satisfiable exactly when some case violates
    the invariant; `sym` is the copy of the case the counterexample is read from (monotone
    invariants have two); `domain` keeps every copy inside the vocabulary's ranges; `method`
    says how it is decided, for the report."""

    formula: Any
    sym: SymbolicKB
    domain: list[Any]
    method: str


def any_of(parts: Iterable[Any]) -> Any:
    """The z3 disjunction of the parts (False when there are none)."""
    items = list(parts)
    return z3.Or(*items) if len(items) > 1 else (items[0] if items else z3.BoolVal(False))


def holds_when(cond: Condition, case: dict[str, Any], answer: Answer) -> bool:
    """Whether an invariant's condition is True for the case and the conclusions drawn."""
    facts = {**case, **dict.fromkeys(answer.derived_facts(), True)}
    return truth(cond, facts) is True


def recommending(kb: KnowledgeBase, code: str) -> list[Condition]:
    """The conditions of the rules recommending the code."""
    return [kb.rule(rule_id).when for rule_id in recommenders(kb).get(code, [])]


def forbidding(kb: KnowledgeBase, code: str | None) -> list[Condition]:
    """The conditions of the rules forbidding the code (any code, for None)."""
    if code is None:
        anything = {rule_id for rules in forbidders(kb).values() for rule_id in rules}
        return [rule.when for rule in kb.rules if rule.id in anything]
    return [kb.rule(rule_id).when for rule_id in forbidders(kb).get(code, [])]


def either(conds: list[Condition]) -> list[Condition]:
    """One aim: any of the conditions (no aim when there are none)."""
    return [AnyOf(any=conds)] if conds else []


S = TypeVar("S")


class InvariantKind(ABC, Generic[S]):
    """Everything about one kind of invariant, `S` being its spec model."""

    name: ClassVar[str]  # the key in invariants.yaml, and the Invariant field
    spec_type: ClassVar[Any]  # the type of that field (without None)
    structural: ClassVar[bool] = False  # provenance optional: not a clinical claim

    # --- what the invariant names (loading, cone of influence, focus of generated cases)

    def code_sites(self, spec: S) -> Iterable[tuple[PathKey, str]]:
        """Each code the invariant names, with where it is written under the kind's key."""
        return ()

    def condition(self, spec: S) -> Condition | None:
        """The `when` of a conditional invariant, else None."""
        return None

    def facts(self, spec: S) -> set[str]:
        """Facts the invariant names: those its condition reads."""
        cond = self.condition(spec)
        return facts_read(cond) if cond is not None else set()

    def cross_check(self, kb: KnowledgeBase, spec: S, owner: str, doc: YamlDocument,
                    at: PathKey) -> list[Problem]:
        """Problems of the spec against the knowledge base (besides unknown codes); `at` is
        the path of the kind's key."""
        cond = self.condition(spec)
        return check_condition(kb, owner, cond, doc, (*at, "when")) if cond is not None else []

    # --- the tools

    @abstractmethod
    def check(self, spec: S, case: dict[str, Any], answer: Answer, evaluate: Evaluate) -> str | None:
        """None when the answer to the (validated) case keeps the invariant, else what went
        wrong. `evaluate` answers other cases (the monotone kind compares two)."""

    @abstractmethod
    def violation(self, spec: S, sym: SymbolicKB) -> Goal:
        """The violation over every case, as a z3 question (mirrors `check`)."""

    @abstractmethod
    def expectations(self, spec: S, case: dict[str, Any], answer: Answer,
                     evaluate: Evaluate) -> Expectations:
        """What a scenario pinning the invariant on this violating case must expect: it fails
        while the violation stands and passes once it is fixed."""

    def scenario_note(self, spec: S) -> str:
        """Said in the scenario's description when expectations cannot state the fix."""
        return ""

    @abstractmethod
    def vacuous(self, spec: S, sym: SymbolicKB, possible: Possible) -> str | None:
        """Why no case can ever trigger the invariant, or None when some case can."""

    @abstractmethod
    def aims(self, spec: S, kb: KnowledgeBase) -> list[Condition]:
        """Conditions under which the invariant has something to check."""


KIND_REGISTRY: dict[str, InvariantKind[Any]] = {}

K = TypeVar("K", bound=type[InvariantKind[Any]])


def register(cls: K) -> K:
    """Register a kind (in the order kinds are listed to authors)."""
    if cls.name in KIND_REGISTRY:
        raise ValueError(f"invariant kind '{cls.name}' is registered twice")
    KIND_REGISTRY[cls.name] = cls()
    return cls


# --- the kinds ----------------------------------------------------------------------------------


class _Conditional(InvariantKind[CodesWhen]):
    """`{code|codes, when}`: a claim about the codes on every case where `when` is true."""

    spec_type = CodesWhen

    def code_sites(self, spec: CodesWhen) -> Iterable[tuple[PathKey, str]]:
        if spec.code is not None:
            yield ("code",), spec.code
        for j, code in enumerate(spec.codes or []):
            yield ("codes", j), code

    def condition(self, spec: CodesWhen) -> Condition | None:
        return spec.when

    def check(self, spec: CodesWhen, case: dict[str, Any], answer: Answer,
              evaluate: Evaluate) -> str | None:
        return self.check_codes(spec.all_codes, answer) if holds_when(spec.when, case, answer) else None

    @abstractmethod
    def check_codes(self, codes: list[str], answer: Answer) -> str | None:
        """What is wrong with the codes in an answer where the condition holds."""

    def violation(self, spec: CodesWhen, sym: SymbolicKB) -> Goal:
        bad = any_of(self.bad_code(sym, c) for c in spec.all_codes)
        return Goal(z3.And(sym.holds(spec.when), bad), sym, sym.domain(), "solver")

    @abstractmethod
    def bad_code(self, sym: SymbolicKB, code: str) -> Any:
        """The z3 formula: the answer gets this code wrong (as `check_codes` reads it)."""

    def vacuous(self, spec: CodesWhen, sym: SymbolicKB, possible: Possible) -> str | None:
        return None if possible(sym.holds(spec.when)) else "no case satisfies its 'when'"

    def aims(self, spec: CodesWhen, kb: KnowledgeBase) -> list[Condition]:
        return [spec.when]


@register
class NeverRecommendKind(_Conditional):
    """``never_recommend: {code|codes, when}`` - none of the codes is recommended when C holds."""

    name = "never_recommend"

    def check_codes(self, codes: list[str], answer: Answer) -> str | None:
        recommended = answer.recommended_codes()
        bad = [c for c in codes if c in recommended]
        return f"recommends {', '.join(bad)} although the condition holds" if bad else None

    def bad_code(self, sym: SymbolicKB, code: str) -> Any:
        return sym.recommended(code)

    def expectations(self, spec: CodesWhen, case: dict[str, Any], answer: Answer,
                     evaluate: Evaluate) -> Expectations:
        return Expectations(not_recommended=spec.all_codes)


@register
class AlwaysForbidKind(_Conditional):
    """``always_forbid: {code|codes, when}`` - every one of the codes is forbidden when C holds."""

    name = "always_forbid"

    def check_codes(self, codes: list[str], answer: Answer) -> str | None:
        forbidden = answer.forbidden_codes()
        missing = [c for c in codes if c not in forbidden]
        return f"does not forbid {', '.join(missing)} although the condition holds" if missing else None

    def bad_code(self, sym: SymbolicKB, code: str) -> Any:
        return z3.Not(sym.forbidden(code))

    def expectations(self, spec: CodesWhen, case: dict[str, Any], answer: Answer,
                     evaluate: Evaluate) -> Expectations:
        return Expectations(forbidden=spec.all_codes)


@register
class RequiresKind(InvariantKind[Requires]):
    """``requires: {code, also}`` - whenever `code` is recommended, `also` is too."""

    name = "requires"
    spec_type = Requires

    def code_sites(self, spec: Requires) -> Iterable[tuple[PathKey, str]]:
        return [(("code",), spec.code), (("also",), spec.also)]

    def check(self, spec: Requires, case: dict[str, Any], answer: Answer,
              evaluate: Evaluate) -> str | None:
        recommended = answer.recommended_codes()
        x, y = spec.code, spec.also
        return f"recommends {x} without {y}" if x in recommended and y not in recommended else None

    def violation(self, spec: Requires, sym: SymbolicKB) -> Goal:
        formula = z3.And(sym.recommended(spec.code), z3.Not(sym.recommended(spec.also)))
        return Goal(formula, sym, sym.domain(), "solver")

    def expectations(self, spec: Requires, case: dict[str, Any], answer: Answer,
                     evaluate: Evaluate) -> Expectations:
        return Expectations(recommended=[spec.also])

    def vacuous(self, spec: Requires, sym: SymbolicKB, possible: Possible) -> str | None:
        code = spec.code
        return None if possible(sym.recommended(code)) else f"'{code}' is never recommended"

    def aims(self, spec: Requires, kb: KnowledgeBase) -> list[Condition]:
        return either(recommending(kb, spec.code))


@register
class NeverBothKind(InvariantKind[NeverBoth]):
    """``never_both: {codes: [X, Y, ...]}`` - no two of the codes are recommended together."""

    name = "never_both"
    spec_type = NeverBoth

    def code_sites(self, spec: NeverBoth) -> Iterable[tuple[PathKey, str]]:
        return [(("codes", j), code) for j, code in enumerate(spec.codes)]

    def check(self, spec: NeverBoth, case: dict[str, Any], answer: Answer,
              evaluate: Evaluate) -> str | None:
        recommended = answer.recommended_codes()
        both = [c for c in spec.codes if c in recommended]
        return f"recommends {' and '.join(both)} together" if len(both) > 1 else None

    def violation(self, spec: NeverBoth, sym: SymbolicKB) -> Goal:
        codes = spec.codes
        pairs = [z3.And(sym.recommended(a), sym.recommended(b))
                 for i, a in enumerate(codes) for b in codes[i + 1:]]
        return Goal(any_of(pairs), sym, sym.domain(), "solver")

    def expectations(self, spec: NeverBoth, case: dict[str, Any], answer: Answer,
                     evaluate: Evaluate) -> Expectations:
        both = [c for c in spec.codes if c in answer.recommended_codes()]
        return Expectations(not_recommended=both[1:] or spec.codes[1:])

    def vacuous(self, spec: NeverBoth, sym: SymbolicKB, possible: Possible) -> str | None:
        never = [c for c in spec.codes if not possible(sym.recommended(c))]
        if len(spec.codes) - len(never) >= 2:
            return None
        return f"{', '.join(never)} {'is' if len(never) == 1 else 'are'} never recommended"

    def aims(self, spec: NeverBoth, kb: KnowledgeBase) -> list[Condition]:
        parts = [AnyOf(any=recommending(kb, c)) for c in spec.codes if recommending(kb, c)]
        return [AllOf(all=parts)] if len(parts) > 1 else []


def monotone_losses(spec: Monotone, case: dict[str, Any], answer: Answer, evaluate: Evaluate) -> list[str]:
    """Codes forbidden while `spec.fact` was unknown that are no longer forbidden once the
    case's value of it is learnt. Empty when the case leaves the fact unknown."""
    if spec.fact not in case:
        return []
    before = evaluate({k: v for k, v in case.items() if k != spec.fact}).forbidden_codes()
    after = set(answer.forbidden_codes())
    watched = spec.codes if spec.codes is not None else before
    return [c for c in before if c in watched and c not in after]


@register
class MonotoneKind(InvariantKind[Monotone]):
    """``monotone: {fact, codes?}`` - learning `fact` (unknown -> any value) never removes a
    prohibition (of `codes`, or of any code). Stated over two copies of the case that differ
    only in that fact."""

    name = "monotone"
    spec_type = Monotone
    structural = True

    def code_sites(self, spec: Monotone) -> Iterable[tuple[PathKey, str]]:
        return [(("codes", j), code) for j, code in enumerate(spec.codes or [])]

    def facts(self, spec: Monotone) -> set[str]:
        return {spec.fact}

    def cross_check(self, kb: KnowledgeBase, spec: Monotone, owner: str, doc: YamlDocument,
                    at: PathKey) -> list[Problem]:
        fact = spec.fact
        if fact in kb.case_facts:
            return []
        hint = ("a derived fact is never learnt from the case; name a case fact"
                if fact in kb.derived_facts else did_you_mean(fact, kb.case_facts, "case facts"))
        return [doc.problem((*at, "fact"), f"{owner} is monotone in '{fact}', which is not a case fact",
                            hint)]

    def check(self, spec: Monotone, case: dict[str, Any], answer: Answer,
              evaluate: Evaluate) -> str | None:
        lost = monotone_losses(spec, case, answer, evaluate)
        fact = spec.fact
        return (f"learning {fact}={case.get(fact)!r} removes the prohibition of {', '.join(lost)}"
                if lost else None)

    def _learnt(self, sym: SymbolicKB, spec: Monotone) -> tuple[SymbolicKB, list[str]]:
        """The copy of the case in which the fact is learnt, and the codes watched."""
        learnt = SymbolicKB(sym.kb, tag="learnt:", shared=sym, differ={spec.fact})
        return learnt, spec.codes if spec.codes is not None else list(sym.kb.outcomes)

    def violation(self, spec: Monotone, sym: SymbolicKB) -> Goal:
        fact = spec.fact
        learnt, watched = self._learnt(sym, spec)
        lost = any_of(z3.And(sym.forbidden(c), z3.Not(learnt.forbidden(c))) for c in watched)
        formula = z3.And(z3.Not(sym.vars[fact].present), learnt.vars[fact].present, lost)
        return Goal(formula, learnt, sym.domain() + learnt.vars[fact].domain(),
                    "solver, two copies of the case")

    def expectations(self, spec: Monotone, case: dict[str, Any], answer: Answer,
                     evaluate: Evaluate) -> Expectations:
        return Expectations(forbidden=monotone_losses(spec, case, answer, evaluate))

    def vacuous(self, spec: Monotone, sym: SymbolicKB, possible: Possible) -> str | None:
        fact = spec.fact
        learnt, watched = self._learnt(sym, spec)
        change = any_of(z3.Xor(sym.forbidden(c), learnt.forbidden(c)) for c in watched)
        if z3.is_false(z3.simplify(change)) or not possible(
                z3.Not(sym.vars[fact].present), learnt.vars[fact].present, change,
                *learnt.vars[fact].domain()):
            return f"learning '{fact}' never changes a prohibition"
        return None

    def aims(self, spec: Monotone, kb: KnowledgeBase) -> list[Condition]:
        watched: list[str | None] = [*spec.codes] if spec.codes else [None]
        return either([w for c in watched for w in forbidding(kb, c)])


@register
class NoRecommendationForbiddenKind(InvariantKind[Flag]):
    """``no_recommendation_forbidden: true`` - no rule recommends a code that is forbidden in
    the same answer (the engine would hide the clash: the prohibition wins)."""

    name = "no_recommendation_forbidden"
    spec_type = Flag
    structural = True

    def check(self, spec: Flag, case: dict[str, Any], answer: Answer, evaluate: Evaluate) -> str | None:
        recommended, forbidden = answer.recommended_codes(), answer.forbidden_codes()
        clash = sorted({c.code for c in answer.conflicts} | (set(recommended) & set(forbidden)))
        return (f"{', '.join(clash)} {'is' if len(clash) == 1 else 'are'} both recommended and "
                "forbidden (the prohibition wins, but the rules contradict each other)"
                if clash else None)

    def violation(self, spec: Flag, sym: SymbolicKB) -> Goal:
        return Goal(any_of(sym.conflict(c) for c in sym.kb.outcomes), sym, sym.domain(), "solver")

    def expectations(self, spec: Flag, case: dict[str, Any], answer: Answer,
                     evaluate: Evaluate) -> Expectations:
        # Scenarios cannot say "no rule proposes X". The nearest expectation that fails now
        # is "X not forbidden"; when the right fix is to narrow the recommending rule rather
        # than the prohibition, the reviewer turns it into `forbidden: [X]` (docs/proof.md).
        return Expectations(not_forbidden=sorted({c.code for c in answer.conflicts}))

    def vacuous(self, spec: Flag, sym: SymbolicKB, possible: Possible) -> str | None:
        return None  # a property of every answer: there is always something to check

    def aims(self, spec: Flag, kb: KnowledgeBase) -> list[Condition]:
        return either([AllOf(all=[AnyOf(any=recommending(kb, c)), AnyOf(any=forbidding(kb, c))])
                       for c in kb.outcomes if recommending(kb, c) and forbidding(kb, c)])


@register
class RecommendationsHaveProvenanceKind(InvariantKind[Flag]):
    """``recommendations_have_provenance: true`` - every recommendation cites a source quote."""

    name = "recommendations_have_provenance"
    spec_type = Flag
    structural = True

    def check(self, spec: Flag, case: dict[str, Any], answer: Answer, evaluate: Evaluate) -> str | None:
        bare = [r.code for r in answer.recommendations if not any(p.quote for p in r.provenance)]
        return f"recommends {', '.join(bare)} without provenance" if bare else None

    def violation(self, spec: Flag, sym: SymbolicKB) -> Goal:
        # The answer cites the first fired recommender (knowledge-base order).
        kb = sym.kb
        bare = {r.id for r in kb.rules if not any(p.quote for p in r.provenance)}
        cases = []
        for code in kb.outcomes:
            before: list[Any] = []
            for rule_id in sym.recommenders(code):
                if rule_id in bare:
                    cases.append(z3.And(sym.recommended(code), sym.fired(rule_id), *map(z3.Not, before)))
                before.append(sym.fired(rule_id))
        method = "solver" if bare else "static: every recommending rule cites a verified quote"
        return Goal(any_of(cases), sym, sym.domain(), method)

    def expectations(self, spec: Flag, case: dict[str, Any], answer: Answer,
                     evaluate: Evaluate) -> Expectations:
        return Expectations()  # a missing quote is not an answer: the description says what to fix

    def scenario_note(self, spec: Flag) -> str:
        return " No expectation can state a missing quote: give the rule its provenance."

    def vacuous(self, spec: Flag, sym: SymbolicKB, possible: Possible) -> str | None:
        return None  # a property of every answer: there is always something to check

    def aims(self, spec: Flag, kb: KnowledgeBase) -> list[Condition]:
        return either([w for c in kb.outcomes for w in recommending(kb, c)])
