"""`guidekb check`: invariants proved for every case, or refuted with a counterexample that the
real engine confirms and that is a valid scenario file which fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.counterexamples import Counterexample
from guidekb.engine.qa.invariants import load_invariants
from guidekb.engine.qa.proof import ProofResult, Prover, prove
from guidekb.engine.qa.scenarios import load_scenario, run_scenario
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB, knowledge_base_dirs
from tests.kbedit import drop_rule, edit_rule
from tests.minikb import RULES, write_mini_kb
from tests.symkb import PROVENANCE

runner = CliRunner()

# Invariants of the mini knowledge base (tests/minikb.py): which hold and which do not.
INVARIANTS = f"""\
invariants:
  - id: no-foscarnet-when-immunocompetent
    rationale: holds, since suspicion needs immunocompromise
    never_recommend:
      code: iv_foscarnet
      when:
        fact: immune_status
        equals: immunocompetent
{PROVENANCE}
  - id: never-topical-acyclovir
    rationale: holds, by a rule that always fires
    always_forbid:
      code: topical_acyclovir
      when:
        always: true
{PROVENANCE}
  - id: foscarnet-requires-monitoring
    rationale: fails, monitoring is only for patients already on foscarnet
    requires:
      code: iv_foscarnet
      also: monitor_renal_function
{PROVENANCE}
  - id: not-foscarnet-and-consult
    rationale: fails, both come with suspicion
    never_both:
      codes: [iv_foscarnet, id_consult]
{PROVENANCE}
  - id: foscarnet-status-monotone
    rationale: holds, no prohibition depends on it
    monotone:
      fact: on_foscarnet
{PROVENANCE}
  - id: no-clash
    rationale: holds
    no_recommendation_forbidden: true
  - id: provenance
    rationale: holds
    recommendations_have_provenance: true
"""

HOLDS = {"no-foscarnet-when-immunocompetent", "never-topical-acyclovir", "foscarnet-status-monotone",
         "no-clash", "provenance"}

# Rules that break the invariants that hold: a clash, and a prohibition lifted by learning.
BREAKING_RULES = f"""
  - id: topical-acyclovir-on-foscarnet
    title: recommends a code another rule always forbids
    when:
      fact: on_foscarnet
      equals: true
    then:
      recommend: [topical_acyclovir]
{PROVENANCE}
  - id: consult-unless-foscarnet-known
    title: a prohibition that disappears once on_foscarnet is learnt
    when:
      unknown: on_foscarnet
    then:
      forbid:
        - code: id_consult
          reason: test
{PROVENANCE}"""


def _mini(root: Path, extra_rules: str = "") -> KnowledgeBase:
    write_mini_kb(root)
    (root / "invariants.yaml").write_text(INVARIANTS, encoding="utf-8")
    if extra_rules:
        (root / "rules" / "main.yaml").write_text(RULES + extra_rules, encoding="utf-8")
    return load_knowledge_base(root)


def _prove_all(kb: KnowledgeBase) -> dict[str, ProofResult]:
    prover = Prover(kb)
    return {inv.id: prove(kb, inv, prover) for inv in load_invariants(kb)}


def _assert_failing_scenario(kb: KnowledgeBase, found: Counterexample, tmp_path: Path) -> None:
    """The printed scenario loads as a scenario file and fails on the knowledge base."""
    path = kb.root / "scenarios" / f"counterexample-{tmp_path.name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(found.scenario_yaml(), encoding="utf-8")
    result = run_scenario(Engine.for_kb(kb), load_scenario(path, kb))
    assert not result.passed, found.scenario_yaml()
    path.unlink()


@pytest.mark.parametrize("kb_dir", knowledge_base_dirs(), ids=lambda p: p.name)
def test_shipped_invariants_are_all_proved(kb_dir: Path) -> None:
    results = _prove_all(load_knowledge_base(kb_dir))
    failed = {i: r.counterexample.scenario_yaml() if r.counterexample else r.status
              for i, r in results.items() if r.status != "proved"}
    assert not failed


def test_mini_kb_proofs_and_refutations(tmp_path: Path) -> None:
    kb = _mini(tmp_path)
    results = _prove_all(kb)
    assert {i for i, r in results.items() if r.status == "proved"} == HOLDS
    for inv_id in ("foscarnet-requires-monitoring", "not-foscarnet-and-consult"):
        result = results[inv_id]
        assert result.status == "refuted"
        found = result.counterexample
        assert found is not None and found.confirmed
        # minimised: failing needs a lesion course and 10+ days, suspicion immunocompromise
        assert set(found.case) == {"lesion_course", "days_on_therapy", "immune_status"}
        _assert_failing_scenario(kb, found, tmp_path)


def test_seeded_violations_of_clash_and_monotonicity_are_refuted(tmp_path: Path) -> None:
    kb = _mini(tmp_path, BREAKING_RULES)
    results = _prove_all(kb)
    clash = results["no-clash"]
    assert clash.status == "refuted" and clash.counterexample is not None
    assert clash.counterexample.case == {"on_foscarnet": True}
    monotone = results["foscarnet-status-monotone"]
    assert monotone.status == "refuted" and monotone.counterexample is not None
    assert "on_foscarnet" in monotone.counterexample.case
    assert "id_consult" in (monotone.counterexample.problem or "")
    for result in (clash, monotone):
        assert result.counterexample is not None
        _assert_failing_scenario(kb, result.counterexample, tmp_path)


def test_disagreement_with_the_engine_is_never_a_refutation(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """If the replay does not confirm the solver's case, the result says so (a bug)."""
    kb = _mini(tmp_path)
    monkeypatch.setattr("guidekb.engine.qa.counterexamples.check_case", lambda inv, case, evaluate: None)
    inv = next(i for i in load_invariants(kb) if i.id == "foscarnet-requires-monitoring")
    assert prove(kb, inv).status == "unconfirmed"


def test_cli_prove_refutes_with_pasteable_scenario(tmp_path: Path) -> None:
    kb = _mini(tmp_path)
    result = runner.invoke(app, ["check", str(kb.root), "--prove"])
    assert result.exit_code == 1, result.output
    assert "REFUTED     foscarnet-requires-monitoring" in result.output
    assert "PROVED      no-clash" in result.output
    assert "5 proved, 2 refuted" in result.output
    assert "expect:\n      recommended:\n      - monitor_renal_function" in result.output


def test_default_kb_states_invariants(hsv_kb: KnowledgeBase) -> None:
    assert load_invariants(hsv_kb)


def test_cli_prove_default_kb() -> None:
    result = runner.invoke(app, ["check", str(HSV_KB), "--prove"])
    assert "solver calls" in result.output and "cross-checked" in result.output
    assert result.exit_code == 0, result.output


def test_cli_sampled_check_finds_the_violation(tmp_path: Path) -> None:
    kb = _mini(tmp_path)
    result = runner.invoke(app, ["check", str(kb.root), "--samples", "300"])
    assert result.exit_code == 1, result.output
    assert "FAILED foscarnet-requires-monitoring" in result.output
    assert "A sample is not a proof" in result.output


def test_cli_without_invariants(tmp_path: Path) -> None:
    write_mini_kb(tmp_path)
    result = runner.invoke(app, ["check", str(tmp_path), "--prove"])
    assert result.exit_code == 0 and "no invariants" in result.output


def test_cli_exits_2_on_invariant_errors(tmp_path: Path) -> None:
    write_mini_kb(tmp_path)
    (tmp_path / "invariants.yaml").write_text("invariants:\n  - id: x\n    rationale: r\n"
                                              "    requires: {code: nope, also: id_consult}\n"
                                              + PROVENANCE)
    done = subprocess.run([sys.executable, "-m", "guidekb", "check", str(tmp_path), "--prove"],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 2
    assert "invariants.yaml:4:" in done.stderr and "unknown code 'nope'" in done.stderr


# --- seeded mutations of the default knowledge base --------------------------------------------


def _mutate(root: Path, rule_id: str, old: str | None, new: str = "") -> None:
    """Replace `old` by `new` inside one rule of a copied knowledge base (drop the rule when
    `old` is None)."""
    if old is None:
        drop_rule(root, rule_id)
    else:
        edit_rule(root, rule_id, old, new)


@pytest.mark.parametrize(("rule_id", "old", "new", "inv_id"), [
    ("no-famciclovir-when-suspected", None, "", "no-famciclovir-when-resistance-suspected"),
    ("treatment-failure-no-resolution", "ge: 10\n", "ge: 100\n", "no-famciclovir-when-resistance-suspected"),
    ("foscarnet-renal-monitoring", None, "", "foscarnet-requires-renal-monitoring"),
], ids=["drop-famciclovir-prohibition", "raise-failure-threshold", "drop-renal-monitoring"])
def test_exhaustive_check_catches_seeded_mutations(tmp_path: Path, hsv_kb: KnowledgeBase, rule_id: str,
                                                   old: str | None, new: str, inv_id: str) -> None:
    root = tmp_path / "hsv-resistance"
    shutil.copytree(HSV_KB, root)
    _mutate(root, rule_id, old, new)
    kb = load_knowledge_base(root)
    result = _prove_all(kb)[inv_id]
    assert result.status == "refuted"
    found = result.counterexample
    assert found is not None and found.confirmed
    _assert_failing_scenario(kb, found, tmp_path)
    # ...and the same scenario passes on the real knowledge base: a regression test for the fix.
    path = tmp_path / "counterexample.yaml"
    path.write_text(found.scenario_yaml(), encoding="utf-8")
    assert run_scenario(Engine.for_kb(hsv_kb), load_scenario(path, hsv_kb)).passed
