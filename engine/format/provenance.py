"""Provenance is verified, not trusted: quotes, sections and reference numbers are checked
against the source text, and a failed quote is shown beside the closest real passage."""

from __future__ import annotations

from difflib import SequenceMatcher
from itertools import pairwise
from typing import Protocol

from guidekb.engine.errors import (
    QUOTE_IN_OTHER_SECTION,
    QUOTE_NOT_FOUND,
    REFERENCE_NOT_CITED,
    UNKNOWN_REFERENCE,
    UNKNOWN_SECTION,
    ErrorCode,
)
from guidekb.engine.format.models import Provenance, SourceDocument
from guidekb.engine.format.sources import SourceText, normalize
from guidekb.engine.format.suggest import did_you_mean


class Report(Protocol):
    def __call__(self, code: ErrorCode, message: str, hint: str, field: str) -> None: ...


def verify(prov: Provenance, document: SourceDocument, text: SourceText, report: Report) -> None:
    """Report every way `prov` fails to match its source, with the problem's error code;
    `field` names the offending key."""
    section = text.section(prov.section)
    if section is None:
        report(UNKNOWN_SECTION, f"section '{prov.section}' is not a section of source '{document.id}'",
               did_you_mean(prov.section, [s.title for s in text.sections], "sections"), "section")
    quote = normalize(prov.quote)
    scope = text.section_text(section) if section else text.body
    if quote not in scope:
        elsewhere = [s.title for s in text.sections if quote in text.section_text(s)]
        if section is not None and elsewhere:
            report(QUOTE_IN_OTHER_SECTION, f"the quote is in section '{elsewhere[0]}' of '{document.id}', "
                   f"not in '{prov.section}'", f"write section: {elsewhere[0]}", "section")
        elif not elsewhere:
            report(QUOTE_NOT_FOUND, f"quote not found verbatim in source '{document.id}'"
                   + (f" (section '{prov.section}')" if section else ""),
                   _closest_hint(quote, text, section.title if section else None), "quote")
            return
    for number in prov.refs:
        if number not in document.references:
            known = ", ".join(str(n) for n in sorted(document.references)) or "none"
            report(UNKNOWN_REFERENCE, f"reference {number} is not in the reference list of '{document.id}'",
                   f"its references are numbered {known}", "refs")
    cited = sorted({n for s in text.statements_containing(prov.quote, section) for n in s.refs})
    stray = [n for n in prov.refs if n in document.references and cited and n not in cited]
    if stray:
        report(REFERENCE_NOT_CITED, f"reference{'s' if len(stray) > 1 else ''} {', '.join(map(str, stray))} "
               f"{'are' if len(stray) > 1 else 'is'} not cited by the quoted passage",
               f"the passage cites {', '.join(map(str, cited))}", "refs")


# The search for a closest passage is bounded, so that a broken knowledge base is reported in
# seconds whatever its size: passages are searched for the first CLOSEST_SEARCHES failed quotes
# of a source (many more failures mean a wrong or truncated source text, which the hint then
# says); a quote is compared by its first SEARCHED_QUOTE characters and a passage by its first
# SEARCHED_PASSAGE; only the SHORTLIST passages sharing most words with the quote are
# compared character by character (a quote that failed by a few words shares nearly all of
# them with its passage), with at most COMPARISONS comparisons of passages and windows.
CLOSEST_SEARCHES = 5
SEARCHED_QUOTE = 1_000
SEARCHED_PASSAGE = 3_000
SHORTLIST = 8
COMPARISONS = 150


def _closest_hint(quote: str, text: SourceText, section_title: str | None) -> str:
    text.quotes_not_found += 1
    if text.quotes_not_found > CLOSEST_SEARCHES:
        return (f"more than {CLOSEST_SEARCHES} quotes are not found in {text.path.name}: check that "
                f"it is the right text, complete (closest passages are shown for the first "
                f"{CLOSEST_SEARCHES})")
    passage, ratio = closest_passage(quote, text, section_title)
    return f"closest passage ({ratio:.0%} similar):\n  {passage}"


def closest_passage(quote: str, text: SourceText, section_title: str | None = None) -> tuple[str, float]:
    """The passage of the source most similar to a quote that failed, and how similar it is.

    Candidates are statements and pairs of adjacent statements; a short quote is scored
    against the best window of words of a long statement, and the passage shown is the part
    of the winning statement that lines up with the quote, widened to whole words.
    """
    wanted = normalize(quote)[:SEARCHED_QUOTE]
    statements = text.statements
    candidates = [s.text[:SEARCHED_PASSAGE] for s in statements]
    candidates += [(a.text + " " + b.text)[:SEARCHED_PASSAGE] for a, b in pairwise(statements)]
    if len(candidates) > SHORTLIST:
        words = set(wanted.split(" "))
        shared = sorted(range(len(candidates)), key=lambda i: -len(words & set(candidates[i].split(" "))))
        candidates = [candidates[i] for i in sorted(shared[:SHORTLIST])]  # in document order
    compare = _Comparisons(wanted)
    best, best_ratio = "", 0.0
    for candidate in candidates:
        if compare.left <= 0:
            break
        ratio = compare.ratio(candidate)
        if len(candidate) > len(wanted) * 1.3:
            ratio = max(ratio, _best_window(compare, candidate))
        if ratio > best_ratio:
            best, best_ratio = candidate, ratio
    return _aligned_part(wanted, best), best_ratio


class _Comparisons:
    """Similarity ratios against one quote, counted: at most COMPARISONS are made."""

    def __init__(self, wanted: str) -> None:
        self.wanted = wanted
        self.left = COMPARISONS

    def ratio(self, other: str) -> float:
        self.left -= 1
        return SequenceMatcher(None, self.wanted, other, autojunk=False).ratio()


def _best_window(compare: _Comparisons, candidate: str) -> float:
    """The best ratio of a run of as many words of `candidate` as the quote has."""
    words = candidate.split(" ")
    size = max(1, len(compare.wanted.split(" ")))
    best_ratio = 0.0
    for start in range(0, max(1, len(words) - size + 1)):
        if compare.left <= 0:
            break
        best_ratio = max(best_ratio, compare.ratio(" ".join(words[start: start + size])))
    return best_ratio


def _aligned_part(wanted: str, passage: str) -> str:
    """The stretch of `passage` from its first to its last run matching `wanted` (runs of two
    characters or more), widened to whole words; the whole passage if nothing lines up."""
    blocks = [b for b in SequenceMatcher(None, wanted, passage, autojunk=False).get_matching_blocks()
              if b.size >= 2]
    if not blocks:
        return passage
    start = passage.rfind(" ", 0, blocks[0].b) + 1
    end = passage.find(" ", blocks[-1].b + blocks[-1].size)
    return passage[start: end if end != -1 else len(passage)]
