"""The HSV scenario suite, one pytest test per scenario file, plus what the suite must cover.

The scenarios live in knowledge/hsv-resistance/scenarios/ beside the rules; `guidekb test`
runs the same files. Here each is a test of its own, named after its file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.scenario_coverage import measure
from guidekb.engine.qa.scenarios import ScenarioResult, load_scenario, run_scenario, run_scenarios
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB

SCENARIOS = sorted((HSV_KB / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path, hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    result = run_scenario(hsv_engine, load_scenario(path, hsv_kb))
    assert result.passed, f"{path.name}:\n" + "\n".join(result.diff())


@pytest.fixture(scope="module")
def results(hsv_kb: KnowledgeBase) -> list[ScenarioResult]:
    return run_scenarios(hsv_kb)


def test_suite_is_large_enough(results: list[ScenarioResult]) -> None:
    assert len(results) >= 30


def test_every_scenario_checks_something(results: list[ScenarioResult]) -> None:
    empty = [r.name for r in results if not any(r.loaded.scenario.expect.model_dump().values())]
    assert empty == []


def test_every_rule_fires_in_some_scenario(hsv_kb: KnowledgeBase, results: list[ScenarioResult]) -> None:
    assert measure(hsv_kb, results).rules_not_fired == []


def test_every_condition_branch_is_seen_true_and_false(hsv_kb: KnowledgeBase,
                                                       results: list[ScenarioResult]) -> None:
    incomplete = [f"{b.rule} {b.path} ({b.test}): never {b.missing}"
                  for b in measure(hsv_kb, results).branches_incomplete]
    assert incomplete == []


def test_every_code_is_checked_by_some_scenario(hsv_kb: KnowledgeBase, results: list[ScenarioResult]) -> None:
    report = measure(hsv_kb, results)
    assert report.codes_unchecked == []
    assert report.derived_unchecked == []
