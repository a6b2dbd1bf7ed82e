"""The clinical pathway: the knowledge base's conclusions as stages, in the order a clinician
reasons through them, and one asking order for the case-fact questions of every chart.

A clinician does not start from the lab result: they ask whether this is treatment failure,
then whether resistance is suspected, then whether it is confirmed, then how to treat and
monitor. Those milestones are the knowledge base's derived facts (conclusions).

The author can state the pathway in manifest.yaml (`pathway.stages`: each stage a conclusion
or a named group of conclusions, in order, with the questions asked in it, in order); the
loader has checked every name in it. Without it, or for conclusions it leaves out, the order
comes from the derivation graph (`guidekb.engine.semantics.derivation.producers`): a
conclusion comes after every conclusion its rules read; among conclusions free to go next,
the knowledge base's own order decides (a depth-first post-order from each conclusion in file
order, so what the author wrote first is reached first).

Questions the author placed are asked in their stage, in the order written; any other is
ordered by the stage it first matters to: the case facts read by the rules drawing the first
conclusion come first, and so on; a fact read only by rules that recommend or forbid something
comes after the conclusions those rules read. Ties keep the manifest's
`flowchart.question_order`, then the facts file's order. Every chart asks in this one order,
so a reader meets the same steps in the same order everywhere, and (being an ordered decision
diagram) never meets a question twice on one path. The order only decides how a chart is
drawn, never what it answers: every order gives a diagram equal to the engine on every path.
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
FIRST_TITLE = "Assessment"


@dataclass(frozen=True)
class Stage:
    """One milestone of the pathway: a conclusion, a named group of conclusions, or the first
    assessment (no conclusion), with the questions the author placed in it."""

    name: str  # the derived fact, the group's name, or the first stage's name
    title: str  # words for people: "Treatment failure"
    description: str
    after: tuple[str, ...]  # stages whose conclusions the rules drawing this one read
    conclusions: tuple[str, ...] = ()  # empty: the first assessment
    questions: tuple[str, ...] = ()  # case facts the author asks here, in order


def derived_stage_order(kb: KnowledgeBase) -> list[str]:
    """The conclusions in the order the rule graph implies: each after those its rules read."""
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
    """The pathway: the manifest's `pathway.stages` when the author states them (conclusions
    it leaves out follow, one stage each, in the rule graph's order), else the first
    assessment then every conclusion in the rule graph's order. The first stage is always
    the one before any conclusion. (The loader has checked every name: guidekb.engine.format
    .checking._check_pathway.)"""
    derivers = producers(kb)
    first = Stage(FIRST_STAGE, FIRST_TITLE, "The case facts asked first.", ())
    groups: list[Stage] = []
    covered: set[str] = set()
    if kb.manifest.pathway is not None:
        for spec in kb.manifest.pathway.stages:
            members = (spec.stage,) if spec.conclusions is None else tuple(spec.conclusions)
            title = spec.title or (FIRST_TITLE if not members else stage_title(spec.stage))
            if len(members) == 1 and spec.conclusions is None:
                description = kb.derived_facts[spec.stage].description or title
            else:
                description = "; ".join(kb.derived_facts[m].description or stage_title(m) for m in members) \
                    or "The case facts asked first."
            stage = Stage(spec.stage, title, description, (), members, tuple(spec.questions))
            if members:
                groups.append(stage)
                covered.update(members)
            else:
                first = stage
    for name in derived_stage_order(kb):
        if name not in covered:
            description = kb.derived_facts[name].description or stage_title(name)
            groups.append(Stage(name, stage_title(name), description, (), (name,)))
    ordered = [first, *groups]
    result = [first]
    for stage in groups:
        reads = {f for c in stage.conclusions for r in derivers.get(c, [])
                 for f in facts_read(kb.rule(r).when)}
        before = [s.name for s in ordered if s.name != stage.name and any(c in reads for c in s.conclusions)]
        result.append(Stage(stage.name, stage.title, stage.description, tuple(before) or (first.name,),
                            stage.conclusions, stage.questions))
    return result


def stage_order(kb: KnowledgeBase) -> list[str]:
    """The conclusions in pathway order (a group's in the order it lists them)."""
    return [c for stage in stages(kb) for c in stage.conclusions]


def _stage_index(kb: KnowledgeBase) -> dict[str, int]:
    """Conclusion -> the position of its stage (the first assessment is 0)."""
    return {c: k for k, stage in enumerate(stages(kb)) for c in stage.conclusions}


def stage_title(name: str) -> str:
    """A conclusion's name as a heading: "resistance_suspected" -> "Resistance suspected"."""
    text = humanize(name)
    return text[:1].upper() + text[1:]


def stage_heading(kb: KnowledgeBase, name: str) -> str:
    """The title of the stage called `name`."""
    return next((s.title for s in stages(kb) if s.name == name), stage_title(name))


def rule_position(kb: KnowledgeBase, rule: Rule, index: dict[str, int]) -> float:
    """Where a rule sits on the pathway: at the stage of the conclusion it draws, or just
    after the latest stage it reads (0, the first assessment, when it reads none)."""
    drawn = [index[name] for name in rule.then.derive if name in index]
    if drawn:
        return float(min(drawn))
    read = [index[f] for f in facts_read(rule.when) if f in index]
    return max(read) + 0.5 if read else 0.0


def question_order(kb: KnowledgeBase) -> list[str]:
    """Every case fact some rule reads, in pathway order. A question the author placed in a
    stage (`pathway.stages[].questions`) is asked there, in the order written; any other is
    asked at the first stage whose rules read it (a fact no conclusion rests on, where the
    first rule acting on it sits), after the author's questions of that stage. Ties keep the
    manifest's `flowchart.question_order`, then the facts file's order."""
    index = _stage_index(kb)
    by_stages: dict[str, float] = {}  # facts the rules drawing a conclusion read
    by_actions: dict[str, float] = {}  # facts read only by rules that act
    for rule in kb.rules:
        position = rule_position(kb, rule, index)
        needed = by_stages if rule.then.derive else by_actions
        for fact in facts_read(rule.when):
            if fact in kb.case_facts:
                needed[fact] = min(needed.get(fact, position), position)
    first_needed = by_actions | by_stages
    placed = {fact: (float(k), n) for k, stage in enumerate(stages(kb))
              for n, fact in enumerate(stage.questions)}
    preferred = [f for f in kb.manifest.flowchart.question_order if f in kb.case_facts]
    files = list(kb.case_facts)

    def key(fact: str) -> tuple[float, int, int, int]:
        if fact in placed:
            return placed[fact][0], 0, placed[fact][1], 0
        rank = preferred.index(fact) if fact in preferred else len(preferred)
        return first_needed[fact], 1, rank, files.index(fact)

    return sorted(first_needed, key=key)


def stage_of_codes(kb: KnowledgeBase, codes: tuple[str, ...]) -> str:
    """The stage a chart of `codes` belongs to: that of the latest conclusion its rules read."""
    index = _stage_index(kb)
    wanted = set(codes)
    positions = [index[f] for rule in kb.rules
                 if wanted & {*rule.then.recommend, *(p.code for p in rule.then.forbid)}
                 for f in facts_read(rule.when) if f in index]
    return stages(kb)[max(positions) if positions else 0].name


def pathway_diagram(kb: KnowledgeBase, focus: str | None = None) -> Diagram:
    """The decision diagram of a knowledge base (or of one code), asked in pathway order."""
    return build_diagram(kb, focus, order=question_order(kb))
