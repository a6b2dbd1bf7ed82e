"""Source documents as the knowledge base cites them: text, sections and statements.

A statement is one bullet or one sentence of the document's body, with the reference numbers
the article cites after it. Provenance is verified against statements, and the coverage
report lists them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

_TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u00ad": None,
})
_SPACES = re.compile(r"\s+")
_BULLET = re.compile(r"^\s*(?:[\u2022\u2023\u25e6\u2043\u2219*-])\s+")
_TRAILING_REFS = re.compile(r"\s+(\d{1,2}(?:\s*,\s*\d{1,2})*)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def normalize(text: str) -> str:
    """Text as compared for provenance: typographic variants folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHIC)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class Statement:
    """One bullet or sentence of a source, with the article's reference numbers after it."""

    source: str
    section: str
    line: int
    text: str
    refs: tuple[int, ...]
    bullet: bool

    @property
    def key(self) -> str:
        """A stable short identifier: source, line and the statement's opening words."""
        return f"{self.source}:{self.line}"


@dataclass(frozen=True)
class Section:
    title: str
    line: int  # 1-based line of the heading
    end_line: int  # 1-based line after the last line of the section


class SourceText:
    """The verbatim text of one source document, split into declared sections."""

    def __init__(self, source_id: str, path: Path, section_titles: list[str]) -> None:
        self.source_id = source_id
        self.path = path
        self.raw = path.read_text(encoding="utf-8")
        self.lines = self.raw.splitlines()
        self.section_titles = section_titles
        self.sections, self.missing_sections = self._find_sections()

    def _find_sections(self) -> tuple[list[Section], list[str]]:
        found: list[tuple[str, int]] = []
        missing: list[str] = []
        start = 0
        normalized_lines = [normalize(line) for line in self.lines]
        for title in self.section_titles:
            wanted = normalize(title)
            for index in range(start, len(normalized_lines)):
                if normalized_lines[index] == wanted:
                    found.append((title, index + 1))
                    start = index + 1
                    break
            else:
                missing.append(title)
        sections = []
        for i, (title, line) in enumerate(found):
            end = found[i + 1][1] if i + 1 < len(found) else self._body_end(line)
            sections.append(Section(title, line, end))
        return sections, missing

    def _body_end(self, after_line: int) -> int:
        """The body ends at a line reading exactly 'References', as these articles are laid out."""
        for index in range(after_line, len(self.lines)):
            if normalize(self.lines[index]) == "References":
                return index + 1
        return len(self.lines) + 1

    def section(self, title: str) -> Section | None:
        wanted = normalize(title)
        for section in self.sections:
            if normalize(section.title) == wanted:
                return section
        return None

    def section_text(self, section: Section) -> str:
        return normalize(" ".join(self.lines[section.line: section.end_line - 1]))

    @cached_property
    def body(self) -> str:
        return " ".join(self.section_text(s) for s in self.sections)

    @cached_property
    def statements(self) -> list[Statement]:
        result: list[Statement] = []
        for section in self.sections:
            for index in range(section.line, section.end_line - 1):
                line = self.lines[index]
                if not normalize(line):
                    continue
                bullet = bool(_BULLET.match(line))
                body = normalize(_BULLET.sub("", line))
                pieces = [body] if bullet else _SENTENCE_END.split(body)
                for piece in pieces:
                    text, refs = split_refs(piece)
                    if text:
                        result.append(Statement(self.source_id, section.title, index + 1, text,
                                                refs, bullet))
        return result

    def statements_containing(self, quote: str, section: Section | None = None) -> list[Statement]:
        """Statements that overlap a quote (a quote may span several sentences)."""
        wanted = normalize(quote)
        candidates = [s for s in self.statements if section is None or s.section == section.title]
        inside = [s for s in candidates if wanted in s.text or s.text in wanted]
        if inside:
            return inside
        # A quote across a statement boundary: take statements sharing a long piece with it.
        return [s for s in candidates if _overlap(wanted, s.text) >= 30]


def split_refs(text: str) -> tuple[str, tuple[int, ...]]:
    """'Do this 1, 5' -> ('Do this', (1, 5)): the article's citation numbers after a statement."""
    match = _TRAILING_REFS.search(text)
    if not match:
        return text.strip(), ()
    refs = tuple(int(n) for n in re.findall(r"\d+", match.group(1)))
    return text[: match.start()].strip(), refs


def _overlap(a: str, b: str) -> int:
    from difflib import SequenceMatcher

    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size
