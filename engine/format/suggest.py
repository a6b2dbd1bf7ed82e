"""Did-you-mean suggestions for misspelt facts, codes, sources, sections and keys.

The suggestion must be the spelling the author meant, not merely the nearest string: a word
that only differs in case or separators, in a plural `s`, or that begins a candidate is
matched before edit distance is consulted; and of a pair of opposite values (`confirmed` /
`unconfirmed`, `adequate` / `inadequate`, `susceptible` / `not_susceptible`) the one of the
typed word's own polarity is preferred, since suggesting the opposite of what was meant is
the one wrong suggestion that could slip through review as right.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# Prefixes that turn a value into its opposite, longest first.
NEGATIONS = ("not_", "non_", "no_", "non", "dis", "un", "in", "im")


def _plain(word: str) -> str:
    """The word without case, separators or spaces: `Immune-Status` is `immunestatus`."""
    return re.sub(r"[-_ .]", "", word.lower())


def _negated(word: str) -> tuple[str, str] | None:
    """(prefix, rest) when `word` starts with a negating prefix, else None."""
    lowered = word.lower()
    for prefix in NEGATIONS:
        if lowered.startswith(prefix) and len(lowered) > len(prefix) + 2:
            return prefix, lowered[len(prefix):]
    return None


def _opposite(word: str, candidate: str, pool: set[str]) -> bool:
    """Whether `candidate` has the other polarity than `word` in a pair the pool holds: the
    word is plain and the candidate is a negated pool value whose base is also in the pool,
    or the word is negated and the candidate is the plain value whose negation is in the pool."""
    lowered_pool = {c.lower() for c in pool}
    split = _negated(candidate)
    word_split = _negated(word)
    if split is not None and split[1] in lowered_pool:  # candidate = un + base, base in pool
        return word_split is None or word_split[0] != split[0]
    if word_split is not None:  # word = un + ..., candidate plain with un + candidate in pool
        return word_split[0] + candidate.lower() in lowered_pool
    return False


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate the author most likely meant by `word`, or None when none is close."""
    pool = sorted(set(candidates))
    if not pool or not word:
        return None
    if word in pool:
        return word
    same = [c for c in pool if _plain(c) == _plain(word)]
    if len(same) == 1:
        return same[0]
    lowered = word.lower()
    plurals = [c for c in pool if c.lower() in (lowered + "s", lowered + "es")
               or lowered in (c.lower() + "s", c.lower() + "es")]
    if len(plurals) == 1:
        return plurals[0]
    members = set(pool)
    if len(word) >= 3:
        begun = [c for c in pool if c.lower().startswith(lowered) and not _opposite(word, c, members)]
        if len(begun) == 1:
            return begun[0]
    matches = difflib.get_close_matches(word, pool, n=5, cutoff=cutoff)
    if not matches:
        by_lower = {c.lower(): c for c in pool}
        matches = [by_lower[m] for m in difflib.get_close_matches(lowered, list(by_lower), 5, cutoff)]
    same_polarity = [m for m in matches if not _opposite(word, m, members)]
    for match in matches:  # nearest first, but not an opposite that a match of the word's own
        # polarity begins more like the word ('confimed' is 'confirmed', not 'unconfirmed')
        if match in same_polarity or not any(_common_start(word, m) > _common_start(word, match)
                                             for m in same_polarity):
            return match
    return None


def _common_start(word: str, candidate: str) -> int:
    """How many leading characters `word` and `candidate` share, ignoring case."""
    count = 0
    for a, b in zip(word.lower(), candidate.lower(), strict=False):
        if a != b:
            break
        count += 1
    return count


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
