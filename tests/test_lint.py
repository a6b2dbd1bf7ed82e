"""`guidekb lint`: each finding kind on a small knowledge base written to trigger it, and
acknowledgements in lint.yaml (validated, located, and reported when stale)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.lint import KINDS, lint
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import knowledge_base_dirs
from tests.minikb import edit, write_mini_kb
from tests.symkb import PROVENANCE, rule

runner = CliRunner()

LINTED_RULES = "".join([
    rule("contradictory", """\
      all:
        - fact: days_on_therapy
          lt: 5
        - fact: days_on_therapy
          gt: 10
""", "      recommend: [id_consult]\n"),
    rule("needs-ghost", """\
      fact: ghost
      equals: true
""", "      recommend: [iv_foscarnet]\n"),
    rule("renal-monitoring-again", """\
      all:
        - fact: on_foscarnet
          equals: true
        - fact: immune_status
          equals: immunocompromised
""", "      recommend: [monitor_renal_function]\n"),
    rule("topical-on-foscarnet", """\
      fact: on_foscarnet
      equals: true
""", "      recommend: [topical_acyclovir]\n"),
])

INVARIANTS = f"""\
invariants:
  - id: impossible-premise
    rationale: its condition is contradictory
    never_recommend:
      code: iv_foscarnet
      when:
        all:
          - fact: immune_status
            equals: immunocompetent
          - fact: immune_status
            equals: immunocompromised
{PROVENANCE}
  - id: requires-unused
    rationale: the code it is about is never recommended
    requires:
      code: unused_code
      also: id_consult
{PROVENANCE}
  - id: lesion-course-monotone
    rationale: no prohibition depends on the lesion course
    monotone:
      fact: lesion_course
{PROVENANCE}
  - id: foscarnet-with-consult
    rationale: not vacuous
    requires:
      code: iv_foscarnet
      also: id_consult
{PROVENANCE}
  - id: foscarnet-or-consult
    rationale: not vacuous (and violated, which is not lint's business)
    never_both:
      codes: [iv_foscarnet, id_consult]
{PROVENANCE}
  - id: always-topical
    rationale: not vacuous
    always_forbid:
      code: topical_acyclovir
      when:
        always: true
{PROVENANCE}"""

EXPECTED = {
    "never-fires:contradictory",
    "never-fires:needs-ghost",
    "redundant-rule:renal-monitoring-again",
    "recommend-forbid-overlap:topical_acyclovir:topical-on-foscarnet:no-topical-acyclovir",
    "unread-fact:causes",
    "underived-fact:ghost",
    "unproduced-code:unused_code",
    "vacuous-invariant:impossible-premise",
    "vacuous-invariant:requires-unused",
    "vacuous-invariant:lesion-course-monotone",
}


def _linted_kb(root: Path) -> Path:
    write_mini_kb(root)
    edit(root / "facts.yaml", "  suspected:\n", "  ghost:\n    type: boolean\n    derived: true\n"
         "    description: Never derived.\n  suspected:\n")
    edit(root / "outcomes.yaml", "outcomes:\n", "outcomes:\n  unused_code:\n    text: Nothing.\n")
    with (root / "rules" / "main.yaml").open("a", encoding="utf-8") as f:
        f.write("\n" + LINTED_RULES)
    (root / "invariants.yaml").write_text(INVARIANTS, encoding="utf-8")
    return root


@pytest.fixture
def linted(tmp_path: Path) -> Path:
    return _linted_kb(tmp_path / "kb")


def test_every_finding_kind(linted: Path) -> None:
    report = lint(load_knowledge_base(linted))
    assert {f.id for f in report.findings} == EXPECTED
    assert {f.kind for f in report.findings} == set(KINDS) - {"stale-acknowledgement"}
    assert report.solver_calls > 0


def test_findings_are_located_and_name_their_rules(linted: Path) -> None:
    kb = load_knowledge_base(linted)
    found = {f.id: f for f in lint(kb).findings}
    never = found["never-fires:contradictory"]
    assert never.location == kb.rule_locations["contradictory"] and never.rules == ["contradictory"]
    assert "ghost" in found["never-fires:needs-ghost"].message
    redundant = found["redundant-rule:renal-monitoring-again"]
    assert redundant.rules == ["renal-monitoring-again", "renal-monitoring"]
    assert found["unread-fact:causes"].location == kb.fact_locations["causes"]
    assert found["unproduced-code:unused_code"].location == kb.outcome_locations["unused_code"]
    vacuous = found["vacuous-invariant:impossible-premise"]
    assert vacuous.location.file.endswith("invariants.yaml") and vacuous.location.line == 2
    rendered = never.render()
    assert rendered.startswith(f"{never.location.file}:{never.location.line}:")


def test_overlap_example_is_replayed_by_the_engine(linted: Path) -> None:
    kb = load_knowledge_base(linted)
    overlap = next(f for f in lint(kb).findings if f.kind == "recommend-forbid-overlap")
    assert overlap.example == {"on_foscarnet": True}
    answer = Engine.for_kb(kb).evaluate(overlap.example)
    assert [c.code for c in answer.conflicts] == ["topical_acyclovir"]
    assert "disagree" not in overlap.hint


def test_identical_rules_report_only_the_later_one(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path / "kb")
    with (root / "rules" / "main.yaml").open("a", encoding="utf-8") as f:
        f.write("\n" + rule("renal-monitoring-copy", "      fact: on_foscarnet\n      equals: true\n",
                            "      recommend: [monitor_renal_function]\n"))
    ids = {f.id for f in lint(load_knowledge_base(root)).findings}
    assert "redundant-rule:renal-monitoring-copy" in ids
    assert "redundant-rule:renal-monitoring" not in ids


def test_acknowledgements_and_stale_ones(linted: Path) -> None:
    (linted / "lint.yaml").write_text(
        "acknowledgements:\n"
        "  - finding: unread-fact:causes\n"
        "    reason: kept for the flowchart\n"
        "  - finding: unread-fact:no_such_fact\n"
        "    reason: excuses nothing\n", encoding="utf-8")
    report = lint(load_knowledge_base(linted))
    found = {f.id: f for f in report.findings}
    assert found["unread-fact:causes"].acknowledged == "kept for the flowchart"
    stale = found["stale-acknowledgement:unread-fact:no_such_fact"]
    assert stale.acknowledged is None and stale.location.line == 4
    assert stale.location.file.endswith("lint.yaml")
    assert len(report.unacknowledged) == len(EXPECTED)  # causes acknowledged, stale added


@pytest.mark.parametrize(("text", "line", "message"), [
    ("acknowledgements:\n  - finding: unread-fact:causes\n", 2, "missing required key 'reason'"),
    ("acknowledgements:\n  - finding: unred-fact:causes\n    reason: r\n", 2, "did you mean 'unread-fact'"),
    ("acknowledgements:\n  - finding: unread-fact:causes\n    reason: r\n"
     "  - finding: unread-fact:causes\n    reason: r\n", 4, "acknowledged twice"),
    ("acknowledgements:\n  - finding: unread-fact:causes\n    reason: r\n    why: x\n", 4,
     "unknown key 'why'"),
    ("- just a list\n", 1, "expected a mapping"),
])
def test_lint_yaml_errors_are_located(linted: Path, text: str, line: int, message: str) -> None:
    (linted / "lint.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        lint(load_knowledge_base(linted))
    problem = caught.value.problems[0]
    assert problem.file.endswith("lint.yaml") and problem.line == line
    assert message in problem.render()


def test_cli_exit_codes(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path / "kb")
    result = runner.invoke(app, ["lint", str(root)])
    assert result.exit_code == 1
    assert "facts.yaml:19:3: unread-fact:causes:" in result.output
    assert "1 finding, 0 acknowledged" in result.output
    (root / "lint.yaml").write_text("acknowledgements:\n  - finding: unread-fact:causes\n"
                                    "    reason: kept for the flowchart\n", encoding="utf-8")
    result = runner.invoke(app, ["lint", str(root)])
    assert result.exit_code == 0, result.output
    assert "0 findings, 1 acknowledged" in result.output
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "guidekb", "lint", str(root), "--show-acknowledged"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "acknowledged: kept for the flowchart" in done.stdout
    (root / "lint.yaml").write_text("acknowledgements: [{finding: unread-fact:causes}]\n")
    done = subprocess.run([sys.executable, "-m", "guidekb", "lint", str(root)], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 2 and "lint.yaml:1:" in done.stderr


@pytest.mark.parametrize("kb_dir", knowledge_base_dirs(), ids=lambda p: p.name)
def test_shipped_knowledge_bases_are_lint_clean(kb_dir: Path) -> None:
    """Every finding of a shipped knowledge base is fixed or acknowledged with a reason."""
    report = lint(load_knowledge_base(kb_dir))
    assert [f.render() for f in report.unacknowledged] == []
