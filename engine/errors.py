"""One exception hierarchy for everything a knowledge-base author or a case writer can get wrong.

Problems are collected, never raised one at a time: an author fixing a knowledge base wants
every mistake of a file in one pass, each with file:line:column and a hint. A problem is data
as well as text: a stable error code (listed in docs/errors.md), the location path in the
file (`rules[3].provenance[0].quote`) and the same path named by what it belongs to
(`rule no-famciclovir: provenance[0].quote`), so tools and editors need not parse messages.

Every error guidekb raises on purpose derives from `GuidekbError`; anything else escaping
guidekb is a bug in guidekb.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    """A stable identifier of one kind of problem: `GKB201 unknown-fact`.

    The number never changes meaning once published; a retired code is never reused.
    """

    id: str
    name: str
    summary: str

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


ERROR_CODES: dict[str, ErrorCode] = {}


def _code(number: str, name: str, summary: str) -> ErrorCode:
    code = ErrorCode(f"GKB{number}", name, summary)
    assert code.id not in ERROR_CODES, f"error code {code.id} defined twice"
    ERROR_CODES[code.id] = code
    return code


# --- files and YAML --------------------------------------------------------------------------
UNCLASSIFIED = _code("000", "problem", "a problem not yet given a more specific code")
YAML_SYNTAX = _code("001", "yaml-syntax", "the file is not valid YAML")
DUPLICATE_KEY = _code("002", "duplicate-key", "a mapping sets the same key twice")
UNSUPPORTED_YAML = _code("003", "unsupported-yaml", "a YAML tag or value other than plain "
                         "scalars, lists and mappings")
KEY_NOT_TEXT = _code("004", "key-not-text", "a mapping key that is not plain text")
UNREADABLE_FILE = _code("005", "unreadable-file", "the file cannot be read as UTF-8 text")
MISSING_FILE = _code("006", "missing-file", "a file or folder the knowledge base needs is absent")
NOT_A_MAPPING = _code("007", "not-a-mapping", "the top of a file is not a mapping")
INPUT_LIMIT = _code("008", "input-limit", "a file is larger, nests deeper, or has more keys, "
                    "values, aliases or longer text than guidekb reads (docs/reliability.md)")
AMBIGUOUS_NUMBER = _code("009", "ambiguous-number", "a number YAML readers disagree on: a "
                         "leading zero, hexadecimal, octal, base 60, underscores or a decimal")
CONTROL_CHARACTER = _code("010", "control-character", "a control character (NUL, ESC, DEL, ...) "
                          "in a file or in a value")
NOT_READ = _code("011", "not-read", "a file or linked folder in rules/, scenarios/ or cases/ that "
                 "guidekb does not read (not .yaml/.yml, or a link): reported, never skipped")
# --- the format: keys and values of each file -----------------------------------------------
UNKNOWN_KEY = _code("101", "unknown-key", "a key the format does not have (often misspelt)")
MISSING_KEY = _code("102", "missing-key", "a required key is absent")
WRONG_TYPE = _code("103", "wrong-type", "a value of the wrong kind: a list, mapping, text, "
                   "whole number, true/false or date was expected")
INVALID_VALUE = _code("104", "invalid-value", "a value of the right kind that the format does "
                      "not allow (not one of the choices, wrong form, empty)")
BAD_CONDITION = _code("105", "bad-condition", "a condition that is none of all, any, not, known, "
                      "unknown, fact or always, or a fact test with not exactly one operator")
# --- cross-references within the knowledge base ---------------------------------------------
UNKNOWN_FACT = _code("201", "unknown-fact", "a fact name that facts.yaml does not declare")
UNKNOWN_CODE = _code("202", "unknown-code", "a code that outcomes.yaml does not declare")
UNKNOWN_SOURCE = _code("203", "unknown-source", "a source id that the manifest does not list")
DUPLICATE_ID = _code("204", "duplicate-id", "two rules, sources or invariants share an id")
OPERATOR_FOR_TYPE = _code("205", "operator-for-type", "an operator that cannot test a fact of "
                          "this type")
VALUE_NOT_IN_DOMAIN = _code("206", "value-not-in-domain", "a value a condition tests that the "
                            "fact can never have")
DERIVED_FACT_MISUSE = _code("207", "derived-fact-misuse", "a derived conclusion negated, tested "
                            "for unknown or for anything but true; or a case fact derived")
DERIVED_CYCLE = _code("208", "derived-cycle", "derived facts that justify each other in a cycle")
SOURCE_FILE_MISSING = _code("209", "source-file-missing", "a source file named by the manifest "
                            "does not exist")
SECTION_NOT_IN_TEXT = _code("210", "section-not-in-text", "a section the manifest lists is not a "
                            "heading line of the source text")
SOURCE_OUTSIDE_KB = _code("211", "source-outside-kb", "a source file path that is absolute or "
                          "leads outside the knowledge-base folder")
UNKNOWN_STAGE = _code("212", "unknown-stage", "a pathway stage, or a conclusion a stage groups, "
                      "that is not a conclusion (a derived fact)")
PATHWAY_REPEAT = _code("213", "pathway-repeat", "a conclusion, a question or a stage name "
                       "used twice in the pathway, or two stages before any conclusion")
# --- provenance --------------------------------------------------------------------------------
QUOTE_NOT_FOUND = _code("301", "quote-not-found", "a quote is not verbatim in its source")
QUOTE_IN_OTHER_SECTION = _code("302", "quote-in-other-section", "a quote is in another section "
                               "than the one cited")
UNKNOWN_SECTION = _code("303", "unknown-section", "a cited section is not a section of the source")
UNKNOWN_REFERENCE = _code("304", "unknown-reference", "a reference number is not in the source's "
                          "reference list")
REFERENCE_NOT_CITED = _code("305", "reference-not-cited", "a reference number the quoted passage "
                            "does not cite")
# --- cases -------------------------------------------------------------------------------------
UNKNOWN_CASE_FACT = _code("401", "unknown-case-fact", "a case names a fact the knowledge base "
                          "does not have")
DERIVED_FACT_IN_CASE = _code("402", "derived-fact-in-case", "a case gives a conclusion the rules "
                             "derive")
VALUE_NOT_ALLOWED = _code("403", "value-not-allowed", "a case gives a value outside the fact's "
                          "domain (type, range or allowed values)")
CASE_NOT_A_MAPPING = _code("404", "case-not-a-mapping", "a case is not a mapping of facts to "
                           "values")
# --- evaluation --------------------------------------------------------------------------------
ACTION_FAILED = _code("501", "action-failed", "a rule's action raised inside the rule engine; "
                      "the case gets no answer")
NO_FIXPOINT = _code("502", "no-fixpoint", "the rule engine stopped before every rule that could "
                    "fire had fired; the case gets no answer")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a file, located as precisely as the YAML allows.

    Sorted (and compared) by place and text only; `code`, `path` and `where` are data for
    tools: the code says what kind of problem it is, `path` is the dotted location in the
    file (`rules[3].provenance[0].quote`) and `where` names it by the rule, fact or source it
    belongs to (`rule no-famciclovir: provenance[0].quote`).
    """

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    kind: str = field(default="error", compare=False)
    code: ErrorCode = field(default=UNCLASSIFIED, compare=False)
    path: str = field(default="", compare=False)
    where: str = field(default="", compare=False)

    def render(self) -> str:
        """`file:line:col: message` followed by an indented hint, as compilers print."""
        text = f"{self.file}:{self.line}:{self.column}: {self.message}"
        if self.hint:
            text += "\n    " + self.hint.replace("\n", "\n    ")
        return text

    def as_dict(self) -> dict[str, Any]:
        """The problem as plain data (for JSON output and editors)."""
        return {"file": self.file, "line": self.line, "column": self.column, "code": self.code.id,
                "name": self.code.name, "path": self.path, "where": self.where or self.path,
                "message": self.message, "hint": self.hint, "severity": self.kind}


class Problems(tuple[Problem, ...]):
    """The problems of an error, sorted by place. Calling it returns them as a plain tuple:
    `error.problems()` is the documented form, `error.problems[0]` still works."""

    def __call__(self) -> tuple[Problem, ...]:
        return tuple(self)


class GuidekbError(Exception):
    """Base of every error guidekb raises on purpose."""


class ProblemsError(GuidekbError):
    """Raised with every problem found, so the CLI can print them all and exit 2."""

    def __init__(self, problems: Iterable[Problem], what: str = "knowledge base") -> None:
        self.problems = Problems(sorted(problems))
        self.what = what
        super().__init__(self.render())

    def render(self) -> str:
        lines = [p.render() for p in self.problems]
        count = len(self.problems)
        lines.append(f"{count} problem{'s' if count != 1 else ''} found in the {self.what}.")
        return "\n".join(lines)


class KnowledgeBaseError(ProblemsError):
    """The knowledge base does not load or does not verify."""


class CaseError(ProblemsError):
    """A case does not validate against the knowledge base's fact vocabulary.

    Besides the located problems, `details` holds one `CaseProblem` per wrong fact (the fact,
    the value given and what is allowed), in the order of the case.
    """

    def __init__(self, problems: Iterable[Problem], details: Sequence[CaseProblem] = ()) -> None:
        self.details = tuple(details)
        super().__init__(problems, what="case")

    @property
    def fact(self) -> str | None:
        """The first wrong fact (None for a case that is not a mapping at all)."""
        return self.details[0].fact if self.details else None

    @property
    def value(self) -> Any:
        """The value given for the first wrong fact (None when the fact itself is unknown)."""
        return self.details[0].value if self.details else None

    @property
    def allowed(self) -> str | None:
        """What the knowledge base allows for the first wrong fact."""
        return self.details[0].allowed if self.details else None


@dataclass(frozen=True)
class CaseProblem:
    """What is wrong with one fact of a case, as data: the fact, the value given (None when
    the fact itself is the problem) and what the knowledge base allows there."""

    fact: str
    value: Any
    allowed: str
    code: ErrorCode


class EvaluationError(GuidekbError):
    """Evaluating a case failed inside the rule engine; no answer is given.

    The engine fails closed: an exception inside a rule's action, or a run that stopped before
    its fixpoint, means conclusions may be missing, and a partial answer is never returned.
    """

    def __init__(self, message: str, code: ErrorCode, rule: str | None = None) -> None:
        self.code = code
        self.rule = rule
        super().__init__(message)


class UnknownName(GuidekbError, KeyError):
    """A rule id, code or other name asked for through the Python API does not exist.

    A KeyError too, so callers that caught KeyError keep working; the message says what was
    asked for and suggests the closest name.
    """

    def __init__(self, what: str, name: str, hint: str = "") -> None:
        self.what, self.name, self.hint = what, name, hint
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown {self.what} '{self.name}'" + (f": {self.hint}" if self.hint else "")


def relative(path: Path) -> str:
    """Paths in messages are relative to the working directory when possible: shorter, clickable."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # outside the cwd; name too long; symlink loop
        return str(path)
