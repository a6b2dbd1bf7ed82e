"""The scenario runner and `guidekb test`: failures are reported with a diff and exit 1;
broken scenario files are located authoring errors (exit 2), never silent passes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Expectations
from guidekb.engine.qa.scenarios import ScenarioError, compare, load_scenario, run_scenario, run_scenarios
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB, ROOT

GUIDEKB = str(ROOT / ".venv" / "bin" / "guidekb")
PASSING = HSV_KB / "scenarios" / "window-day-10-failure.yaml"

WRONG = """\
description: Deliberately wrong expectations, to see the runner fail.
case:
  current_antiviral: valacyclovir
  days_on_therapy: 12
  lesion_course: persistent
  dose_adequate: true
  adherent: true
expect:
  recommended: [iv_foscarnet]
  not_recommended: [suspect_resistance]
  forbidden: [valacyclovir]
  not_forbidden: [famciclovir]
  derived: [resistance_confirmed]
  not_derived: [treatment_failure]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_passing_scenario_has_no_diff(hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    result = run_scenario(hsv_engine, load_scenario(PASSING, hsv_kb))
    assert result.passed
    assert result.diff() == []


def test_every_kind_of_expectation_is_compared(hsv_kb: KnowledgeBase, hsv_engine: Engine,
                                               tmp_path: Path) -> None:
    result = run_scenario(hsv_engine, load_scenario(write(tmp_path, "wrong.yaml", WRONG), hsv_kb))
    assert not result.passed
    got = {(d.expectation, d.item) for d in result.differences}
    assert got == {("recommended", "iv_foscarnet"), ("not_recommended", "suspect_resistance"),
                   ("forbidden", "valacyclovir"), ("not_forbidden", "famciclovir"),
                   ("derived", "resistance_confirmed"), ("not_derived", "treatment_failure")}
    diff = "\n".join(result.diff())
    assert "suspect_resistance was recommended (by rule suspect-resistance-after-failure)" in diff
    assert "famciclovir was forbidden (by rule no-famciclovir-when-suspected)" in diff
    assert "actual forbidden:" in diff and "famciclovir, topical_acyclovir" in diff


def test_compare_names_the_conflict_when_a_recommendation_lost_to_a_prohibition(
        hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    from guidekb.engine.runtime.answer import Conflict

    answer = hsv_engine.evaluate({})
    clash = Conflict(code="iv_foscarnet", recommended_by="r1", forbidden_by="r2")
    answer = answer.model_copy(update={"conflicts": (*answer.conflicts, clash)})  # answers are frozen
    [difference] = compare(answer, Expectations(recommended=["iv_foscarnet"]))
    assert "recommended by r1 but forbidden by r2" in difference.detail


def test_a_copied_scenario_with_one_wrong_expectation_fails_the_cli(tmp_path: Path) -> None:
    kb = tmp_path / "hsv"
    shutil.copytree(HSV_KB, kb)
    target = kb / "scenarios" / PASSING.name
    text = target.read_text(encoding="utf-8")
    assert text.count("id_consult") == 1  # expected recommended in the real scenario
    target.write_text(text.replace("id_consult", "iv_foscarnet"), encoding="utf-8")
    result = subprocess.run([GUIDEKB, "test", str(kb)], capture_output=True, text=True,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("FAIL  window-day-10-failure") for line in lines)
    assert any(line.startswith("PASS  window-day-9-reassess") for line in lines)
    assert "recommended:        iv_foscarnet was not recommended" in result.stdout
    assert "actual recommended:" in result.stdout
    assert "1 failed" in result.stdout


def test_the_real_suite_passes_through_the_cli() -> None:
    result = CliRunner().invoke(app, ["test", str(HSV_KB), "--coverage"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    assert "every code is expected by some scenario" in result.output
    assert result.output.count("PASS  ") == len(list((HSV_KB / "scenarios").glob("*.yaml")))


def test_only_the_named_scenario_runs() -> None:
    result = CliRunner().invoke(app, ["test", str(HSV_KB), "--scenario", str(PASSING)])
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS") == 1


BROKEN = """\
description: broken on purpose
case:
  days_on_therapy: ten
  immune_state: immunocompromised
expect:
  recommended: [iv_foscarnett]
  forbidden: [famciclovir]
  not_forbidden: [famciclovir]
  derived: [suspect_resistance]
"""


def test_broken_scenarios_are_located_problems(hsv_kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path, hsv_kb)
    rendered = [(p.line, p.message) for p in raised.value.problems]
    assert (3, "fact 'days_on_therapy': value 'ten' is not allowed") in rendered
    assert (4, "unknown fact 'immune_state'") in rendered
    assert any(line == 6 and "unknown code 'iv_foscarnett'" in m for line, m in rendered)
    assert any(line == 8 and "'famciclovir' is expected both" in m for line, m in rendered)
    assert any(line == 9 and "unknown derived fact 'suspect_resistance'" in m for line, m in rendered)


def test_unknown_expectation_key_is_an_error_not_ignored(hsv_kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", "description: x\nexpect:\n  recommend: [iv_foscarnet]\n")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path, hsv_kb)
    [problem] = raised.value.problems
    assert (problem.line, problem.column) == (3, 3)
    assert "unknown key 'recommend'" in problem.message


def test_a_broken_scenario_exits_2_with_file_line_column(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", BROKEN)
    result = subprocess.run([GUIDEKB, "test", str(HSV_KB), "--scenario", str(path)],
                            capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert f"{path}:3:" in result.stderr or "broken.yaml:3:" in result.stderr
    assert "Traceback" not in result.stderr
    assert "problems found in the scenarios" in result.stderr


def test_all_problems_of_all_files_come_at_once(hsv_kb: KnowledgeBase, tmp_path: Path) -> None:
    one = write(tmp_path, "one.yaml", "description: x\nexpect:\n  recommended: [nope]\n")
    two = write(tmp_path, "two.yaml", "description: y\ncase: {adherent: maybe}\nexpect: {}\n")
    with pytest.raises(ScenarioError) as raised:
        run_scenarios(hsv_kb, [one, two])
    assert sorted({Path(p.file).name for p in raised.value.problems}) == ["one.yaml", "two.yaml"]


def test_coverage_of_a_single_scenario_names_what_it_misses(hsv_kb: KnowledgeBase) -> None:
    from guidekb.engine.qa.scenario_coverage import measure

    report = measure(hsv_kb, run_scenarios(hsv_kb, [PASSING]))
    assert report.rules_fired["suspect-resistance-after-failure"] == ["window-day-10-failure"]
    assert "suppressive-valacyclovir-1g" in report.rules_not_fired
    [days] = [b for b in report.branches
              if b.rule == "treatment-failure-no-resolution" and b.test == "days_on_therapy ge 10"]
    assert days.path == "when.all[1]"
    assert not days.complete and days.missing == "false"
    [unknown_drug] = [b for b in report.branches
                      if b.rule == "treatment-failure-no-resolution" and b.test == "unknown current_antiviral"]
    assert unknown_drug.missing == "true"
    assert "suppressive_valacyclovir_1g_daily" in report.codes_unchecked
    assert "suspect_resistance" not in report.codes_unchecked
    assert not report.complete


def test_coverage_table_in_the_cli_for_a_partial_suite() -> None:
    result = CliRunner().invoke(app, ["test", str(HSV_KB), "--scenario", str(PASSING), "--coverage",
                                      "--no-timing"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Branches not exercised both ways" in result.output
    assert "rules no scenario fires:" in result.output
    assert "codes no scenario expects:" in result.output
