"""The meaning of a condition, written once: the cases where it is true, as a positive
and/or formula over a few atoms.

A condition is read under Kleene logic (`guidekb.engine.semantics.logic` is the plain
executable specification): a test of an unknown fact is neither true nor false, `not` swaps
true and false and leaves unknown alone, `all`/`any` are the Kleene and/or. "The condition is
true" is two-valued, and so is "the condition is false"; both push down through `all`/`any`
(De Morgan holds in Kleene logic) and through `not` (which swaps the two), until only tests of
single facts are left, each asked to be true or asked to be false. This module is the ONLY
place where that three-valued negation is handled. A test asked to be false becomes "the
fact is known and its value is in the complement of the accepted set"; `not known x` becomes
`unknown x`. Every backend (the durable_rules compiler, the z3 encoding, the decision
diagrams, the aimed case generator, scenario coverage, explanations) is a fold over the
result and never sees a `not`.

The atoms:

* `FactUnknown(f)` / `FactKnown(f)`: the case fact is absent / present (any value);
* `FactIn(f, values)`: a boolean or enum fact is known and its value is one of `values`
  (a non-empty proper subset of the domain, in domain order);
* `IntIn(f, intervals)`: an integer fact is known and its value lies in `intervals`
  (a non-empty proper part of ``min..max``, see `guidekb.engine.semantics.intervals`);
* `ListHas(f, item, present)`: a list fact is known and holds `item` (or, `present=False`,
  does not);
* `Concluded(d)` / `NotConcluded(d)`: the derived conclusion was drawn / was not. The loader
  admits conclusions only positively, so `NotConcluded` appears only in the *false* form
  (`when_false`) of a loaded condition, never in its true form.

A value set that is empty makes the atom `False`; one that is the whole domain makes it
`FactKnown`. Junctions are flattened and simplified: constants absorbed, repeated atoms
dropped, and atoms on one fact combined (``e in [a, b]`` or ``e = c`` becomes one `FactIn`),
so that equal meanings tend to get equal forms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from guidekb.engine.format.models import (
    AllOf,
    Always,
    AnyOf,
    Compare,
    Condition,
    FactSpec,
    Known,
    Not,
    Unknown,
)
from guidekb.engine.semantics import intervals
from guidekb.engine.semantics.intervals import Intervals
from guidekb.engine.semantics.operators import (
    UnsupportedCondition,
    Value,
    accepted_integers,
    accepted_values,
    tested_item,
)

Truth = bool | None


# --- atoms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactUnknown:
    fact: str


@dataclass(frozen=True)
class FactKnown:
    fact: str


@dataclass(frozen=True)
class FactIn:
    fact: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class IntIn:
    fact: str
    intervals: Intervals


@dataclass(frozen=True)
class ListHas:
    fact: str
    item: str
    present: bool


@dataclass(frozen=True)
class Concluded:
    name: str


@dataclass(frozen=True)
class NotConcluded:
    name: str


Atom = FactUnknown | FactKnown | FactIn | IntIn | ListHas | Concluded | NotConcluded


@dataclass(frozen=True)
class And:
    parts: tuple[Normal, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Normal, ...]


Normal = bool | Atom | And | Or


def atom_fact(atom: Atom) -> str:
    """The fact (or conclusion) an atom is about."""
    return atom.name if isinstance(atom, Concluded | NotConcluded) else atom.fact


# --- from a condition to its normal forms ---------------------------------------------------

Vocabulary = Mapping[str, FactSpec]
BOOLEANS: tuple[Value, ...] = (True, False)
CONCLUSION: tuple[Value, ...] = (True,)  # a conclusion is drawn (true) or absent (unknown)


def when_true(facts: Vocabulary, condition: Condition) -> Normal:
    """The cases where `condition` is true (`facts`: the fact vocabulary, e.g. `kb.facts`)."""
    return _form(facts, condition, True)


def when_false(facts: Vocabulary, condition: Condition) -> Normal:
    """The cases where `condition` is false (not merely unknown)."""
    return _form(facts, condition, False)


def _form(facts: Vocabulary, cond: Condition, want: bool) -> Normal:
    """The cases where `cond` evaluates to `want` (True or False; never unknown)."""
    if isinstance(cond, AllOf | AnyOf):
        children = cond.all if isinstance(cond, AllOf) else cond.any
        # all is true when every part is; false when some part is (De Morgan for any).
        every = isinstance(cond, AllOf) == want
        parts = [_form(facts, c, want) for c in children]
        return conjoin(facts, parts) if every else disjoin(facts, parts)
    if isinstance(cond, Not):
        return _form(facts, cond.not_, not want)
    if isinstance(cond, Always):
        return want
    if isinstance(cond, Known | Unknown):
        name = cond.known if isinstance(cond, Known) else cond.unknown
        return _presence(name, _spec(facts, name), isinstance(cond, Known) == want)
    return _test(cond, _spec(facts, cond.fact), want)


def _spec(facts: Vocabulary, name: str) -> FactSpec:
    if name not in facts:
        raise UnsupportedCondition(f"unknown fact '{name}'")
    return facts[name]


def _presence(name: str, spec: FactSpec, present: bool) -> Normal:
    if spec.derived:
        return Concluded(name) if present else NotConcluded(name)
    return FactKnown(name) if present else FactUnknown(name)


def _test(test: Compare, spec: FactSpec, want: bool) -> Normal:
    """A test of one fact that must come out `want`: the fact is known, and its value is in
    the accepted set (want=True) or in its complement within the domain (want=False)."""
    name = test.fact
    if spec.type == "enum_list":
        return ListHas(name, tested_item(test, spec), want)
    if spec.type == "integer":
        low, high = _bounds(spec)
        accepted = accepted_integers(test, low, high, spec)
        return _int_in(name, spec, accepted if want else intervals.complement(accepted, low, high))
    domain = CONCLUSION if spec.derived else _finite_domain(spec)
    accepted_set = set(accepted_values(test, spec, domain))
    chosen = tuple(v for v in domain if (v in accepted_set) == want)
    if spec.derived:
        return Concluded(name) if chosen else False
    return _fact_in(name, spec, chosen)


def _bounds(spec: FactSpec) -> tuple[int, int]:
    assert spec.min is not None and spec.max is not None, "the loader requires min and max"
    return spec.min, spec.max


def _finite_domain(spec: FactSpec) -> tuple[Value, ...]:
    return BOOLEANS if spec.type == "boolean" else tuple(spec.values or ())


def _fact_in(name: str, spec: FactSpec, values: tuple[Value, ...]) -> Normal:
    if not values:
        return False
    return FactKnown(name) if len(values) == len(_finite_domain(spec)) else FactIn(name, values)


def _int_in(name: str, spec: FactSpec, accepted: Intervals) -> Normal:
    if not accepted:
        return False
    return FactKnown(name) if accepted == ((_bounds(spec)),) else IntIn(name, accepted)


# --- junctions, simplified -----------------------------------------------------------------


def conjoin(facts: Vocabulary, parts: Iterable[Normal]) -> Normal:
    """All of `parts`, flattened and simplified."""
    return _junction(facts, True, parts)


def disjoin(facts: Vocabulary, parts: Iterable[Normal]) -> Normal:
    """Any of `parts`, flattened and simplified."""
    return _junction(facts, False, parts)


def _junction(facts: Vocabulary, conjunctive: bool, parts: Iterable[Normal]) -> Normal:
    flat: list[Normal] = []
    kind = And if conjunctive else Or
    for part in parts:
        if isinstance(part, bool):
            if part != conjunctive:
                return part  # false in an `all`, true in an `any`
            continue
        flat.extend(part.parts if isinstance(part, kind) else (part,))
    merged = _merge_atoms(facts, conjunctive, flat)
    if isinstance(merged, bool):
        return merged
    if not merged:
        return conjunctive
    if len(merged) == 1:
        return merged[0]
    return And(tuple(merged)) if conjunctive else Or(tuple(merged))


def _value_set(facts: Vocabulary, atom: Atom) -> FactIn | IntIn | None:
    """A known-value atom as an explicit set (FactKnown as the whole domain), else None."""
    if isinstance(atom, FactIn | IntIn):
        return atom
    if isinstance(atom, FactKnown):
        spec = facts[atom.fact]
        if spec.type == "integer":
            return IntIn(atom.fact, (_bounds(spec),))
        if spec.type in ("boolean", "enum"):
            return FactIn(atom.fact, _finite_domain(spec))
    return None


def _combine(facts: Vocabulary, conjunctive: bool, a: FactIn | IntIn, b: FactIn | IntIn) -> Normal:
    spec = facts[a.fact]
    if isinstance(a, IntIn) and isinstance(b, IntIn):
        both = intervals.intersection if conjunctive else intervals.union
        return _int_in(a.fact, spec, both(a.intervals, b.intervals))
    assert isinstance(a, FactIn) and isinstance(b, FactIn)
    chosen = [v for v in _finite_domain(spec)
              if ((v in a.values and v in b.values) if conjunctive else (v in a.values or v in b.values))]
    return _fact_in(a.fact, spec, tuple(chosen))


def _merge_atoms(facts: Vocabulary, conjunctive: bool, parts: list[Normal]) -> list[Normal] | bool:
    """Parts of one junction with atoms on the same fact combined; True/False when the
    junction is decided by them (``unknown x`` and ``x = a`` together, say)."""
    out: list[Normal] = []
    value_at: dict[str, int] = {}  # fact -> index in `out` of its combined value-set atom
    for part in parts:
        if isinstance(part, And | Or | bool):
            if part not in out:
                out.append(part)
            continue
        as_set = _value_set(facts, part)
        if as_set is not None:
            if as_set.fact not in value_at:
                value_at[as_set.fact] = len(out)
                out.append(part)
                continue
            kept = out[value_at[as_set.fact]]
            assert isinstance(kept, FactKnown | FactIn | IntIn)
            previous = _value_set(facts, kept)
            assert previous is not None
            combined = _combine(facts, conjunctive, previous, as_set)
            if isinstance(combined, bool):
                return combined  # only ever an empty intersection: false in an `all`
            out[value_at[as_set.fact]] = combined
            continue
        if part in out:
            continue
        opposite = _opposite(part)
        if opposite is not None and opposite in out:
            # x and not-x: false in an `all`; true in an `any` (for a list item: "known").
            if conjunctive:
                return False
            if not isinstance(part, ListHas):
                return True
            out[out.index(opposite)] = FactKnown(part.fact)
            continue
        out.append(part)
    if conjunctive and _contradicts_presence(out):
        return False
    if not conjunctive and _covers_presence(out):
        return True
    return out


def _opposite(atom: Atom) -> Atom | None:
    if isinstance(atom, ListHas):
        return ListHas(atom.fact, atom.item, not atom.present)
    if isinstance(atom, Concluded):
        return NotConcluded(atom.name)
    if isinstance(atom, NotConcluded):
        return Concluded(atom.name)
    return None


def _known_atoms(parts: list[Normal]) -> set[str]:
    return {p.fact for p in parts if isinstance(p, FactKnown | FactIn | IntIn | ListHas)}


def _contradicts_presence(parts: list[Normal]) -> bool:
    """`unknown x` together with any test that needs x known."""
    unknown = {p.fact for p in parts if isinstance(p, FactUnknown)}
    return bool(unknown & _known_atoms(parts))


def _covers_presence(parts: list[Normal]) -> bool:
    """`unknown x` or `known x`."""
    unknown = {p.fact for p in parts if isinstance(p, FactUnknown)}
    return any(isinstance(p, FactKnown) and p.fact in unknown for p in parts)


# --- reading a normal form --------------------------------------------------------------------

T = TypeVar("T")


def fold(normal: Normal, atom: Callable[[Atom], T], junction: Callable[[bool, list[T]], T]) -> T:
    """Translate a normal form bottom-up: `atom` for each atom, `junction(conjunctive, parts)`
    for each and (True) / or (False). The constants are the empty junctions: true is an
    `all` of nothing, false an `any` of nothing."""
    if isinstance(normal, bool):
        return junction(normal, [])
    if isinstance(normal, And | Or):
        return junction(isinstance(normal, And), [fold(p, atom, junction) for p in normal.parts])
    return atom(normal)


def atoms(normal: Normal) -> Iterator[Atom]:
    """Every atom of a normal form, in order."""
    if isinstance(normal, And | Or):
        for part in normal.parts:
            yield from atoms(part)
    elif not isinstance(normal, bool):
        yield normal


def atom_holds(atom: Atom, case: Mapping[str, Any]) -> bool:
    """Whether one atom holds for a concrete case (conclusions drawn given as `True`)."""
    if isinstance(atom, FactUnknown | NotConcluded):
        return atom_fact(atom) not in case
    if isinstance(atom, FactKnown | Concluded):
        return atom_fact(atom) in case
    if atom.fact not in case:
        return False
    value = case[atom.fact]
    if isinstance(atom, FactIn):
        return any(value == v and type(value) is type(v) for v in atom.values)
    if isinstance(atom, IntIn):
        is_integer = isinstance(value, int) and not isinstance(value, bool)
        return is_integer and intervals.contains(atom.intervals, value)
    return (atom.item in value) == atom.present


def holds(normal: Normal, case: Mapping[str, Any]) -> bool:
    """Whether a normal form holds for a concrete case (absent key = unknown fact or
    conclusion not drawn; a drawn conclusion is given as `True`)."""
    if isinstance(normal, bool):
        return normal
    if isinstance(normal, And):
        return all(holds(p, case) for p in normal.parts)
    if isinstance(normal, Or):
        return any(holds(p, case) for p in normal.parts)
    return atom_holds(normal, case)


def truth(facts: Vocabulary, condition: Condition, case: Mapping[str, Any]) -> Truth:
    """True, False or None (unknown): `condition` on a concrete case, read from its normal
    forms (the same answer as `guidekb.engine.semantics.logic.evaluate`, which tests check)."""
    if holds(when_true(facts, condition), case):
        return True
    if holds(when_false(facts, condition), case):
        return False
    return None
