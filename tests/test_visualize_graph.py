"""The knowledge graph and its author queries, checked against the KB computed by hand."""

from __future__ import annotations

from pathlib import Path

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.visualize.export import drawing
from guidekb.visualize.graph import (
    PROHIBITION,
    RECOMMENDATION,
    RULE,
    knowledge_graph,
    leading_to,
    never_firing_rules,
    nodes_of_kind,
    unread_facts,
)
from tests.visualize_kb import write_kb


def rules_and_facts_leading_to(kb: KnowledgeBase, code: str) -> tuple[set[str], set[str]]:
    """Independently of the graph: rules acting on the code, then the rules deriving every
    conclusion those rules read, to a fixpoint; and every fact (or conclusion) they read.
    A conclusion these rules draw but do not read does not lead to the code."""
    rules = {r.id for r in kb.rules if code in r.then.recommend or code in (p.code for p in r.then.forbid)}
    while True:
        needed = {f for r in rules for f in facts_read(kb.rule(r).when) if f in kb.derived_facts}
        more = {r.id for r in kb.rules if set(r.then.derive) & needed} - rules
        if not more:
            break
        rules |= more
    facts = {f for r in rules for f in facts_read(kb.rule(r).when)}
    return rules, facts


def test_focus_iv_foscarnet_is_exactly_what_can_lead_there(hsv_kb: KnowledgeBase) -> None:
    sub = leading_to(knowledge_graph(hsv_kb), hsv_kb, "iv_foscarnet")
    rules, facts = rules_and_facts_leading_to(hsv_kb, "iv_foscarnet")
    assert {sub.nodes[n]["name"] for n in nodes_of_kind(sub, RULE)} == rules
    fact_nodes = {sub.nodes[n]["name"] for n in sub if sub.nodes[n]["kind"] in ("fact", "derived")}
    assert fact_nodes == facts
    assert set(nodes_of_kind(sub, RECOMMENDATION)) == {"recommend:iv_foscarnet"}
    assert "rule:foscarnet-for-resistant-hsv" in sub


def test_rule_view_focus_draws_exactly_those_nodes(hsv_kb: KnowledgeBase) -> None:
    source = drawing(hsv_kb, "rules", "iv_foscarnet").source
    rules, facts = rules_and_facts_leading_to(hsv_kb, "iv_foscarnet")
    drawn_rules = {r.id for r in hsv_kb.rules if f"rule__{r.id}" in source.replace('"', " ").split()}
    assert drawn_rules == rules
    drawn_facts = {f for f in hsv_kb.facts if f"fact__{f}" in source or f"derived__{f}" in source}
    assert drawn_facts == facts


def test_graph_types_nodes_and_edges(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    graph = knowledge_graph(kb)
    assert graph.edges["fact:score", "rule:a-when-high-score"]["kind"] == "reads"
    assert graph.edges["rule:a-when-high-score", "derived:drug_a_indicated"]["kind"] == "derives"
    assert graph.edges["rule:a-when-high-score", "recommend:drug_a"]["kind"] == "recommends"
    assert graph.edges["rule:no-b-when-escalating", "forbid:drug_b"]["kind"] == "forbids"
    assert graph.nodes["forbid:drug_b"]["kind"] == PROHIBITION
    assert graph.nodes["rule:never-z"]["provenance"][0].quote == "Never use drug Z."


def test_author_queries(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    graph = knowledge_graph(kb)
    assert unread_facts(graph) == ["unused"]
    assert never_firing_rules(kb) == ["impossible"]
    rules, _ = rules_and_facts_leading_to(kb, "drug_b")
    sub = leading_to(graph, kb, "drug_b")
    assert {sub.nodes[n]["name"] for n in nodes_of_kind(sub, RULE)} == rules == {
        "b-for-adults", "no-b-when-escalating", "escalate-frail", "a-when-high-score"}


def test_the_rule_view_flags_dead_rules_and_unread_facts(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    source = drawing(kb, "rules").source
    assert source.count("can never fire") == 1 and "Contradiction (can never fire)" in source
    assert source.count("read by no rule") == 1 and "unused (read by no rule)" in source


def test_the_default_kb_has_no_dead_rules_or_facts(hsv_kb: KnowledgeBase) -> None:
    assert never_firing_rules(hsv_kb) == []


def test_engine_never_imports_visualize() -> None:
    from tests.conftest import ROOT

    for path in (ROOT / "engine").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import visualize" not in text and "from visualize" not in text, path.name
