"""Sets of integers as sorted, disjoint, non-adjacent closed intervals.

An integer fact ranges over ``min..max`` (3,651 values for days on therapy), so the set of
values a test accepts is kept as a few intervals, never as a list of values. The canonical
form (sorted, overlapping and touching intervals merged) makes two equal sets compare equal.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]  # closed: (low, high), low <= high
Intervals = tuple[Interval, ...]


def normalize(parts: Iterable[Interval]) -> Intervals:
    """The canonical form of a union of intervals (empty ones dropped)."""
    merged: list[Interval] = []
    for low, high in sorted(p for p in parts if p[0] <= p[1]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def points(values: Iterable[int]) -> Intervals:
    return normalize((v, v) for v in values)


def union(a: Intervals, b: Intervals) -> Intervals:
    return normalize((*a, *b))


def intersection(a: Intervals, b: Intervals) -> Intervals:
    return normalize((max(x[0], y[0]), min(x[1], y[1])) for x in a for y in b)


def complement(a: Intervals, low: int, high: int) -> Intervals:
    """The integers of ``low..high`` not in `a`."""
    gaps: list[Interval] = []
    start = low
    for x, y in a:
        gaps.append((start, min(x - 1, high)))
        start = max(start, y + 1)
    gaps.append((start, high))
    return normalize(gaps)


def clip(a: Intervals, low: int, high: int) -> Intervals:
    return intersection(a, ((low, high),))


def contains(a: Intervals, value: int) -> bool:
    return any(x <= value <= y for x, y in a)


def boundaries(a: Intervals) -> set[int]:
    """Every c where membership differs between c - 1 and c: interval starts and ends + 1."""
    return {x for x, _ in a} | {y + 1 for _, y in a}
