"""Did-you-mean suggestions for misspelt facts, codes, sources, sections and keys."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The best candidate close enough to `word`, or None."""
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        matches = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), 1, cutoff)]
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str], what: str) -> str:
    """A hint naming the closest candidate, or listing the choices when there are few."""
    pool = sorted(set(candidates))
    best = closest(word, pool)
    if best is not None:
        return f"did you mean '{best}'?"
    if not pool:
        return f"no {what} is declared"
    if len(pool) <= 12:
        return f"known {what}: " + ", ".join(pool)
    return f"{len(pool)} {what} are declared; none is close to '{word}'"
