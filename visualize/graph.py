"""The knowledge graph: what each rule reads, derives, recommends and forbids.

A networkx DiGraph with typed nodes, for authors: which rules and facts can lead to a code
(`--focus CODE`), which rules can never fire, which facts no rule reads. Node ids are
``fact:<name>``, ``derived:<name>``, ``rule:<id>``, ``recommend:<code>`` and
``forbid:<code>``; every node has a ``kind`` attribute and every edge a ``kind`` ("reads",
"derives", "recommends", "forbids"). Rule nodes carry the rule's title and provenance.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize.errors import UnknownCode
from guidekb.visualize.formulas import Assignment, FiringFormulas, satisfiable
from guidekb.visualize.questions import vocabulary

FACT, DERIVED, RULE, RECOMMENDATION, PROHIBITION = "fact", "derived", "rule", "recommendation", "prohibition"


def fact_node(kb: KnowledgeBase, name: str) -> str:
    return f"derived:{name}" if name in kb.derived_facts else f"fact:{name}"


def rule_node(rule_id: str) -> str:
    return f"rule:{rule_id}"


def knowledge_graph(kb: KnowledgeBase) -> nx.DiGraph:
    """Facts, rules, conclusions, recommendations and prohibitions, and how they connect."""
    graph = nx.DiGraph(title=kb.manifest.title, version=kb.version)
    for name, spec in kb.facts.items():
        graph.add_node(fact_node(kb, name), kind=DERIVED if spec.derived else FACT, name=name,
                       text=spec.question or spec.description, spec=spec)
    for rule in kb.rules:
        node = rule_node(rule.id)
        graph.add_node(node, kind=RULE, name=rule.id, text=rule.title, rule=rule,
                       provenance=list(rule.provenance), location=kb.rule_locations.get(rule.id))
        for name in sorted(facts_read(rule.when)):
            graph.add_edge(fact_node(kb, name), node, kind="reads")
        for name in rule.then.derive:
            graph.add_edge(node, fact_node(kb, name), kind="derives")
        for code in rule.then.recommend:
            target = f"recommend:{code}"
            graph.add_node(target, kind=RECOMMENDATION, name=code, text=kb.outcomes[code].text)
            graph.add_edge(node, target, kind="recommends")
        for prohibition in rule.then.forbid:
            target = f"forbid:{prohibition.code}"
            graph.add_node(target, kind=PROHIBITION, name=prohibition.code,
                           text=kb.outcomes[prohibition.code].text)
            graph.add_edge(node, target, kind="forbids", reason=prohibition.reason)
    return graph


def leading_to(graph: nx.DiGraph, kb: KnowledgeBase, code: str) -> nx.DiGraph:
    """The subgraph of everything that can lead to `code` being recommended or forbidden."""
    if code not in kb.outcomes:
        raise UnknownCode(code, kb)
    targets = [n for n in (f"recommend:{code}", f"forbid:{code}") if n in graph]
    keep: set[str] = set(targets)
    for target in targets:
        keep |= nx.ancestors(graph, target)
    return graph.subgraph(keep).copy()


def nodes_of_kind(graph: nx.DiGraph, kind: str) -> list[str]:
    return [n for n, data in graph.nodes(data=True) if data["kind"] == kind]


def unread_facts(graph: nx.DiGraph) -> list[str]:
    """Facts (case facts and conclusions) that no rule reads: asked or derived for nothing."""
    return [graph.nodes[n]["name"] for n in graph if graph.nodes[n]["kind"] in (FACT, DERIVED)
            and not any(d["kind"] == "reads" for _, _, d in graph.out_edges(n, data=True))]


def never_firing_rules(kb: KnowledgeBase) -> list[str]:
    """Rules no case can make fire (contradictory conditions, or conclusions never drawn)."""
    formulas = FiringFormulas(kb, vocabulary(kb))
    start = Assignment(formulas.vocabulary)
    return [rule.id for rule in kb.rules if not satisfiable(formulas.fires(rule.id), start)]


def node_data(graph: nx.DiGraph, node: str) -> dict[str, Any]:
    data: dict[str, Any] = graph.nodes[node]
    return data
