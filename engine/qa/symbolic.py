"""The knowledge base as z3 formulas: every case at once, unknown facts included.

`guidekb check --prove` and `guidekb lint` ask questions about *all* cases ("can famciclovir
ever be recommended once resistance is confirmed?"). Enumerating the cases is hopeless (about
10^9 for the HSV knowledge base), so each question becomes a satisfiability problem over one
symbolic case:

* every case fact has a presence Bool (known or unknown) and a value: an Int within
  ``min..max`` for an integer fact, an Int index into ``values`` for an enum, a Bool for a
  boolean, and one Bool per domain value for a list fact (which is exactly the set of lists a
  case may give: order never matters and duplicates are rejected by validation);
* a condition becomes a pair ``(is_true, is_false)``: its two normal forms
  (`guidekb.engine.semantics.normal_form`, "the condition is true" and "... is false" under
  Kleene logic, three-valued negation already resolved there) with each atom written over
  these variables: "known and in this set of values" is the presence Bool and a test of the
  value, "unknown" is the negated presence Bool;
* a derived conclusion is present (and true) exactly when some rule deriving it fires. The
  loader rejects cycles among conclusions and any negated or `unknown` test of one, so the
  engine's forward chaining reaches the least fixpoint, which is that disjunction read in
  dependency order (memoised recursion below);
* a code is *proposed* when a rule recommending it fires, *forbidden* when a rule forbidding
  it fires, and *recommended* and *in conflict* as `guidekb.engine.semantics.verdict` defines
  them for every backend (a prohibition beats a recommendation), instantiated with z3's
  `And`/`Not`.

The encoding is exact, not an abstraction: integers range over their whole declared domain,
so a z3 model is a valid case and every valid case is a model. `docs/proof.md` gives the
soundness argument; `tests/test_symbolic.py` checks the encoding against the real engine.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import z3

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Condition, FactSpec
from guidekb.engine.semantics import derivation, verdict
from guidekb.engine.semantics import normal_form as nf
from guidekb.engine.semantics.operators import UnsupportedCondition

Pair = tuple[Any, Any]  # (is_true, is_false), both z3 Bool expressions


# The verdict's boolean operations over z3 formulas.
Z3_OPS: verdict.BoolOps[Any] = verdict.BoolOps(and_=lambda a, b: z3.And(a, b), not_=z3.Not)


def check(solver: z3.Solver | z3.Optimize) -> z3.CheckSatResult:
    """`solver.check()`, except that Ctrl-C stops guidekb as it would anywhere else: z3 catches
    SIGINT itself to cancel a check and answers `unknown` ("interrupted from keyboard"), which
    would pass for a solver that gave up, and the run would carry on as if not interrupted."""
    result = solver.check()
    if result == z3.unknown and solver.reason_unknown() == "interrupted from keyboard":
        raise KeyboardInterrupt
    return result


@dataclass
class FactVars:
    """The z3 variables of one case fact."""

    name: str
    spec: FactSpec
    present: Any
    value: Any = None  # Int (integer, enum index) or Bool; None for list facts
    items: dict[str, Any] = field(default_factory=dict)  # list facts: one Bool per value

    def domain(self) -> list[Any]:
        """Constraints that keep the value inside the declared domain."""
        if self.spec.type == "integer":
            assert self.spec.min is not None and self.spec.max is not None
            return [self.value >= self.spec.min, self.value <= self.spec.max]
        if self.spec.type == "enum":
            return [self.value >= 0, self.value < len(self.spec.values or [])]
        return []


def _declare(name: str, spec: FactSpec, tag: str) -> FactVars:
    present = z3.Bool(f"{tag}{name}?")
    if spec.type in ("integer", "enum"):  # an enum is the index of its value
        return FactVars(name, spec, present, z3.Int(f"{tag}{name}"))
    if spec.type == "boolean":
        return FactVars(name, spec, present, z3.Bool(f"{tag}{name}"))
    return FactVars(name, spec, present,
                    items={v: z3.Bool(f"{tag}{name}[{v}]") for v in spec.values or []})


class SymbolicKB:
    """One symbolic case and the formulas saying what the knowledge base answers for it.

    `shared` and `differ` build a second copy of the case that shares every variable with
    `shared` except those of the facts in `differ`: two cases that differ only in those facts,
    which is how monotonicity ("learning F never removes a prohibition") is stated.
    """

    def __init__(self, kb: KnowledgeBase, tag: str = "", shared: SymbolicKB | None = None,
                 differ: Collection[str] = ()) -> None:
        self.kb = kb
        self.tag = tag
        self.vars: dict[str, FactVars] = {}
        for name, spec in kb.case_facts.items():
            if shared is not None and name not in differ:
                self.vars[name] = shared.vars[name]
            else:
                self.vars[name] = _declare(name, spec, tag)
        self._fired: dict[str, Any] = {}
        self._derived: dict[str, Any] = {}
        self._deriving: set[str] = set()
        self._pinned: z3.Solver | None = None
        self._derivers = derivation.producers(kb)
        self._recommenders = derivation.recommenders(kb)
        self._forbidders = derivation.forbidders(kb)

    # --- the case -------------------------------------------------------------------------

    def domain(self) -> list[Any]:
        """Constraints every valid case satisfies (value ranges); add them to every query."""
        return [c for fv in self.vars.values() for c in fv.domain()]

    def present(self, fact: str) -> Any:
        """Whether a case fact is known, or a conclusion is derived."""
        if fact in self.kb.derived_facts:
            return self.derived(fact)
        return self.vars[fact].present

    def fix(self, case: dict[str, Any]) -> list[Any]:
        """Constraints pinning the symbolic case to one concrete (validated) case."""
        constraints: list[Any] = []
        for name, fv in self.vars.items():
            if name not in case:
                constraints.append(z3.Not(fv.present))
                continue
            constraints.append(fv.present)
            value = case[name]
            if fv.spec.type == "enum_list":
                constraints += [item if v in value else z3.Not(item) for v, item in fv.items.items()]
            elif fv.spec.type == "enum":
                constraints.append(fv.value == (fv.spec.values or []).index(value))
            elif fv.spec.type == "boolean":
                constraints.append(fv.value == z3.BoolVal(bool(value)))
            else:
                constraints.append(fv.value == int(value))
        return constraints

    def case_from(self, model: z3.ModelRef, facts: Iterable[str] | None = None) -> dict[str, Any]:
        """The concrete case a z3 model describes (known facts only), in vocabulary order."""
        case: dict[str, Any] = {}
        wanted = set(self.vars) if facts is None else set(facts)
        for name, fv in self.vars.items():
            if name not in wanted or not z3.is_true(model.eval(fv.present, model_completion=True)):
                continue
            if fv.spec.type == "enum_list":
                case[name] = [v for v, item in fv.items.items()
                              if z3.is_true(model.eval(item, model_completion=True))]
            elif fv.spec.type == "boolean":
                case[name] = z3.is_true(model.eval(fv.value, model_completion=True))
            else:
                number = model.eval(fv.value, model_completion=True).as_long()
                case[name] = (fv.spec.values or [])[number] if fv.spec.type == "enum" else number
        return case

    def evaluate(self, exprs: list[Any], case: dict[str, Any]) -> list[bool]:
        """The values of formulas on one concrete case.

        The case pins every variable, so the solver's model is the case itself; reading the
        formulas in it is far faster than substituting into each one.
        """
        if self._pinned is None:
            self._pinned = z3.Solver()
            self._pinned.add(*self.domain())
        self._pinned.push()
        try:
            self._pinned.add(*self.fix(case))
            if check(self._pinned) != z3.sat:
                raise ValueError(f"case outside the fact vocabulary's domains: {case}")
            model = self._pinned.model()
            return [z3.is_true(model.eval(e, model_completion=True)) for e in exprs]
        finally:
            self._pinned.pop()

    # --- conditions -----------------------------------------------------------------------

    def truth(self, cond: Condition) -> Pair:
        """(is_true, is_false) of a condition under Kleene logic: its two normal forms."""
        return (self.formula(nf.when_true(self.kb.facts, cond)),
                self.formula(nf.when_false(self.kb.facts, cond)))

    def holds(self, cond: Condition) -> Any:
        """The condition is (Kleene) true."""
        return self.truth(cond)[0]

    def formula(self, normal: nf.Normal) -> Any:
        """A normal form as a z3 formula over the symbolic case."""
        return nf.fold(normal, self._atom,
                       lambda conjunctive, parts: _and(parts) if conjunctive else _or(parts))

    def _atom(self, atom: nf.Atom) -> Any:
        if isinstance(atom, nf.Concluded):
            return self.derived(atom.name)
        if isinstance(atom, nf.NotConcluded):
            return z3.Not(self.derived(atom.name))
        fv = self.vars[atom.fact]
        if isinstance(atom, nf.FactUnknown):
            return z3.Not(fv.present)
        if isinstance(atom, nf.FactKnown):
            return fv.present
        return z3.And(fv.present, _value_test(fv, atom))

    # --- what the knowledge base answers --------------------------------------------------

    def fired(self, rule_id: str) -> Any:
        """The rule fires: its condition is true, given the conclusions derived."""
        if rule_id not in self._fired:
            self._fired[rule_id] = z3.simplify(self.holds(self.kb.rule(rule_id).when))
        return self._fired[rule_id]

    def derived(self, name: str) -> Any:
        """The conclusion is derived: some rule deriving it fires (least fixpoint)."""
        if name not in self._derived:
            if name in self._deriving:  # the loader rejects cycles; never loop if one slips by
                raise UnsupportedCondition(f"derived facts form a cycle through '{name}'")
            self._deriving.add(name)
            self._derived[name] = _or(self.fired(r) for r in self._derivers.get(name, []))
            self._deriving.discard(name)
        return self._derived[name]

    def proposed(self, code: str) -> Any:
        """Some rule recommending the code fires (whether or not it is also forbidden)."""
        return _or(self.fired(r) for r in self._recommenders.get(code, []))

    def forbidden(self, code: str) -> Any:
        return _or(self.fired(r) for r in self._forbidders.get(code, []))

    def recommended(self, code: str) -> Any:
        """The answer recommends the code: the verdict's rule, over z3 formulas."""
        return verdict.recommended(self.proposed(code), self.forbidden(code), Z3_OPS)

    def conflict(self, code: str) -> Any:
        """The code is both proposed and forbidden (the answer lists a conflict)."""
        return verdict.conflicted(self.proposed(code), self.forbidden(code), Z3_OPS)

    def recommenders(self, code: str) -> list[str]:
        return list(self._recommenders.get(code, []))

    def forbidders(self, code: str) -> list[str]:
        return list(self._forbidders.get(code, []))


def _and(parts: Iterable[Any]) -> Any:
    items = list(parts)
    if not items:
        return z3.BoolVal(True)
    return items[0] if len(items) == 1 else z3.And(*items)


def _or(parts: Iterable[Any]) -> Any:
    items = list(parts)
    if not items:
        return z3.BoolVal(False)
    return items[0] if len(items) == 1 else z3.Or(*items)


def _value_test(fv: FactVars, atom: nf.FactIn | nf.IntIn | nf.ListHas) -> Any:
    """Whether the value of a known case fact lies in the atom's set (presence aside)."""
    if isinstance(atom, nf.ListHas):
        item = fv.items[atom.item]
        return item if atom.present else z3.Not(item)
    if isinstance(atom, nf.IntIn):
        # The domain constraints keep the value within min..max, so the ends of the domain
        # need no test of their own.
        low, high = fv.spec.min, fv.spec.max
        return _or(_and([*([fv.value >= a] if a != low else []), *([fv.value <= b] if b != high else [])])
                   for a, b in atom.intervals)
    if fv.spec.type == "boolean":
        return _or(fv.value if v else z3.Not(fv.value) for v in atom.values)
    index: dict[object, int] = {v: i for i, v in enumerate(fv.spec.values or [])}  # enum value -> Int
    return _or(fv.value == index[v] for v in atom.values)
