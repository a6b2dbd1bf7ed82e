"""Three-valued (Kleene) meaning of a condition tree, interpreted directly.

This is the plain interpretation used to explain answers and as the reference that the
durable_rules compilation is tested against. A test of an unknown fact is neither true nor
false (None); only `known` and `unknown` look at presence itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guidekb.engine.format.models import AllOf, Always, AnyOf, Compare, Condition, Known, Not, Unknown

Truth = bool | None


def evaluate(condition: Condition, facts: Mapping[str, Any]) -> Truth:
    """True, False or None (unknown) for `condition` over `facts` (absent key = unknown)."""
    if isinstance(condition, AllOf):
        results = [evaluate(c, facts) for c in condition.all]
        if False in results:
            return False
        return None if None in results else True
    if isinstance(condition, AnyOf):
        results = [evaluate(c, facts) for c in condition.any]
        if True in results:
            return True
        return None if None in results else False
    if isinstance(condition, Not):
        inner = evaluate(condition.not_, facts)
        return None if inner is None else not inner
    if isinstance(condition, Always):
        return True
    if isinstance(condition, Known):
        return condition.known in facts
    if isinstance(condition, Unknown):
        return condition.unknown not in facts
    return compare(condition, facts.get(condition.fact))


def compare(test: Compare, value: Any) -> Truth:
    """One comparison; None when the fact's value is unknown."""
    if value is None:
        return None
    op, operand = test.operator, test.operand
    if op == "equals":
        return bool(value == operand and type(value) is type(operand))
    if op == "in":
        return any(value == o and type(value) is type(o) for o in operand)
    if op == "contains":
        return operand in value
    if op == "lt":
        return bool(value < operand)
    if op == "le":
        return bool(value <= operand)
    if op == "gt":
        return bool(value > operand)
    return bool(value >= operand)
