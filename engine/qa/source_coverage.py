"""Source coverage: is every statement of every source encoded by a rule, or declared context?

Each statement (bullet or sentence, see `guidekb.engine.format.sources.SourceText.statements`) is

* **encoded** when some rule's provenance quote lies within or overlaps it;
* **context** when the knowledge base's `context.yaml` says why it is not actionable
  (prevalence figures, mechanism, lead-in lines);
* **missing** otherwise: an actionable statement no rule encodes yet, or background nobody
  has classified. The target is none missing.

`context.yaml` names statements by the opening words of their text (enough to be unique in
that source), so a note survives edits elsewhere in the document; every note is validated
and located (file:line:col) like the rest of the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

from pydantic import Field

from guidekb.engine.errors import KnowledgeBaseError, Problem
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Strict
from guidekb.engine.format.sources import Statement, normalize
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.format.validation import validate
from guidekb.engine.format.yamlsource import YamlDocument, load_yaml

CONTEXT_FILE = "context.yaml"
Status = Literal["encoded", "context", "missing"]


# --- context.yaml ---------------------------------------------------------------------------


class ContextNote(Strict):
    """One statement of a source that is background, not something a rule can act on."""

    source: str = Field(description="id of the source document", examples=["cold-sores-next-step"])
    statement: str = Field(min_length=1, description="the statement's opening words (unique in "
                           "the source; typographic dashes/quotes and whitespace may differ)",
                           examples=["Resistance remains below 0.5% in"])
    reason: str = Field(min_length=1, description="one line: why it is not actionable",
                        examples=["Prevalence figure; no action of its own."])


class ContextFile(Strict):
    """Statements of the sources that are background, not actionable (context.yaml)."""

    context: list[ContextNote] = Field(default_factory=list, description="each background "
                                       "statement with the reason no rule encodes it")


@dataclass(frozen=True)
class Note:
    statement: Statement
    reason: str
    line: int  # where the note is written in context.yaml


def load_context(kb: KnowledgeBase) -> dict[Statement, Note]:
    """The knowledge base's context notes, each matched to exactly one statement.

    Raises KnowledgeBaseError with every problem (unknown source, a prefix matching no
    statement or several, the same statement noted twice). A missing file means no notes.
    """
    path = kb.root / CONTEXT_FILE
    if not path.is_file():
        return {}
    doc, problems = load_yaml(path)
    if problems:
        raise KnowledgeBaseError(problems)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise KnowledgeBaseError([doc.problem((), "expected a mapping with a 'context:' list",
                                              "see docs/scenarios.md, section Source coverage")])
    parsed, problems = validate(ContextFile, doc)
    if parsed is None:
        raise KnowledgeBaseError(problems)
    notes: dict[Statement, Note] = {}
    for i, entry in enumerate(parsed.context):
        statement = _match(kb, entry, doc, ("context", i), problems)
        if statement is None:
            continue
        line = doc.position(("context", i)).line
        if statement in notes:
            problems.append(doc.problem(("context", i, "statement"),
                                        f"statement already noted at line {notes[statement].line}",
                                        "remove one of the two notes"))
            continue
        notes[statement] = Note(statement, entry.reason, line)
    if problems:
        raise KnowledgeBaseError(problems)
    return notes


def _match(kb: KnowledgeBase, entry: ContextNote, doc: YamlDocument, here: tuple[str | int, ...],
           problems: list[Problem]) -> Statement | None:
    text = kb.sources.get(entry.source)
    if text is None:
        problems.append(doc.problem((*here, "source"), f"unknown source '{entry.source}'",
                                    did_you_mean(entry.source, kb.sources, "sources")))
        return None
    wanted = normalize(entry.statement)
    found = [s for s in text.statements if s.text.startswith(wanted)]
    if not found:
        passage, ratio = _closest_opening(wanted, text.statements)
        problems.append(doc.problem((*here, "statement"),
                                    f"no statement of '{entry.source}' starts with this text",
                                    f"closest statement ({ratio:.0%} similar):\n  {passage}"))
        return None
    if len(found) > 1:
        lines = ", ".join(str(s.line) for s in found)
        problems.append(doc.problem((*here, "statement"),
                                    f"{len(found)} statements of '{entry.source}' start with this "
                                    f"text (lines {lines})", "write more of the statement"))
        return None
    return found[0]


def _closest_opening(wanted: str, statements: list[Statement]) -> tuple[str, float]:
    """The statement whose opening words are most like `wanted`, for a did-you-mean hint."""
    best, best_ratio = "", 0.0
    for statement in statements:
        ratio = SequenceMatcher(None, wanted, statement.text[: len(wanted)], autojunk=False).ratio()
        if ratio > best_ratio:
            best, best_ratio = statement.text, ratio
    return best, best_ratio


# --- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementCoverage:
    statement: Statement
    status: Status
    rules: tuple[str, ...] = ()  # rules whose provenance quotes it
    reason: str = ""  # for context statements

    @property
    def source(self) -> str:
        return self.statement.source


@dataclass
class SourceCoverage:
    kb: KnowledgeBase
    statements: list[StatementCoverage]
    stale_notes: list[Note] = field(default_factory=list)  # context notes on encoded statements

    def count(self, status: Status, source: str | None = None) -> int:
        return sum(1 for s in self.statements
                   if s.status == status and (source is None or s.source == source))

    @property
    def missing(self) -> list[StatementCoverage]:
        return [s for s in self.statements if s.status == "missing"]

    def rule_file(self, rule_id: str) -> str:
        location = self.kb.rule_locations.get(rule_id)
        return str(location) if location else ""


def encoding_rules(kb: KnowledgeBase) -> dict[Statement, list[str]]:
    """For every statement that some rule quotes, the ids of those rules in KB order."""
    quoted: dict[Statement, list[str]] = {}
    for rule in kb.rules:
        for prov in rule.provenance:
            text = kb.sources.get(prov.source)
            if text is None:
                continue
            for statement in text.statements_containing(prov.quote, text.section(prov.section)):
                owners = quoted.setdefault(statement, [])
                if rule.id not in owners:
                    owners.append(rule.id)
    return quoted


def measure(kb: KnowledgeBase) -> SourceCoverage:
    """Classify every statement of every source of `kb` (raises on a bad context.yaml)."""
    notes = load_context(kb)
    quoted = encoding_rules(kb)
    rows: list[StatementCoverage] = []
    stale: list[Note] = []
    for source_id in kb.documents:
        text = kb.sources.get(source_id)
        if text is None:
            continue
        for statement in text.statements:
            if statement in quoted:
                rows.append(StatementCoverage(statement, "encoded", tuple(quoted[statement])))
                if statement in notes:
                    stale.append(notes[statement])
            elif statement in notes:
                rows.append(StatementCoverage(statement, "context", reason=notes[statement].reason))
            else:
                rows.append(StatementCoverage(statement, "missing"))
    return SourceCoverage(kb, rows, stale)


def context_path(kb: KnowledgeBase) -> Path:
    return kb.root / CONTEXT_FILE
