"""The clinical pathway: the knowledge base's conclusions as stages, in the order a clinician
reasons through them, and one asking order for the case-fact questions of every chart.

A clinician does not start from the lab result: they ask whether this is treatment failure,
then whether resistance is suspected, then whether it is confirmed, then how to treat and
monitor. Those milestones are the knowledge base's derived facts (conclusions). Their order
comes from the derivation graph (`guidekb.engine.semantics.derivation.producers`): a
conclusion comes after every conclusion its rules read; among conclusions free to go next,
the knowledge base's own order decides (a depth-first post-order from each conclusion in file
order, so what the author wrote first is reached first).

Questions are ordered by the stage they first matter to: the case facts read by the rules
drawing the first conclusion come first, and so on; a fact read only by rules that recommend or
forbid something comes after the conclusions those rules read. Ties keep the manifest's
`flowchart.question_order`, then the facts file's order. Every chart asks in this one order,
so a reader meets the same steps in the same order everywhere, and (being an ordered decision
diagram) never meets a question twice on one path.
"""

from __future__ import annotations

from dataclasses import dataclass

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Rule
from guidekb.engine.semantics.derivation import producers
from guidekb.visualize.decisions import Diagram, build_diagram
from guidekb.visualize.questions import humanize

FIRST_STAGE = "assessment"  # the stage of charts that read no conclusion


@dataclass(frozen=True)
class Stage:
    """One milestone of the pathway: a conclusion (or the first assessment)."""

    name: str  # the derived fact, or FIRST_STAGE
    title: str  # words for people: "Treatment failure"
    description: str
    after: tuple[str, ...]  # stages whose conclusions the rules drawing this one read


def stage_order(kb: KnowledgeBase) -> list[str]:
    """The conclusions in pathway order: each after the conclusions its rules read."""
    derivers = producers(kb)
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for rule_id in derivers.get(name, []):
            for read in facts_read(kb.rule(rule_id).when):
                if read in kb.derived_facts:
                    visit(read)
        order.append(name)

    for name in kb.derived_facts:
        visit(name)
    return order


def stages(kb: KnowledgeBase) -> list[Stage]:
    """The first assessment, then every conclusion in pathway order."""
    derivers = producers(kb)
    result = [Stage(FIRST_STAGE, "Assess the patient", "The case facts asked first.", ())]
    for name in stage_order(kb):
        spec = kb.derived_facts[name]
        reads = {f for r in derivers.get(name, []) for f in facts_read(kb.rule(r).when)}
        after = tuple(s for s in stage_order(kb) if s in reads) or (FIRST_STAGE,)
        result.append(Stage(name, stage_title(name), spec.description or stage_title(name), after))
    return result


def stage_title(name: str) -> str:
    """A conclusion's name as a heading: "resistance_suspected" -> "Resistance suspected"."""
    text = humanize(name)
    return text[:1].upper() + text[1:]


def rule_position(kb: KnowledgeBase, rule: Rule, order: list[str]) -> float:
    """Where a rule sits on the pathway: at the stage it draws, or just after the latest
    conclusion it reads (-0.5, before every stage, when it reads none)."""
    drawn = [order.index(name) for name in rule.then.derive if name in order]
    if drawn:
        return float(min(drawn))
    read = [order.index(f) for f in facts_read(rule.when) if f in order]
    return max(read) + 0.5 if read else -0.5


def question_order(kb: KnowledgeBase) -> list[str]:
    """Every case fact some rule reads, in the order the pathway first needs it: at the first
    stage whose rules read it; a fact no conclusion rests on, where the first rule acting on
    it sits."""
    order = stage_order(kb)
    by_stages: dict[str, float] = {}  # facts the rules drawing a conclusion read
    by_actions: dict[str, float] = {}  # facts read only by rules that act
    for rule in kb.rules:
        position = rule_position(kb, rule, order)
        needed = by_stages if rule.then.derive else by_actions
        for fact in facts_read(rule.when):
            if fact in kb.case_facts:
                needed[fact] = min(needed.get(fact, position), position)
    first_needed = by_actions | by_stages
    preferred = [f for f in kb.manifest.flowchart.question_order if f in kb.case_facts]
    files = list(kb.case_facts)

    def key(fact: str) -> tuple[float, int, int]:
        rank = preferred.index(fact) if fact in preferred else len(preferred)
        return first_needed[fact], rank, files.index(fact)

    return sorted(first_needed, key=key)


def stage_of_codes(kb: KnowledgeBase, codes: tuple[str, ...]) -> str:
    """The stage a chart of `codes` belongs to: the latest conclusion its rules read."""
    order = stage_order(kb)
    wanted = set(codes)
    positions = [order.index(f) for rule in kb.rules
                 if wanted & {*rule.then.recommend, *(p.code for p in rule.then.forbid)}
                 for f in facts_read(rule.when) if f in order]
    return order[max(positions)] if positions else FIRST_STAGE


def pathway_diagram(kb: KnowledgeBase, focus: str | None = None) -> Diagram:
    """The decision diagram of a knowledge base (or of one code), asked in pathway order."""
    return build_diagram(kb, focus, order=question_order(kb))
