"""The pytest plugin, used as a QA team would: from a scratch repository outside this one.

Each test builds a folder in tmp_path holding a copy of the HSV knowledge base, a pytest.ini
and a conftest.py that sets the team's own Hypothesis profile, then runs `python -m pytest`
there in a subprocess. Nothing is passed but the plugin's own option: the plugin must be found
through its `pytest11` entry point, as after `pip install guidekb`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.invariants import load_invariants
from guidekb.engine.qa.propcheck import PASTE
from guidekb.engine.qa.scenarios import load_scenario, run_scenario, scenario_files
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB
from tests.kbedit import drop_rule, edit_rule

# The team's profiles, derandomized (runs repeat): a quick one by default, and one that searches
# long enough to find the seeded bug, chosen with Hypothesis's own --hypothesis-profile.
CONFTEST = """\
from hypothesis import Phase, settings

settings.register_profile("explicit-only", phases=[Phase.explicit])
settings.register_profile("quick", max_examples=10, deadline=None, derandomize=True, database=None)
settings.register_profile("search", max_examples=150, deadline=None, derandomize=True, database=None)
settings.load_profile("quick")
"""


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A QA team's repository: its own configuration and a copy of the knowledge base."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    shutil.copytree(HSV_KB, tmp_path / "hsv-resistance")
    return tmp_path


def pytest_in(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest in `where`, as the team would, untouched by this suite's own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_"))}
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=where, capture_output=True, text=True, timeout=600, env=env)


def outcomes(output: str) -> dict[str, str]:
    """node id -> PASSED/FAILED/SKIPPED, from `pytest -v` output."""
    return dict(re.findall(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED)", output, re.M))


def expected_ids(kb: KnowledgeBase, name: str = "hsv-resistance") -> set[str]:
    return ({f"{name}::invariant::{inv.id}" for inv in load_invariants(kb)} |
            {f"{name}::scenario::{path.stem}" for path in scenario_files(kb)})


def test_every_invariant_and_scenario_is_an_item_and_passes(scratch: Path, hsv_kb: KnowledgeBase) -> None:
    result = pytest_in(scratch, "--guidekb-kb", "hsv-resistance", "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    ran = outcomes(result.stdout)
    assert set(ran) == expected_ids(hsv_kb)
    assert len(ran) == len(load_invariants(hsv_kb)) + len(scenario_files(hsv_kb)) == 63
    assert set(ran.values()) == {"PASSED"}
    assert "guidekb knowledge bases: " in result.stdout  # the header names what is tested
    assert "hsv-resistance::invariant::no-famciclovir-when-resistance-suspected PASSED" in result.stdout
    assert "hsv-resistance::scenario::window-day-10-failure PASSED" in result.stdout


def test_a_broken_rule_fails_with_the_counterexample_as_a_scenario(
        scratch: Path, hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    kb_dir = scratch / "hsv-resistance"
    drop_rule(kb_dir, "no-famciclovir-when-suspected")
    result = pytest_in(scratch, "--guidekb-kb", "hsv-resistance", "-v", "--hypothesis-profile", "search",
                       "-k", "invariant::no-famciclovir-when-resistance-suspected")
    assert result.returncode == 1, result.stdout + result.stderr
    assert outcomes(result.stdout) == {
        "hsv-resistance::invariant::no-famciclovir-when-resistance-suspected": "FAILED"}
    # The failure names where the invariant is written, what is violated, and the scenario.
    assert re.search(r"^hsv-resistance/invariants\.yaml:\d+:\d+: invariant "
                     r"'no-famciclovir-when-resistance-suspected' \(always_forbid\) is violated: "
                     r"does not forbid famciclovir although the condition holds$", result.stdout, re.M)
    assert "Traceback" not in result.stdout and "propcheck.py" not in result.stdout
    pasted = result.stdout.split(PASTE, 1)[1].split("\n\n", 2)[1]
    scenario = yaml.safe_load(pasted)
    assert scenario["expect"] == {"forbidden": ["famciclovir"]}
    assert scenario["case"]  # the shrunk case, facts that matter only

    # Pasted into scenarios/, it is a scenario like any other: it fails on the broken
    # knowledge base (through the plugin) and passes on the real one.
    (kb_dir / "scenarios" / "counterexample.yaml").write_text(pasted, encoding="utf-8")
    again = pytest_in(scratch, "--guidekb-kb", "hsv-resistance", "-v", "-k", "scenario::counterexample")
    assert outcomes(again.stdout) == {"hsv-resistance::scenario::counterexample": "FAILED"}
    assert "  forbidden:          famciclovir was not forbidden" in again.stdout
    fixed = run_scenario(hsv_engine, load_scenario(kb_dir / "scenarios" / "counterexample.yaml", hsv_kb))
    assert fixed.passed

    # The team's settings govern the search: under a profile that draws no cases, Hypothesis
    # skips the item.
    blind = pytest_in(scratch, "--guidekb-kb", "hsv-resistance", "-v", "--hypothesis-profile", "explicit-only",
                      "-k", "invariant::no-famciclovir-when-resistance-suspected")
    assert outcomes(blind.stdout) == {
        "hsv-resistance::invariant::no-famciclovir-when-resistance-suspected": "SKIPPED"}, blind.stdout
    assert "Hypothesis has been told to run no test cases" in blind.stdout


def test_a_failing_scenario_shows_expected_against_got(scratch: Path, hsv_kb: KnowledgeBase,
                                                       hsv_engine: Engine) -> None:
    scenarios = scratch / "hsv-resistance" / "scenarios"
    wrong = scenarios / "window-day-10-failure.yaml"
    text = wrong.read_text(encoding="utf-8")
    assert "  forbidden: [famciclovir]\n" in text
    wrong.write_text(text.replace("  forbidden: [famciclovir]\n", "  forbidden: [famciclovir, iv_foscarnet]\n"),
                     encoding="utf-8")
    invalid = scenarios / "window-day-10-success.yaml"
    invalid.write_text("description: d\ncase: {}\nexpect:\n  recommended: [foscarnet]\n", encoding="utf-8")

    result = pytest_in(scratch, "--guidekb-kb", "hsv-resistance", "-v", "-k", "scenario::window-day-10")
    assert result.returncode == 1, result.stdout + result.stderr
    assert outcomes(result.stdout) == {"hsv-resistance::scenario::window-day-10-failure": "FAILED",
                                       "hsv-resistance::scenario::window-day-10-success": "FAILED"}
    # The diff is the one `guidekb test` prints: the unmet expectation, then the answer.
    diff = run_scenario(hsv_engine, load_scenario(wrong, hsv_kb)).diff()
    assert diff[0] == "forbidden:          iv_foscarnet was not forbidden"
    assert ("hsv-resistance/scenarios/window-day-10-failure.yaml: scenario 'window-day-10-failure' "
            "fails, expected vs got:\n" + "\n".join(f"  {line}" for line in diff)) in result.stdout
    # A scenario that does not validate fails its item with the located problem, not a traceback.
    assert ("hsv-resistance/scenarios/window-day-10-success.yaml:4:17: expect.recommended: unknown "
            "code 'foscarnet'") in result.stdout
    assert "Traceback" not in result.stdout

    # The same under pytest-xdist: every worker collects the same items; failures travel back.
    distributed = pytest_in(scratch, "--guidekb-kb", "hsv-resistance", "-n", "2", "-k", "scenario::window-day-10")
    assert re.search(r"^FAILED hsv-resistance::scenario::window-day-10-failure\b", distributed.stdout, re.M)
    # no "16 warnings" on Python 3.12: the plugin filters durable_rules' deprecation warnings
    assert "2 workers [2 items]" in distributed.stdout and "= 2 failed in " in distributed.stdout
    assert "  forbidden:          iv_foscarnet was not forbidden" in distributed.stdout


def test_a_knowledge_base_that_does_not_load_is_a_collection_error(scratch: Path) -> None:
    edit_rule(scratch / "hsv-resistance", "no-famciclovir-when-suspected", "as cross-resistance is common",
              "as cross-resistance is rare")
    result = pytest_in(scratch, "--guidekb-kb", "hsv-resistance")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "ERROR collecting hsv-resistance" in result.stdout
    assert re.search(r"^hsv-resistance/rules/prohibitions\.yaml:\d+:\d+: rule 'no-famciclovir-when-suspected'"
                     r".*quote not found verbatim", result.stdout, re.M)
    assert "Traceback" not in result.stdout and "loading.py" not in result.stdout


def test_the_ini_option_names_knowledge_bases_for_whole_suite_runs(scratch: Path, hsv_kb: KnowledgeBase) -> None:
    (scratch / "pytest.ini").write_text("[pytest]\nguidekb_kb =\n    hsv-resistance\n", encoding="utf-8")
    (scratch / "tests").mkdir()
    (scratch / "tests" / "test_own.py").write_text("def test_own():\n    pass\n", encoding="utf-8")
    collected = pytest_in(scratch / "tests", "--co", "-q")  # from a subfolder: relative to the ini
    ids = set(re.findall(r"^(\S+::\S+)$", collected.stdout, re.M))
    assert ids == expected_ids(hsv_kb) | {"tests/test_own.py::test_own"}, collected.stdout
    # A run narrowed to other files does not get them; naming the folder does.
    narrowed = pytest_in(scratch, "--co", "-q", "tests/test_own.py")
    assert set(re.findall(r"^(\S+::\S+)$", narrowed.stdout, re.M)) == {"tests/test_own.py::test_own"}
    named = pytest_in(scratch, "--co", "-q", "hsv-resistance")
    assert set(re.findall(r"^(\S+::\S+)$", named.stdout, re.M)) == expected_ids(hsv_kb)


def test_without_a_knowledge_base_the_plugin_does_nothing(scratch: Path) -> None:
    """An unrelated suite: the plugin is loaded (entry point) but adds no item, no header
    line, and imports none of the engine."""
    (scratch / "test_unrelated.py").write_text(
        "import sys\n\n"
        "def test_untouched(pytestconfig):\n"
        "    assert pytestconfig.pluginmanager.has_plugin('guidekb')\n"
        "    assert not [m for m in sys.modules if m.startswith('guidekb.engine')]\n"
        "    assert 'durable' not in sys.modules\n", encoding="utf-8")
    result = pytest_in(scratch, "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outcomes(result.stdout) == {"test_unrelated.py::test_untouched": "PASSED"}
    assert "guidekb knowledge bases" not in result.stdout


def test_this_suite_names_no_knowledge_base(pytestconfig: pytest.Config) -> None:
    """Our own run has the plugin loaded and unused: it adds nothing to this suite."""
    from guidekb.pytest_plugin import named_knowledge_bases

    assert pytestconfig.pluginmanager.has_plugin("guidekb")
    assert named_knowledge_bases(pytestconfig) == []
