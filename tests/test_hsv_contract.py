"""The HSV knowledge base against its public contract (shared/hsv-contract.md).

The contract fixes fact names, domains and codes; what the sources allow to be forbidden is
fixed too: famciclovir once resistance is suspected or confirmed, valacyclovir and acyclovir
only once it is confirmed, topical acyclovir always. Every test here runs the real engine.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from guidekb.engine.format.cases import load_case, validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.scenarios import run_scenarios
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB

CONTRACT_FACTS: dict[str, tuple[str, list[str] | None]] = {
    "immune_status": ("enum", ["immunocompetent", "immunocompromised"]),
    "immunocompromise_causes": ("enum_list", ["hiv", "advanced_hiv_aids", "bone_marrow_transplant",
                                              "solid_organ_transplant", "chemotherapy", "other"]),
    "hsv_site": ("enum", ["orolabial", "genital", "other_mucocutaneous"]),
    "presentation": ("enum", ["non_healing_lesion", "frequent_recurrences"]),
    "recurrences_per_year": ("integer", None),
    "current_antiviral": ("enum", ["valacyclovir", "acyclovir", "famciclovir", "none"]),
    "regimen": ("enum", ["episodic", "continuous", "suppressive"]),
    "days_on_therapy": ("integer", None),
    "lesion_course": ("enum", ["resolving", "persistent", "progressive"]),
    "dose_adequate": ("boolean", None),
    "adherent": ("boolean", None),
    "lesions_atypical": ("boolean", None),
    "prolonged_antiviral_exposure": ("boolean", None),
    "susceptibility_result": ("enum", ["not_sent", "pending", "susceptible", "acyclovir_resistant"]),
    "external_mucocutaneous": ("boolean", None),
    "on_foscarnet": ("boolean", None),
    "renal_impairment": ("boolean", None),
}
CONTRACT_CODES = [
    "suspect_resistance", "obtain_culture_susceptibility", "iv_foscarnet", "topical_cidofovir",
    "topical_trifluridine", "topical_imiquimod", "id_consult", "verify_dosing_adherence",
    "consider_alternative_diagnosis", "episodic_valacyclovir_2g_bid_1day",
    "suppressive_valacyclovir_500mg_daily", "suppressive_valacyclovir_1g_daily",
    "monitor_renal_function", "adjust_foscarnet_for_renal_function", "ensure_hydration",
    "stop_ineffective_oral_antiviral",
]
CONTRACT_FORBIDDEN = ["famciclovir", "valacyclovir", "acyclovir", "topical_acyclovir"]

# Suspected (not confirmed) resistance: adequate, adherent valacyclovir failing at day 12.
SUSPECTED: dict[str, Any] = {
    "immune_status": "immunocompromised", "current_antiviral": "valacyclovir", "days_on_therapy": 12,
    "lesion_course": "progressive", "dose_adequate": True, "adherent": True,
}


def answer(kb: KnowledgeBase, engine: Engine, facts: dict[str, Any]) -> Answer:
    return engine.evaluate(validate_case(facts, kb))


def test_contract_facts_are_declared_with_their_domains(hsv_kb: KnowledgeBase) -> None:
    for name, (kind, values) in CONTRACT_FACTS.items():
        spec = hsv_kb.case_facts[name]
        assert spec.type == kind, name
        if values is not None:
            assert spec.values == values, name
    assert (hsv_kb.facts["recurrences_per_year"].min, hsv_kb.facts["recurrences_per_year"].max) == (0, 365)
    assert (hsv_kb.facts["days_on_therapy"].min, hsv_kb.facts["days_on_therapy"].max) == (0, 3650)


def test_contract_codes_are_declared(hsv_kb: KnowledgeBase) -> None:
    assert set(CONTRACT_CODES + CONTRACT_FORBIDDEN) <= set(hsv_kb.outcomes)


def test_every_contract_code_is_recommended_in_some_scenario(hsv_kb: KnowledgeBase) -> None:
    recommended = {code for r in run_scenarios(hsv_kb) for code in r.answer.recommended_codes()}
    assert [c for c in CONTRACT_CODES if c not in recommended] == []


def test_every_contract_forbidden_code_is_forbidden_by_a_rule_with_provenance(hsv_kb: KnowledgeBase) -> None:
    for code in CONTRACT_FORBIDDEN:
        rules = [r for r in hsv_kb.rules if code in {p.code for p in r.then.forbid}]
        assert rules, f"no rule forbids {code}"
        assert all(r.provenance for r in rules)


def test_every_contract_forbidden_code_is_forbidden_in_some_scenario(hsv_kb: KnowledgeBase) -> None:
    forbidden = {code for r in run_scenarios(hsv_kb) for code in r.answer.forbidden_codes()}
    assert set(CONTRACT_FORBIDDEN) <= forbidden


def test_suspicion_forbids_famciclovir_only(hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    result = answer(hsv_kb, hsv_engine, SUSPECTED)
    assert "resistance_suspected" in result.derived_facts()
    assert "famciclovir" in result.forbidden_codes()
    assert "valacyclovir" not in result.forbidden_codes()
    assert "acyclovir" not in result.forbidden_codes()


@pytest.mark.parametrize("result", ["not_sent", "pending", "susceptible"])
def test_valacyclovir_and_acyclovir_stay_allowed_without_a_resistant_culture(
        hsv_kb: KnowledgeBase, hsv_engine: Engine, result: str) -> None:
    forbidden = answer(hsv_kb, hsv_engine, {**SUSPECTED, "susceptibility_result": result}).forbidden_codes()
    assert "famciclovir" in forbidden
    assert {"valacyclovir", "acyclovir"}.isdisjoint(forbidden)


def test_confirmed_resistance_forbids_the_whole_family(hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    result = answer(hsv_kb, hsv_engine, {**SUSPECTED, "susceptibility_result": "acyclovir_resistant"})
    assert {"valacyclovir", "acyclovir", "famciclovir"} <= set(result.forbidden_codes())
    assert "iv_foscarnet" in result.recommended_codes()
    assert list(result.conflicts) == []


def test_topical_acyclovir_is_forbidden_even_for_an_empty_case(hsv_kb: KnowledgeBase,
                                                               hsv_engine: Engine) -> None:
    assert answer(hsv_kb, hsv_engine, {}).forbidden_codes() == ["topical_acyclovir"]


def test_prohibitions_carry_reason_and_verified_provenance(hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    result = answer(hsv_kb, hsv_engine, {**SUSPECTED, "susceptibility_result": "acyclovir_resistant"})
    for prohibition in result.prohibitions:
        assert prohibition.reason
        assert prohibition.provenance
        for passage in prohibition.provenance:
            assert passage.source in hsv_kb.sources


def test_the_contract_case_holds_exactly_the_contract_facts(hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    path = HSV_KB / "cases" / "contract-all-facts.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(raw) == set(CONTRACT_FACTS)
    result = hsv_engine.evaluate(load_case(path, hsv_kb))
    assert {"iv_foscarnet", "monitor_renal_function", "adjust_foscarnet_for_renal_function",
            "ensure_hydration", "id_consult"} <= set(result.recommended_codes())
    assert "famciclovir" in result.forbidden_codes()


@pytest.mark.parametrize("path", sorted((HSV_KB / "cases").glob("*.yaml")), ids=lambda p: p.stem)
def test_example_cases_validate_and_give_an_answer(path: Any, hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    result = hsv_engine.evaluate(load_case(path, hsv_kb))
    assert result.recommendations, f"{path.name} recommends nothing: not a useful example"
