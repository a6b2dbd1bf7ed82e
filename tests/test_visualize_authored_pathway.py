"""The pathway as the author states it (manifest.yaml `pathway.stages`): checked at load like
everything else (located problems with did-you-mean), honoured by every chart (stage order,
titles, question order), and the charts it gives are still equal to the engine on every path.
Without the section, the charts derive the pathway from the rule graph."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.pathway import FIRST_STAGE, question_order, stage_order, stages
from tests.test_visualize_decisions import assert_agrees
from tests.visualize_kb import write_kb

HSV = Path("knowledge/hsv-resistance")

# A pathway unlike the default knowledge base's: the culture result asked first, confirmation
# before suspicion, the dosing questions last, and a different grouping and titles.
OTHER_PATHWAY = """\
pathway:
  stages:
    - stage: lab_first
      title: Laboratory first
      conclusions: []
      questions: [susceptibility_result, on_foscarnet, renal_impairment]
    - stage: resistance_confirmed
      title: Proven resistance
    - stage: suspicion
      title: Clinical suspicion
      conclusions: [treatment_failure, high_risk_for_resistance, resistance_suspected]
      questions: [immune_status, lesion_course, days_on_therapy, current_antiviral]
    - stage: dosing_check_needed
      title: Dosing
      questions: [adherent, dose_adequate]
"""


def _with_pathway(tmp_path: Path, pathway: str | None) -> Path:
    """A copy of the default knowledge base whose manifest states `pathway` (None: none)."""
    root = tmp_path / "kb"
    shutil.copytree(HSV, root)
    manifest = root / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    cut = text.find("\npathway:")
    if cut >= 0:
        text = text[: cut + 1]
    manifest.write_text(text + (pathway or ""), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def other_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(_with_pathway(tmp_path_factory.mktemp("other"), OTHER_PATHWAY))


def test_the_default_knowledge_base_states_its_pathway(hsv_kb: KnowledgeBase) -> None:
    assert hsv_kb.manifest.pathway is not None
    titles = [s.title for s in stages(hsv_kb)]
    assert titles[:3] == ["The patient and the lesion", "Treatment failure", "Dose and adherence first"]
    assert "Treating resistant HSV" in titles  # a title in words, not "Resistant hsv treatment ..."
    order = question_order(hsv_kb)
    assert order.index("lesion_course") < order.index("dose_adequate") < order.index("susceptibility_result")


def test_the_charts_follow_another_authored_order(other_kb: KnowledgeBase) -> None:
    names = [s.name for s in stages(other_kb)]
    assert names[:4] == ["lab_first", "resistance_confirmed", "suspicion", "dosing_check_needed"]
    # conclusions the author left out follow, one stage each, in the rule graph's order
    assert names[4:] == ["resistant_hsv_treatment_indicated", "foscarnet_indicated"]
    order = question_order(other_kb)
    assert order[:3] == ["susceptibility_result", "on_foscarnet", "renal_impairment"]
    assert order.index("immune_status") < order.index("lesion_course") < order.index("adherent") \
        < order.index("dose_adequate")
    book = chart_book(other_kb)
    positions = [names.index(c.stage) for c in book.charts]
    assert positions == sorted(positions)
    assert all(c.title.split(": ")[0] in {s.title for s in stages(other_kb)} for c in book.charts)
    every = [*stage_order(other_kb), *order]  # milestones (earlier stages' conclusions) first
    for k, one in enumerate(book.charts):
        for steps, _ in one.diagram.paths():
            asked = [every.index(s.question.fact) for s in steps]
            keys = [s.question.key for s in steps]
            assert asked == sorted(asked), f"chart {k + 1} leaves the authored order: {keys}"
            assert len(keys) == len(set(keys)), f"chart {k + 1} asks twice: {keys}"


def test_every_chart_of_the_other_pathway_agrees_with_the_engine(other_kb: KnowledgeBase) -> None:
    """The path-walking proof, over charts drawn in an order the author chose."""
    book = chart_book(other_kb)
    assert len(book.charts) > 3
    for one in book.charts:
        assert assert_agrees(one.diagram, cap=2) > 0


def test_without_the_section_the_pathway_comes_from_the_rule_graph(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "toy"))
    assert kb.manifest.pathway is None
    assert [s.name for s in stages(kb)] == [FIRST_STAGE, "drug_a_indicated", "escalate"]
    assert stages(kb)[2].after == ("drug_a_indicated",)


def _problems(tmp_path: Path, pathway: str) -> list[tuple[str, int, str, str]]:
    root = _with_pathway(tmp_path, pathway)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    return [(Path(p.file).name, p.line, p.code.id, f"{p.message} | {p.hint}") for p in caught.value.problems()]


def test_a_misspelt_stage_or_question_is_a_located_problem_with_a_suggestion(tmp_path: Path) -> None:
    found = _problems(tmp_path, """\
pathway:
  stages:
    - stage: resistance_suspectd
      questions: [lesion_cours]
    - stage: treat
      conclusions: [foscarnet_indicatd]
""")
    base = HSV.joinpath("manifest.yaml").read_text(encoding="utf-8")
    first_line = base[: base.find("\npathway:") + 1].count("\n") + 1  # the line of "pathway:"
    assert [(f, line, code) for f, line, code, _ in found] == [
        ("manifest.yaml", first_line + 2, "GKB212"),
        ("manifest.yaml", first_line + 3, "GKB201"),
        ("manifest.yaml", first_line + 5, "GKB212")]
    assert "did you mean 'resistance_suspected'?" in found[0][3]
    assert "did you mean 'lesion_course'?" in found[1][3]
    assert "did you mean 'foscarnet_indicated'?" in found[2][3]


def test_a_conclusion_or_question_in_two_stages_is_a_problem(tmp_path: Path) -> None:
    found = _problems(tmp_path, """\
pathway:
  stages:
    - stage: a
      conclusions: []
      questions: [lesion_course]
    - stage: b
      conclusions: []
    - stage: treatment_failure
      questions: [lesion_course]
    - stage: c
      conclusions: [treatment_failure]
    - stage: c
      conclusions: [resistance_confirmed]
""")
    assert [code for _, _, code, _ in found] == ["GKB213"] * 4
    text = " ".join(message for *_, message in found)
    assert "second stage before any conclusion" in text and "already in stage 'treatment_failure'" in text
    assert "question 'lesion_course' is asked in two pathway stages" in text
    assert "two pathway stages are named 'c'" in text


def test_a_pathway_key_misspelt_is_an_unknown_key(tmp_path: Path) -> None:
    found = _problems(tmp_path, "pathway:\n  stages:\n    - stage: treatment_failure\n      question: [x]\n")
    assert [(code, "did you mean 'questions'?" in message) for _, _, code, message in found] == [
        ("GKB101", True)]
