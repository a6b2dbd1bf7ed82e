"""The comparison operators: what each one means, for each fact type it may test.

This is the operator/type table of the condition language. The format
(`guidekb.engine.format.models`) says which operators exist and which fact types each may test
(`OPERATOR_FACT_TYPES`, which the loader enforces); this module says what a test *accepts*:

* on a boolean or enum fact, the values of the domain that pass (`passes`);
* on an integer fact, the accepted part of ``min..max`` as intervals (`integers`): this is the
  one place where ``lt 5`` becomes ``min..4``, ``gt 5`` becomes ``6..max``, and so on;
* on a list fact, the item whose presence is tested (`item`).

Everything else that reads conditions (`guidekb.engine.semantics.normal_form` and, through it,
every backend) works from these sets, never from operator names. Adding an operator means one
entry here, its field in the models, and, only if it needs an atom the normal form lacks, the
backends' translation of that atom.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from guidekb.engine.errors import GuidekbError
from guidekb.engine.format.models import OPERATOR_FACT_TYPES, Compare, FactSpec
from guidekb.engine.semantics import intervals
from guidekb.engine.semantics.intervals import Intervals

Value = bool | int | str


class UnsupportedCondition(GuidekbError, ValueError):
    """A condition no backend can read (an undeclared fact, `lt` on an enum): the loader
    rejects these in rules and invariants, so this only surfaces for hand-built conditions."""


def _same(value: Any, operand: Any) -> bool:
    """Equality as the format means it: `1` never equals `true` (types must match)."""
    return bool(value == operand and type(value) is type(operand))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _listed(operand: Any) -> list[Any]:
    return list(operand) if isinstance(operand, list) else [operand]


def _listed_integers(operand: Any, low: int, high: int) -> Intervals:
    return intervals.clip(intervals.points(v for v in _listed(operand) if _is_int(v)), low, high)


def _range(low_of: Callable[[int, int], int], high_of: Callable[[int, int], int]
           ) -> Callable[[Any, int, int], Intervals]:
    """An order test as the interval it accepts, from the operand and the domain's bounds."""
    def accepted(operand: Any, low: int, high: int) -> Intervals:
        return intervals.normalize([(max(low, low_of(operand, low)), min(high, high_of(operand, high)))])
    return accepted


@dataclass(frozen=True)
class Operator:
    """One comparison operator: its written name, how an author reads it, and its meaning on
    each kind of fact (None where the operator does not apply)."""

    name: str
    symbol: str
    passes: Callable[[Value, Any], bool] | None = None  # boolean/enum: does this value pass?
    integers: Callable[[Any, int, int], Intervals] | None = None  # integer: accepted part of low..high
    item: Callable[[Any], str] | None = None  # list: the item whose presence is tested

    @property
    def fact_types(self) -> tuple[str, ...]:
        return OPERATOR_FACT_TYPES[self.name]


OPERATORS: dict[str, Operator] = {op.name: op for op in (
    Operator("equals", "=", passes=_same, integers=_listed_integers),
    Operator("in", "in", passes=lambda v, operand: any(_same(v, o) for o in operand),
             integers=_listed_integers),
    Operator("lt", "<", integers=_range(lambda k, low: low, lambda k, high: k - 1)),
    Operator("le", "<=", integers=_range(lambda k, low: low, lambda k, high: k)),
    Operator("gt", ">", integers=_range(lambda k, low: k + 1, lambda k, high: high)),
    Operator("ge", ">=", integers=_range(lambda k, low: k, lambda k, high: high)),
    Operator("contains", "contains", item=str),
)}


def operator_of(test: Compare) -> Operator:
    return OPERATORS[test.operator]


def _applicable(test: Compare, spec: FactSpec) -> Operator:
    op = operator_of(test)
    if spec.type not in op.fact_types:
        raise UnsupportedCondition(f"'{op.name}' cannot test {spec.type} fact '{test.fact}'")
    return op


def accepted_values(test: Compare, spec: FactSpec, domain: Sequence[Value]) -> tuple[Value, ...]:
    """The values of a boolean or enum fact's `domain` that pass the test, in domain order."""
    op = _applicable(test, spec)
    assert op.passes is not None, f"'{op.name}' applies to {spec.type} facts but has no meaning there"
    return tuple(v for v in domain if op.passes(v, test.operand))


def accepted_integers(test: Compare, low: int, high: int, spec: FactSpec | None = None) -> Intervals:
    """The integers of ``low..high`` that pass a test of an integer fact."""
    op = operator_of(test) if spec is None else _applicable(test, spec)
    if op.integers is None:
        raise UnsupportedCondition(f"'{op.name}' cannot test integer fact '{test.fact}'")
    return op.integers(test.operand, low, high)


def tested_item(test: Compare, spec: FactSpec) -> str:
    """The item of a list fact whose presence the test asks about."""
    op = _applicable(test, spec)
    assert op.item is not None, f"'{op.name}' applies to list facts but has no meaning there"
    return op.item(test.operand)


# Bounds standing in for "no bound" when cut points are wanted without a fact's range.
UNBOUNDED = (-sys.maxsize, sys.maxsize)


def integer_cuts(test: Compare) -> set[int]:
    """Where a test of an integer fact changes value: every c with test(c - 1) != test(c).
    Empty for a test that is not over integers (an enum value, a list item)."""
    op = operator_of(test)
    if op.integers is None:
        return set()
    low, high = UNBOUNDED
    return {c for c in intervals.boundaries(op.integers(test.operand, low, high)) if low < c <= high}


def describe(test: Compare) -> str:
    """A comparison as an author reads it: `days_on_therapy >= 10`."""
    operand = test.operand
    if isinstance(operand, bool):
        shown = "true" if operand else "false"
    elif isinstance(operand, list):
        shown = "[" + ", ".join(map(str, operand)) + "]"
    else:
        shown = str(operand)
    return f"{test.fact} {operator_of(test).symbol} {shown}"
