"""Provenance is verified, not trusted: quotes, sections and reference numbers are checked
against the source text, and a failed quote is shown beside the closest real passage."""

from __future__ import annotations

from difflib import SequenceMatcher
from itertools import pairwise
from typing import Protocol

from guidekb.engine.format.models import Provenance, SourceDocument
from guidekb.engine.format.sources import SourceText, normalize
from guidekb.engine.format.suggest import did_you_mean


class Report(Protocol):
    def __call__(self, message: str, hint: str, field: str) -> None: ...


def verify(prov: Provenance, document: SourceDocument, text: SourceText, report: Report) -> None:
    """Report every way `prov` fails to match its source; `field` names the offending key."""
    section = text.section(prov.section)
    if section is None:
        report(f"section '{prov.section}' is not a section of source '{document.id}'",
               did_you_mean(prov.section, [s.title for s in text.sections], "sections"), "section")
    quote = normalize(prov.quote)
    scope = text.section_text(section) if section else text.body
    if quote not in scope:
        elsewhere = [s.title for s in text.sections if quote in text.section_text(s)]
        if section is not None and elsewhere:
            report(f"the quote is in section '{elsewhere[0]}' of '{document.id}', "
                   f"not in '{prov.section}'", f"write section: {elsewhere[0]}", "section")
        elif not elsewhere:
            passage, ratio = closest_passage(quote, text, section.title if section else None)
            report(f"quote not found verbatim in source '{document.id}'"
                   + (f" (section '{prov.section}')" if section else ""),
                   f"closest passage ({ratio:.0%} similar):\n  {passage}", "quote")
            return
    for number in prov.refs:
        if number not in document.references:
            known = ", ".join(str(n) for n in sorted(document.references)) or "none"
            report(f"reference {number} is not in the reference list of '{document.id}'",
                   f"its references are numbered {known}", "refs")
    cited = sorted({n for s in text.statements_containing(prov.quote, section) for n in s.refs})
    stray = [n for n in prov.refs if n in document.references and cited and n not in cited]
    if stray:
        report(f"reference{'s' if len(stray) > 1 else ''} {', '.join(map(str, stray))} "
               f"{'are' if len(stray) > 1 else 'is'} not cited by the quoted passage",
               f"the passage cites {', '.join(map(str, cited))}", "refs")


def closest_passage(quote: str, text: SourceText, section_title: str | None = None) -> tuple[str, float]:
    """The passage of the source most similar to a quote that failed, and how similar it is.

    Candidates are statements and pairs of adjacent statements; a short quote is scored
    against the best window of words of a long statement, and the passage shown is the part
    of the winning statement that lines up with the quote, widened to whole words.
    """
    wanted = normalize(quote)
    statements = text.statements
    candidates = [s.text for s in statements]
    candidates += [a.text + " " + b.text for a, b in pairwise(statements)]
    best, best_ratio = "", 0.0
    for candidate in candidates:
        ratio = SequenceMatcher(None, wanted, candidate, autojunk=False).ratio()
        if len(candidate) > len(wanted) * 1.3:
            window = _best_window(wanted, candidate)
            ratio = max(ratio, SequenceMatcher(None, wanted, window, autojunk=False).ratio())
        if ratio > best_ratio:
            best, best_ratio = candidate, ratio
    return _aligned_part(wanted, best), best_ratio


def _best_window(wanted: str, candidate: str) -> str:
    """The run of as many words of `candidate` as `wanted` has that is most like it."""
    words = candidate.split(" ")
    size = max(1, len(wanted.split(" ")))
    best, best_ratio = candidate, 0.0
    for start in range(0, max(1, len(words) - size + 1)):
        window = " ".join(words[start: start + size])
        ratio = SequenceMatcher(None, wanted, window, autojunk=False).ratio()
        if ratio > best_ratio:
            best, best_ratio = window, ratio
    return best


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
