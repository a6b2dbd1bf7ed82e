"""One exception hierarchy for everything a knowledge-base author or a case writer can get wrong.

Problems are collected, never raised one at a time: an author fixing a knowledge base wants
every mistake of a file in one pass, each with file:line:column and a hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a file, located as precisely as the YAML allows."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    kind: str = field(default="error", compare=False)

    def render(self) -> str:
        """`file:line:col: message` followed by an indented hint, as compilers print."""
        text = f"{self.file}:{self.line}:{self.column}: {self.message}"
        if self.hint:
            text += "\n    " + self.hint.replace("\n", "\n    ")
        return text


class GuidekbError(Exception):
    """Base of every error guidekb raises on purpose."""


class ProblemsError(GuidekbError):
    """Raised with every problem found, so the CLI can print them all and exit 2."""

    def __init__(self, problems: list[Problem], what: str = "knowledge base") -> None:
        self.problems = sorted(problems)
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
    """A case file does not validate against the knowledge base's fact vocabulary."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, what="case")


def relative(path: Path) -> str:
    """Paths in messages are relative to the working directory when possible: shorter, clickable."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
