"""Scenarios: a case and what the knowledge base must answer for it, run and compared.

A scenario file lives in the knowledge base's `scenarios/` folder, so the rules and their
tests travel together (as policies and their tests do in Open Policy Agent). Loading is
strict and located: a misspelt expectation, an unknown code or fact, or a code expected both
ways is an authoring error (file:line:col), never a silent pass. Running a valid scenario
gives a pass or a list of readable differences.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guidekb.engine.errors import (
    DUPLICATE_ID,
    UNCLASSIFIED,
    CaseError,
    ErrorCode,
    Problem,
    ProblemsError,
    relative,
)
from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.kbfiles import YAML_SUFFIXES, Listing, file_name, list_files
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Expectations, Scenario
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.format.validation import validate
from guidekb.engine.format.yamlsource import YamlDocument, load_yaml
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.evaluation import Engine

SCENARIO_DIR = "scenarios"

# Each expectation list and the opposite one it must not share an item with.
_POSITIVE = ("recommended", "forbidden", "derived")
_OPPOSITES = {**{p: f"not_{p}" for p in _POSITIVE}, **{f"not_{p}": p for p in _POSITIVE}}


class ScenarioError(ProblemsError):
    """One or more scenario files do not validate against the format or the knowledge base."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, what="scenarios")


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario: its file, its validated case, and its name: the file's path in
    the `scenarios/` folder (`folder`) without the suffix, `hiv/first-line` for
    `scenarios/hiv/first-line.yml`; the file stem for a file given from elsewhere."""

    path: Path
    scenario: Scenario
    case: dict[str, Any]
    folder: Path | None = None

    @property
    def name(self) -> str:
        return file_name(self.path, self.folder) if self.folder is not None else self.path.stem


@dataclass(frozen=True)
class Difference:
    """One expectation the answer did not meet, phrased for a reader."""

    expectation: str  # recommended, not_recommended, forbidden, ...
    item: str  # the code or derived fact
    detail: str

    def render(self) -> str:
        return f"{self.expectation + ':':<19} {self.detail}"


@dataclass
class ScenarioResult:
    loaded: LoadedScenario
    answer: Answer
    differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def passed(self) -> bool:
        return not self.differences

    def diff(self) -> list[str]:
        """The differences, then what the answer actually held, for a failing scenario."""
        if self.passed:
            return []
        lines = [d.render() for d in self.differences]
        lines.append(f"{'actual recommended:':<19} {_listed(self.answer.recommended_codes())}")
        lines.append(f"{'actual forbidden:':<19} {_listed(self.answer.forbidden_codes())}")
        lines.append(f"{'actual derived:':<19} {_listed(self.answer.derived_facts())}")
        return lines


def _listed(items: Iterable[str]) -> str:
    shown = ", ".join(items)
    return shown or "(none)"


# --- loading --------------------------------------------------------------------------------


def scenario_files(kb: KnowledgeBase) -> list[Path]:
    """The scenario files of a knowledge base (.yaml and .yml, subfolders too), sorted by
    path; `scenario_listing` also says what in the folder is not read."""
    return list(scenario_listing(kb.root).files)


def scenario_listing(root: Path) -> Listing:
    """The scenario files of the knowledge base in `root`, and a problem for each other file
    in `scenarios/` or two files whose scenario names are the same (`a.yaml` and `a.yml`)."""
    folder = root / SCENARIO_DIR
    listing = list_files(folder, YAML_SUFFIXES, "scenario")
    problems = list(listing.problems)
    first: dict[str, Path] = {}
    for path in listing.files:
        name = file_name(path, folder)
        if name in first:
            problems.append(Problem(relative(path), 1, 1, f"two scenarios named '{name}' "
                                    f"(also {first[name].name})", "rename one of them",
                                    code=DUPLICATE_ID))
        first.setdefault(name, path)
    return Listing(listing.files, tuple(problems))


def load_scenario(path: Path, kb: KnowledgeBase, folder: Path | None = None) -> LoadedScenario:
    """Read and validate one scenario file; raises ScenarioError listing every problem."""
    doc, problems = load_yaml(path)
    if problems:
        raise ScenarioError(problems)
    if not isinstance(doc.data, dict):
        raise ScenarioError([doc.problem((), "a scenario is a mapping with description, case "
                                         "and expect", "see docs/scenarios.md")])
    scenario, problems = validate(Scenario, doc)
    if scenario is None:
        raise ScenarioError(problems)
    problems = _check_expectations(scenario.expect, kb, doc)
    case: dict[str, Any] = {}
    try:
        case = validate_case(scenario.case, kb, _CaseDoc(doc))
    except CaseError as exc:
        problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return LoadedScenario(path, scenario, case, folder)


class _CaseDoc(YamlDocument):
    """The scenario document seen from its `case:` mapping, so case errors point at it."""

    def __init__(self, doc: YamlDocument) -> None:
        super().__init__(doc.file, doc.data, doc.values, doc.keys)

    def problem(self, path: tuple[str | int, ...], message: str, hint: str = "",
                prefer_key: bool = False, code: ErrorCode = UNCLASSIFIED) -> Problem:
        return super().problem(("case", *path), message, hint, prefer_key, code)


def _check_expectations(expect: Expectations, kb: KnowledgeBase, doc: YamlDocument) -> list[Problem]:
    problems: list[Problem] = []
    for name in Expectations.model_fields:
        items: list[str] = getattr(expect, name)
        known = kb.derived_facts if "derived" in name else kb.outcomes
        kind = "derived fact" if "derived" in name else "code"
        opposite: list[str] = getattr(expect, _OPPOSITES[name])
        for i, item in enumerate(items):
            where = ("expect", name, i)
            if item not in known:
                problems.append(doc.problem(where, f"expect.{name}: unknown {kind} '{item}'",
                                            did_you_mean(item, known, f"{kind}s")))
            elif item in opposite and name.startswith("not_"):
                problems.append(doc.problem(where, f"'{item}' is expected both in {name} and in "
                                            f"{_OPPOSITES[name]}", "keep it in one of them"))
            elif items.index(item) != i:
                problems.append(doc.problem(where, f"expect.{name} lists '{item}' twice",
                                            "list each once"))
    return problems


def load_scenarios(kb: KnowledgeBase, paths: Sequence[Path] | None = None) -> list[LoadedScenario]:
    """Every scenario (of the knowledge base, or the given files); all problems at once,
    including files in `scenarios/` that would not be read."""
    problems: list[Problem] = []
    if paths is None:
        listing = scenario_listing(kb.root)
        files = list(listing.files)
        problems += listing.problems
    else:
        files = list(paths)
    folder = kb.root / SCENARIO_DIR
    loaded: list[LoadedScenario] = []
    for path in files:
        try:
            loaded.append(load_scenario(path, kb, folder))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return loaded


# --- running --------------------------------------------------------------------------------


def compare(answer: Answer, expect: Expectations) -> list[Difference]:
    """Every way `answer` fails `expect`; empty when it meets them all."""
    recommended = {r.code: r for r in answer.recommendations}
    forbidden = {p.code: p for p in answer.prohibitions}
    derived = {d.fact: d for d in answer.derived}
    conflicts = {c.code: c for c in answer.conflicts}
    out: list[Difference] = []
    for code in expect.recommended:
        if code not in recommended:
            why = (f" (recommended by {conflicts[code].recommended_by} but forbidden by "
                   f"{conflicts[code].forbidden_by})" if code in conflicts else "")
            out.append(Difference("recommended", code, f"{code} was not recommended{why}"))
    for code in expect.not_recommended:
        if code in recommended:
            out.append(Difference("not_recommended", code,
                                  f"{code} was recommended (by rule {recommended[code].rule})"))
    for code in expect.forbidden:
        if code not in forbidden:
            out.append(Difference("forbidden", code, f"{code} was not forbidden"))
    for code in expect.not_forbidden:
        if code in forbidden:
            out.append(Difference("not_forbidden", code,
                                  f"{code} was forbidden (by rule {forbidden[code].rule})"))
    for name in expect.derived:
        if name not in derived:
            out.append(Difference("derived", name, f"{name} was not derived"))
    for name in expect.not_derived:
        if name in derived:
            out.append(Difference("not_derived", name,
                                  f"{name} was derived (by rule {derived[name].rule})"))
    return out


def run_scenario(engine: Engine, loaded: LoadedScenario) -> ScenarioResult:
    start = time.perf_counter()
    answer = engine.evaluate(loaded.case)
    seconds = time.perf_counter() - start
    return ScenarioResult(loaded, answer, compare(answer, loaded.scenario.expect), seconds)


def run_scenarios(kb: KnowledgeBase, paths: Sequence[Path] | None = None) -> list[ScenarioResult]:
    """Load (all problems at once, as ScenarioError) and run every scenario."""
    loaded = load_scenarios(kb, paths)
    engine = Engine.for_kb(kb)
    return [run_scenario(engine, item) for item in loaded]
