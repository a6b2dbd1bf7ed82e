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

from guidekb.engine.errors import (
    SOURCE_FILE_MISSING,
    SOURCE_OUTSIDE_KB,
    UNREADABLE_FILE,
    ErrorCode,
    Problem,
    relative,
)
from guidekb.engine.format.textfiles import MiB, TextRefused, read_text
from guidekb.engine.format.yamlsource import PathKey, YamlDocument

# A source text is an article, not a book: the HSV sources are 6 KB each.
SOURCE_MAX_BYTES = 4 * MiB

_TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u00ad": None,
})
_BULLET = re.compile(r"^\s*(?:[\u2022\u2023\u25e6\u2043\u2219*-])\s+")
_TRAILING_REFS = re.compile(r"\s+(\d{1,2}(?:\s*,\s*\d{1,2})*)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


# Whether a text holds any character of the table: `str.translate` looks every character of
# a non-ASCII text up in the table (40 µs for a 110-character line with one bullet), a search
# finds none in a fraction of that, and most lines of a source have none.
_HAS_TYPOGRAPHIC = re.compile("[" + "".join(re.escape(chr(point)) for point in _TYPOGRAPHIC) + "]")


def normalize(text: str) -> str:
    """Text as compared for provenance: typographic variants folded, whitespace collapsed."""
    if not text.isascii():  # NFKC and the typographic table change nothing in ASCII
        text = unicodedata.normalize("NFKC", text)
        if _HAS_TYPOGRAPHIC.search(text):
            text = text.translate(_TYPOGRAPHIC)
    return " ".join(text.split())  # str.split and the regex \s agree on what is whitespace


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
    """The verbatim text of one source document, split into declared sections.

    `raw` is the text as `read_source` read it; without it the file is read here, with the
    same checks (a `TextRefused` if it is not a readable regular text file).
    """

    def __init__(self, source_id: str, path: Path, section_titles: list[str],
                 raw: str | None = None) -> None:
        self.source_id = source_id
        self.path = path
        self.raw = raw if raw is not None else read_text(path, SOURCE_MAX_BYTES, "source text")
        self.lines = self.raw.splitlines()
        self.section_titles = section_titles
        self._section_texts: dict[Section, str] = {}
        self.quotes_not_found = 0  # counted by provenance.verify, which bounds its searches by it
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
        return self._sections_by_title.get(normalize(title))

    @cached_property
    def _sections_by_title(self) -> dict[str, Section]:
        found: dict[str, Section] = {}
        for section in self.sections:
            found.setdefault(normalize(section.title), section)  # the first of equal titles
        return found

    def section_text(self, section: Section) -> str:
        if section not in self._section_texts:
            self._section_texts[section] = normalize(
                " ".join(self.lines[section.line: section.end_line - 1]))
        return self._section_texts[section]

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

    @cached_property
    def _statements_by_section(self) -> dict[str, list[Statement]]:
        """The statements of each section title, in document order: a quote is compared with
        its own section's statements only, and scanning all of them for every quote made
        verifying the 2,000-rule benchmark quadratic (1.6 s of its load)."""
        grouped: dict[str, list[Statement]] = {}
        for statement in self.statements:
            grouped.setdefault(statement.section, []).append(statement)
        return grouped

    def statements_containing(self, quote: str, section: Section | None = None) -> list[Statement]:
        """Statements that overlap a quote (a quote may span several sentences)."""
        wanted = normalize(quote)
        candidates = self.statements if section is None else \
            self._statements_by_section.get(section.title, [])
        inside = [s for s in candidates if wanted in s.text or s.text in wanted]
        if inside:
            return inside
        # A quote across a statement boundary: take statements sharing a long piece with it.
        return [s for s in candidates if _overlap(wanted, s.text) >= 30]


@dataclass(frozen=True)
class SourceRefused:
    """Why a source file named by the manifest is not read. A problem inside the text (a bad
    byte, a control character) is located in the text (`at`); any other at the manifest's
    `file:` entry."""

    message: str
    hint: str
    code: ErrorCode
    at: tuple[str, int, int] | None = None  # (file, line, column) inside the source text

    def problem(self, manifest: YamlDocument, path: PathKey) -> Problem:
        if self.at is not None:
            return Problem(*self.at, self.message, self.hint, code=self.code)
        return manifest.problem(path, self.message, self.hint, code=self.code)


def read_source(root: Path, source_id: str, file: str,
                section_titles: list[str]) -> SourceText | SourceRefused:
    """The source text at `file`, relative to the knowledge base `root`, or why it is refused.

    A knowledge base is read from its own folder only: an absolute path, a `..` that climbs
    out, or a symbolic link that leads out is refused before anything is opened, so a manifest
    can never make guidekb read (and quote back in its messages) `/etc/passwd`. The file is
    read by `textfiles.read_text`: a regular file, at most SOURCE_MAX_BYTES, UTF-8, no control
    characters.
    """
    path = root / file
    outside_hint = (f"source files live inside the knowledge-base folder ({relative(root)}); "
                    "write the path relative to it, e.g. sources/article.txt")
    if Path(file).is_absolute():
        return SourceRefused(f"source file '{file}' is an absolute path", outside_hint,
                             SOURCE_OUTSIDE_KB)
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: a symbolic link loop
        return SourceRefused(f"source file '{file}' cannot be read: {exc}", "", UNREADABLE_FILE)
    if not inside:
        return SourceRefused(f"source file '{file}' is outside the knowledge base", outside_hint,
                             SOURCE_OUTSIDE_KB)
    try:
        raw = read_text(path, SOURCE_MAX_BYTES, "source text")
    except TextRefused as refused:
        if refused.missing:
            return SourceRefused(f"source file '{file}' not found", f"looked for {relative(path)}",
                                 SOURCE_FILE_MISSING)
        if refused.located:
            return SourceRefused(refused.message, refused.hint, refused.code,
                                 (relative(path), refused.line, refused.column))
        return SourceRefused(f"source file '{file}': {refused.message}", refused.hint, refused.code)
    return SourceText(source_id, path, section_titles, raw)


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
