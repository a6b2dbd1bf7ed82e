"""One readable decision chart, or a book of small ones when the whole is too big to read.

The decision diagram of a knowledge base is a product of largely independent decisions
(whether to suspect resistance, how to dose, how to monitor), and an ordered diagram of a
product repeats each later decision under every branch of the earlier ones: for the HSV
knowledge base the whole diagram runs to thousands of questions. A clinical algorithm book
draws one chart per decision instead, so that is what this module does when the whole
diagram exceeds a page: codes that the same rule acts on, or that every case treats alike,
share a chart; each chart asks only the questions that matter for its codes. Codes decided
the same way for every case (e.g. "never topical acyclovir") are listed once, not charted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import style
from guidekb.visualize.bookcache import read_grouping, write_grouping
from guidekb.visualize.decisions import (
    Decision,
    Diagram,
    Outcome,
    TooLarge,
    build_diagram,
    codes_of,
)
from guidekb.visualize.pathway import (
    FIRST_STAGE,
    question_order,
    stage_heading,
    stage_of_codes,
    stage_order,
    stages,
)
from guidekb.visualize.questions import Question, Vocabulary
from guidekb.visualize.style import conclusion_words

PAGE_LIMIT = 30  # decision nodes that still print legibly on one page
MERGE_GROWTH = 3  # two charts become one if that costs at most this many extra questions
MERGE_OVERLAP = 0.6  # ... and they ask mostly the same questions (Jaccard index)


@dataclass(frozen=True)
class Chart:
    codes: tuple[str, ...]  # empty tuple: the whole knowledge base in one chart, or a conclusion chart
    diagram: Diagram
    stage: str = FIRST_STAGE  # the pathway stage it belongs to (guidekb.visualize.pathway)
    conclusion: str | None = None  # a conclusion chart: how the rules draw this conclusion

    @property
    def whole(self) -> bool:
        """Whether this is the whole knowledge base in one chart (no codes, no conclusion)."""
        return not self.codes and self.conclusion is None

    @property
    def title(self) -> str:
        """Words for people: the stage and the first outcome's text, never codes."""
        kb = self.diagram.kb
        if self.conclusion is not None:  # "Resistance suspected: High risk for resistance?"
            stage = stage_heading(kb, self.stage)
            words = conclusion_words(kb, self.conclusion)
            if words.lower() == stage.lower():
                return f"{stage}: when is it reached?"
            return f"{stage}: {words}?"
        if not self.codes:
            return "All recommendations and prohibitions"
        first = kb.outcomes[self.codes[0]].text.rstrip(".")
        more = f" (+{len(self.codes) - 1} more)" if len(self.codes) > 1 else ""
        stage = stage_heading(kb, self.stage)
        return f"{stage}: {_short(first)}{more}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class ChartBook:
    kb: KnowledgeBase
    charts: tuple[Chart, ...]
    in_every_case: Outcome  # decided the same way for every case
    never: tuple[str, ...]  # codes no case can reach

    def next_chart(self, k: int) -> str:
        """Where a reader of chart `k` (from 0) goes when it has nothing for the patient: the
        next chart of the pathway, or back to the overview after the last one; the source
        guideline when the book is the whole knowledge base in one chart (there is no other
        chart to see). Every format asks here, so they all say the same."""
        if k + 1 < len(self.charts):
            return f"chart {k + 2}"
        if len(self.charts) == 1 and self.charts[0].whole:
            return style.NOWHERE
        return style.ELSEWHERE


def signature(diagram: Diagram) -> str:
    """The diagram's shape with leaves reduced to 'recommended / forbidden / neither': codes
    with the same signature are decided identically for every case."""
    memo: dict[int, str] = {}

    def sig(node_id: int) -> str:
        if node_id not in memo:
            node = diagram.nodes[node_id]
            if isinstance(node, Outcome):
                memo[node_id] = "R" if node.recommended else ("F" if node.forbidden else "-")
            else:
                q = diagram.question(node)
                inner = ",".join(f"{b.answers}:{sig(b.child)}" for b in node.branches)
                memo[node_id] = f"{q.key}({inner})"
        return memo[node_id]

    return sig(diagram.root)


def _groups(kb: KnowledgeBase, codes: list[str], sigs: dict[str, str]) -> list[list[str]]:
    """Codes acted on by one rule, or decided identically, in one group (union-find)."""
    parent = {c: c for c in codes}

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    def join(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    for rule in kb.rules:
        acted = [c for c in codes_of(rule) if c in parent]
        for other in acted[1:]:
            join(acted[0], other)
    by_sig: dict[str, str] = {}
    for code in codes:
        if sigs[code] in by_sig:
            join(code, by_sig[sigs[code]])
        by_sig.setdefault(sigs[code], code)
    groups: dict[str, list[str]] = {}
    for code in codes:
        groups.setdefault(find(code), []).append(code)
    return list(groups.values())


_BOOKS: OrderedDict[tuple[str, int], ChartBook] = OrderedDict()
_BOOKS_KEPT = 8  # a long-running process editing a knowledge base keeps only the latest books


def chart_book(kb: KnowledgeBase, limit: int = PAGE_LIMIT) -> ChartBook:
    """The whole diagram as one chart if it fits `limit` decisions, else one chart per group.

    Computed once per knowledge-base content (each export format of a run needs it): keyed by
    the content hash, so a knowledge base changed in any way gets its own book."""
    key = (kb.content_hash, limit)
    book = _BOOKS.get(key)
    if book is None:
        book = _BOOKS[key] = _chart_book(kb, limit)
        while len(_BOOKS) > _BOOKS_KEPT:
            _BOOKS.popitem(last=False)
    else:
        _BOOKS.move_to_end(key)
    return book if book.kb is kb else replace(book, kb=kb)


def _chart_book(kb: KnowledgeBase, limit: int) -> ChartBook:
    order = question_order(kb)
    try:
        whole = build_diagram(kb, budget=4 * limit, order=order)
    except TooLarge:
        whole = None
    if whole is not None and len(whole.decisions()) <= limit:
        return ChartBook(kb, (Chart((), whole),), whole.in_every_case(), _never(kb, whole))

    acted = {c for rule in kb.rules for c in codes_of(rule)}
    per_code = {c: build_diagram(kb, c, order=order, milestones=milestones_of(kb, (c,)))
                for c in kb.outcomes if c in acted}
    always_rec: list[str] = []
    always_forb: list[str] = []
    never = [c for c in kb.outcomes if c not in acted]
    charted: list[str] = []
    for code, single in per_code.items():
        root = single.nodes[single.root]
        if isinstance(root, Decision):
            charted.append(code)
        elif root.recommended:
            always_rec.append(code)
        elif root.forbidden:
            always_forb.append(code)
        else:
            never.append(code)
    grouping = read_grouping(kb, limit, charted)  # visualize/bookcache.py: the trials cost seconds
    if grouping is not None:
        grouped = [Chart(g, per_code[g[0]] if len(g) == 1
                         else build_diagram(kb, list(g), order=order, milestones=milestones_of(kb, g)))
                   for g in grouping]
    else:
        grouped = _merge_similar(kb, _first_groups(kb, charted, per_code, limit, order), limit, order)
        write_grouping(kb, limit, [c.codes for c in grouped])
    codes = list(kb.outcomes)
    names = [stage.name for stage in stages(kb)]
    charts = [Chart(c.codes, c.diagram, stage_of_codes(kb, c.codes)) for c in grouped]
    charts += _conclusion_charts(kb, _asked_milestones(charts))
    conclusions = stage_order(kb)
    charts.sort(key=lambda chart: (names.index(chart.stage), chart.conclusion is None,
                                   conclusions.index(chart.conclusion) if chart.conclusion is not None
                                   else min(codes.index(c) for c in chart.codes)))
    return ChartBook(kb, _with_places(kb, charts), Outcome(tuple(always_rec), tuple(always_forb)),
                     tuple(c for c in codes if c in never))


def milestones_of(kb: KnowledgeBase, codes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The conclusions a chart of `codes` asks as questions, in pathway order: those of its
    own stage and every stage before it. A chart of the treatment stage then starts from
    "Resistance confirmed?" instead of asking again the dozen case facts behind it, as a
    clinician's pathway does; the conclusion's own chart (`_conclusion_charts`) shows how the
    rules draw it."""
    own = stage_of_codes(kb, tuple(codes))
    every = stages(kb)
    names = [stage.name for stage in every]
    drawn = _conclusion_diagrams(kb)
    return tuple(c for stage in every[:names.index(own) + 1] for c in stage.conclusions if c in drawn)


_CONCLUSIONS: OrderedDict[str, dict[str, Diagram]] = OrderedDict()


def _conclusion_diagrams(kb: KnowledgeBase) -> dict[str, Diagram]:
    """Each conclusion worth a chart of its own, in pathway order, with the diagram of how the
    rules draw it (from the conclusions before it that are worth one too). A conclusion whose
    diagram would ask one question at most ("Resistance confirmed" is "culture: acyclovir
    resistant") is not: the charts ask that question in its place. Computed once per
    knowledge-base content."""
    found = _CONCLUSIONS.get(kb.content_hash)
    if found is None:
        order = question_order(kb)
        found = {}
        for name in stage_order(kb):
            diagram = build_diagram(kb, order=order, milestones=tuple(found), conclusion=name)
            if len(diagram.decisions()) > 1:
                found[name] = diagram
        _CONCLUSIONS[kb.content_hash] = found
        while len(_CONCLUSIONS) > _BOOKS_KEPT:
            _CONCLUSIONS.popitem(last=False)
    return found


def _asked_milestones(charts: list[Chart]) -> set[str]:
    """The conclusions some chart asks as a milestone question."""
    return {chart.diagram.question(node).fact for chart in charts
            for node in chart.diagram.decisions().values() if chart.diagram.question(node).milestone}


def _conclusion_charts(kb: KnowledgeBase, needed: set[str]) -> list[Chart]:
    """For each conclusion some chart asks as a milestone (`needed`), and each one those
    charts ask in turn, the chart of how the rules draw it (`_conclusion_diagrams`: only
    conclusions worth a chart are ever milestones)."""
    diagrams = _conclusion_diagrams(kb)
    stage_of = {c: stage.name for stage in stages(kb) for c in stage.conclusions}
    built: dict[str, Chart] = {}
    pending = set(needed)
    while pending:
        name = pending.pop()
        if name not in built:
            built[name] = chart = Chart((), diagrams[name], stage_of[name], name)
            pending |= _asked_milestones([chart]) - set(built)
    return list(built.values())


def _placed(question: Question, place: str) -> Question:
    return replace(question, place=place, text=f"{question.text} (see {place})")


def _with_places(kb: KnowledgeBase, charts: list[Chart]) -> tuple[Chart, ...]:
    """The charts, each milestone question naming the chart of its conclusion ("chart 10"),
    where the reader finds how that conclusion is drawn."""
    return tuple(replace(chart, diagram=_placed_diagram(kb, chart.diagram, charts)) for chart in charts)


def _placed_diagram(kb: KnowledgeBase, diagram: Diagram, charts: Sequence[Chart]) -> Diagram:
    """`diagram` with each milestone question naming the chart of `charts` that shows how its
    conclusion is drawn (every milestone asked has one: `_conclusion_charts`)."""
    vocab = diagram.vocabulary
    if not any(q.milestone for q in vocab.questions):
        return diagram
    own = {chart.conclusion: k for k, chart in enumerate(charts) if chart.conclusion is not None}
    questions = tuple(_placed(q, f"chart {own[q.fact] + 1}" if q.fact in own else style.ELSEWHERE)
                      if q.milestone else q for q in vocab.questions)
    return replace(diagram, vocabulary=Vocabulary(questions))


def focus_diagram(kb: KnowledgeBase, code: str) -> Diagram:
    """The chart of one code (`--focus CODE`, the by-code exports), drawn as the book draws
    it: from the milestones that have a chart of their own in the book, each naming it, so a
    focused chart is as small as the book's and points into it. A book that is the whole
    knowledge base in one chart has no such charts: the code's chart then asks everything,
    from the first question of the pathway."""
    book = chart_book(kb)
    own = {chart.conclusion for chart in book.charts if chart.conclusion is not None}
    milestones = tuple(c for c in milestones_of(kb, (code,)) if c in own)
    diagram = build_diagram(kb, code, order=question_order(kb), milestones=milestones)
    return _placed_diagram(kb, diagram, book.charts)


def _first_groups(kb: KnowledgeBase, charted: list[str], per_code: dict[str, Diagram], limit: int,
                  order: list[str]) -> list[Chart]:
    """Codes that one rule acts on, or that every case treats alike, on one chart if it fits."""
    sigs = {c: signature(per_code[c]) for c in charted}
    charts: list[Chart] = []
    for group in _groups(kb, charted, sigs):
        joint = _within(kb, group, limit, order) if len(group) > 1 else per_code[group[0]]
        if joint is None:
            charts += [Chart((c,), per_code[c]) for c in group]
        else:
            charts.append(Chart(tuple(group), joint))
    return charts


def _within(kb: KnowledgeBase, codes: list[str], limit: int, order: list[str]) -> Diagram | None:
    """The diagram of `codes` if it has at most `limit` decisions, else None."""
    try:
        diagram = build_diagram(kb, codes, budget=2 * limit, order=order, milestones=milestones_of(kb, codes))
    except TooLarge:
        return None
    return diagram if len(diagram.decisions()) <= limit else None


def _asked(diagram: Diagram) -> set[str]:
    return {diagram.question(node).key for node in diagram.decisions().values()}


def _merge_similar(kb: KnowledgeBase, charts: list[Chart], limit: int, order: list[str]) -> list[Chart]:
    """Merge the two charts that cost fewest extra questions together, while any pair costs
    at most MERGE_GROWTH more than the larger of the two: fewer, fuller charts, each still
    a page. Only charts of one stage, or asking mostly the same questions, are tried (it
    bounds the work; charts that start from milestones are small, and two of one stage read
    as one step of the pathway)."""
    tried: dict[frozenset[str], Diagram | None] = {}
    charts = list(charts)
    while True:
        best: tuple[int, int, int, Diagram] | None = None
        for i, a in enumerate(charts):
            for j in range(i + 1, len(charts)):
                b = charts[j]
                qa, qb = _asked(a.diagram), _asked(b.diagram)
                same_stage = stage_of_codes(kb, a.codes) == stage_of_codes(kb, b.codes)
                if len(qa & qb) < MERGE_OVERLAP * len(qa | qb) and not same_stage:
                    continue
                key = frozenset(a.codes + b.codes)
                larger = max(len(a.diagram.decisions()), len(b.diagram.decisions()))
                if key not in tried:
                    tried[key] = _within(kb, [*a.codes, *b.codes], min(limit, larger + MERGE_GROWTH), order)
                merged = tried[key]
                if merged is None:
                    continue
                growth = len(merged.decisions()) - larger
                if growth <= MERGE_GROWTH and (best is None or growth < best[0]):
                    best = (growth, i, j, merged)
        if best is None:
            return charts
        _, i, j, merged = best
        codes = tuple(c for c in kb.outcomes if c in {*charts[i].codes, *charts[j].codes})
        charts = [c for k, c in enumerate(charts) if k not in (i, j)] + [Chart(codes, merged)]


def _never(kb: KnowledgeBase, whole: Diagram) -> tuple[str, ...]:
    reached = {c for o in whole.outcomes().values() for c in (*o.recommended, *o.forbidden)}
    return tuple(c for c in kb.outcomes if c not in reached)
