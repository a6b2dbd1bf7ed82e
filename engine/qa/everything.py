"""Every problem of every file of a knowledge-base folder, in one pass (`guidekb validate`).

The knowledge base proper (manifest, facts, outcomes, rules, sources), then every file that
refers to it: invariants.yaml, the scenarios, the bundled cases, context.yaml and lint.yaml.
A problem in one file never hides the problems of another: when the rules have problems the
other files are still checked against the vocabulary (facts, codes, sources) that did load,
and when even the vocabulary does not load they are still checked for YAML syntax and
structure. Nothing here answers a case: a knowledge base with problems is only a vocabulary
to check references against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from guidekb.engine.errors import CASE_NOT_A_MAPPING, NOT_A_MAPPING, Problem, ProblemsError
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.kbfiles import CASE_SUFFIXES, list_files
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import diagnose_knowledge_base
from guidekb.engine.format.models import Scenario
from guidekb.engine.format.validation import validate
from guidekb.engine.format.yamlsource import CASE_LIMITS, KB_LIMITS, Limits, load_yaml
from guidekb.engine.qa.invariants import INVARIANTS_FILE, Invariant, InvariantsFile, load_invariants
from guidekb.engine.qa.lint import LINT_FILE, LintFile, load_acknowledgements
from guidekb.engine.qa.scenarios import load_scenarios, scenario_listing
from guidekb.engine.qa.source_coverage import CONTEXT_FILE, ContextFile, load_context

CASES_DIR = "cases"
T = TypeVar("T")


@dataclass(frozen=True)
class Checked:
    """What `check_everything` found: every problem, sorted by file and place, and what was
    counted (meaningful when there are no problems)."""

    kb: KnowledgeBase | None
    problems: tuple[Problem, ...]
    invariants: tuple[Invariant, ...] = ()
    scenarios: int = 0
    cases: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def quotes(self) -> int:
        """Source quotes verified: those of the rules and of the invariants."""
        rules = sum(len(rule.provenance) for rule in self.kb.rules) if self.kb else 0
        return rules + sum(len(inv.provenance) for inv in self.invariants)


def check_everything(root: Path) -> Checked:
    """Check the knowledge base in `root` and every file that refers to it; never raises a
    ProblemsError (the problems are the answer)."""
    kb, problems = diagnose_knowledge_base(root)
    case_listing = list_files(root / CASES_DIR, CASE_SUFFIXES, "case")
    problems += case_listing.problems
    if kb is None:
        if (root / "manifest.yaml").is_file():  # not a knowledge base at all: nothing else to say
            problems += _structure_only(root, case_listing.files)
        return Checked(None, tuple(sorted(problems)))

    known: KnowledgeBase = kb

    def collect(load: Callable[[], T]) -> T | None:
        try:
            return load()
        except ProblemsError as exc:
            problems.extend(exc.problems)
            return None

    invariants = collect(lambda: load_invariants(known)) or []
    scenarios = collect(lambda: load_scenarios(known)) or []
    collect(lambda: load_context(known))
    collect(lambda: load_acknowledgements(known))
    for path in case_listing.files:
        collect(partial(load_case, path, known))
    return Checked(kb, tuple(sorted(problems)), tuple(invariants), len(scenarios),
                   len(case_listing.files))


def _structure_only(root: Path, cases: tuple[Path, ...]) -> list[Problem]:
    """Without a vocabulary to check names against: syntax and structure of the other files."""
    problems: list[Problem] = []
    invariants = root / INVARIANTS_FILE
    if invariants.is_file():
        problems += _file_problems(invariants, InvariantsFile, KB_LIMITS)
    listing = scenario_listing(root)
    problems += listing.problems
    for path in listing.files:
        problems += _file_problems(path, Scenario, KB_LIMITS)
    for path in cases:
        problems += _file_problems(path, None, CASE_LIMITS)
    for name, model in ((CONTEXT_FILE, ContextFile), (LINT_FILE, LintFile)):
        path = root / name
        if path.is_file() and load_yaml(path)[0].data is not None:  # empty: nothing noted
            problems += _file_problems(path, model, KB_LIMITS)
        elif path.is_file():
            problems += load_yaml(path)[1]
    return problems


def _file_problems(path: Path, model: type[BaseModel] | None, limits: Limits) -> list[Problem]:
    doc, problems = load_yaml(path, limits)
    if problems:
        return problems
    if doc.data is None and model is None:  # an empty case: every fact unknown
        return []
    if not isinstance(doc.data, dict):
        code = NOT_A_MAPPING if model is not None else CASE_NOT_A_MAPPING
        return [doc.problem((), "expected a mapping at the top of the file", code=code)]
    if model is None:
        return []
    return validate(model, doc)[1]


__all__ = ["CASES_DIR", "Checked", "check_everything"]
