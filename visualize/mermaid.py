"""Mermaid flowcharts of both views, for Markdown pages and wikis that render Mermaid.

Nothing links to an anchor that only the HTML page has (a wiki would show a dead link); the
Markdown text version (guidekb.visualize.text_version) holds one Mermaid block per chart.
Every label is double-quoted and every character of KB text that Mermaid could read as
syntax or markup is written as a `#code;` entity (see `guidekb.visualize.escaping.mermaid_text`).
Node ids are generated here, never taken from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import style
from guidekb.visualize.chartbook import ChartBook
from guidekb.visualize.decisions import NOTHING, Decision, Diagram, Outcome, advises_nothing, without
from guidekb.visualize.escaping import mermaid_lines, mermaid_text
from guidekb.visualize.graph import DERIVED, FACT, PROHIBITION, RECOMMENDATION, RULE
from guidekb.visualize.labels import edge_label
from guidekb.visualize.leaves import open_leaf_text
from guidekb.visualize.overview import shown_stages, stage_charts
from guidekb.visualize.patient import PatientPath, follow

_CLASSES = [
    f"classDef question fill:{style.DECISION_FILL},stroke:{style.DECISION_LINE},color:#000",
    f"classDef action fill:{style.ACTION_FILL},stroke:{style.ACTION_LINE},color:#000",
    f"classDef donot fill:{style.PROHIBITION_FILL},stroke:{style.PROHIBITION_LINE},"
    f"color:{style.PROHIBITION_TEXT},stroke-width:{style.PROHIBITION_BORDER}px",
    f"classDef nothing fill:{style.NOTHING_FILL},stroke:{style.NOTHING_LINE},color:#424242",
    f"classDef fact fill:{style.FACT_FILL},stroke:{style.FACT_LINE},color:#000",
    f"classDef derived fill:{style.DERIVED_FILL},stroke:{style.DERIVED_LINE},color:#000",
    f"classDef rule fill:{style.RULE_FILL},stroke:{style.RULE_LINE},color:#000",
    # a patient's path (--case): the rest grey, the box it ends in heavy-bordered
    f"classDef muted fill:{style.MUTED_FILL},stroke:{style.MUTED_LINE},color:{style.MUTED_TEXT}",
    f"classDef action_muted fill:{style.MUTED_FILL},stroke:{style.MUTED_LINE},color:{style.MUTED_TEXT}",
    f"classDef donot_muted fill:{style.MUTED_FILL},stroke:{style.MUTED_LINE},color:{style.MUTED_TEXT},"
    f"stroke-width:{style.PROHIBITION_BORDER}px",
    f"classDef nothing_muted fill:{style.MUTED_FILL},stroke:{style.MUTED_LINE},color:{style.MUTED_TEXT}",
    "classDef reached stroke:#000000,stroke-width:4px",
]


def _header(kb: KnowledgeBase, view: str, direction: str) -> list[str]:
    title = mermaid_text(f"{kb.manifest.title} ({kb.id} {kb.version}, {view})")
    return ["---", f"title: \"{title}\"", "---", f"flowchart {direction}"]


def _outcome_text(kb: KnowledgeBase, outcome: Outcome) -> tuple[str, str]:
    lines = [*(style.outcome_text(kb, c) for c in outcome.recommended),
             *(f"{style.DO_NOT}: {style.outcome_text(kb, c)}" for c in outcome.forbidden)]
    if not lines:
        return mermaid_text(style.NOTHING_EVER), "nothing"
    css = "donot" if outcome.forbidden and not outcome.recommended else "action"
    return "<br/>".join(mermaid_lines(line, 40) for line in lines), css


class Links:
    """Counts the arrows of one Mermaid diagram: `linkStyle` names an arrow by its position
    among all the diagram's arrows, so a patient's path is styled by these numbers."""

    def __init__(self) -> None:
        self.count = 0
        self.on_path: list[int] = []

    def add(self, taken: bool) -> None:
        if taken:
            self.on_path.append(self.count)
        self.count += 1

    def styles(self) -> list[str]:
        """The path's arrows heavy and black; a Mermaid renderer draws the rest as usual."""
        if not self.on_path:
            return []
        return [f"    linkStyle {','.join(map(str, self.on_path))} stroke:#000000,stroke-width:4px"]


def _diagram_lines(diagram: Diagram, prefix: str, elsewhere: str, indent: str = "    ",
                   path: PatientPath | None = None, links: Links | None = None,
                   always: Outcome = NOTHING) -> list[str]:
    """One chart's nodes and arrows; an arrow into a leaf with nothing in it gets its own
    leaf saying what to find out or where to look (guidekb.visualize.leaves). With a
    patient's `path`, its arrows are numbered "1.", "2.", ... and heavy (counted in `links`),
    the box it ends in is marked `reached` and everything off the path is `muted`. Codes of
    `always` are drawn once, under the title, not in the leaves (as the DOT chart does)."""
    kb = diagram.kb
    links = links if links is not None else Links()
    lines: list[str] = []
    marks: list[str] = []
    on_path = path.nodes if path is not None else frozenset(diagram.nodes)
    for node_id in diagram.topological():
        node = diagram.nodes[node_id]
        name = f"{prefix}{node_id}"
        if isinstance(node, Decision):
            question = diagram.question(node)
            css = "question" if node_id in on_path else "muted"
            lines.append(f'{indent}{name}{{"{mermaid_lines(question.text, 24)}"}}:::{css}')
            for k, branch in enumerate(node.branches):
                number = path.step_number(node_id, k) if path is not None else None
                label = mermaid_text(edge_label(diagram, node, branch))
                if number is not None:
                    label = f"{number}. {label}"
                child = diagram.nodes[branch.child]
                target = f"{prefix}{branch.child}"
                if isinstance(child, Outcome) and advises_nothing(without(child, always)):
                    target = f"{name}_open{k}"
                    text = mermaid_lines(open_leaf_text(diagram, node, branch, elsewhere), 30)
                    css = "nothing" if path is None or number is not None else "muted"
                    lines.append(f'{indent}{target}("{text}"):::{css}')
                    if number is not None and path is not None and branch.child == path.leaf:
                        marks.append(target)
                elif path is not None and number is not None and branch.child == path.leaf:
                    marks.append(target)
                lines.append(f'{indent}{name} -->|"{label}"| {target}')
                links.add(number is not None)
        elif not advises_nothing(without(node, always)) or node_id == diagram.root:
            text, css = _outcome_text(kb, without(node, always))
            if node_id not in on_path:
                css = f"{css}_muted"
            square = css.startswith("donot")  # a prohibition is square
            opening, closing = ('["', '"]') if square else ('("', '")')
            lines.append(f'{indent}{name}{opening}{text}{closing}:::{css}')
            if path is not None and node_id == path.leaf and node_id == diagram.root:
                marks.append(name)
    lines += [f"{indent}class {target} reached" for target in dict.fromkeys(marks)]
    return lines


def _path(diagram: Diagram, case: Mapping[str, Any] | None) -> PatientPath | None:
    return None if case is None else follow(diagram, case)


def diagram_mermaid(diagram: Diagram, case: Mapping[str, Any] | None = None,
                    elsewhere: str = style.ELSEWHERE, always: Outcome = NOTHING) -> str:
    """One decision chart; with a `case`, its path numbered and heavy, the rest grey.
    `elsewhere` is where its open leaves send the reader; the codes of `always` are drawn once,
    in a box of their own, instead of in every leaf."""
    focus = diagram.focus
    view = "decision chart" if focus is None else "decision chart: " + style.codes_in_words(diagram.kb, focus)
    links = Links()
    body = [*_always_box(diagram.kb, always),
            *_diagram_lines(diagram, "n", elsewhere, path=_path(diagram, case), links=links, always=always)]
    return "\n".join([*_header(diagram.kb, view, "TD"), *body, *(f"    {c}" for c in _CLASSES),
                      *links.styles()]) + "\n"


def _always_box(kb: KnowledgeBase, always: Outcome) -> list[str]:
    """The box "In every case: ..." (nothing when no code is decided alike for every case)."""
    if advises_nothing(always):
        return []
    text, css = _outcome_text(kb, always)
    return [f'    always("{mermaid_text("In every case:")}<br/>{text}"):::{css}']


def book_mermaid(book: ChartBook, case: Mapping[str, Any] | None = None) -> str:
    """Every chart of a book, stacked; with a `case`, its path through each chart."""
    if len(book.charts) == 1 and book.charts[0].whole:
        return diagram_mermaid(book.charts[0].diagram, case, book.next_chart(0), book.in_every_case)
    links = Links()
    lines = [*_header(book.kb, "decision charts", "TD"), *_always_box(book.kb, book.in_every_case)]
    for k, chart in enumerate(book.charts):
        title = mermaid_text(f"{k + 1}. {chart.title}")
        lines.append(f'    subgraph chart{k}["{title}"]')
        lines += _diagram_lines(chart.diagram, f"c{k}_", book.next_chart(k), "        ",
                                _path(chart.diagram, case), links)
        lines.append("    end")
    # one chart under the other (invisible links, counted after every arrow of the charts),
    # not a strip of charts side by side
    lines += [f"    chart{k} ~~~ chart{k + 1}" for k in range(len(book.charts) - 1)]
    lines += [f"    {c}" for c in _CLASSES]
    return "\n".join([*lines, *links.styles()]) + "\n"


def chart_blocks(book: ChartBook, case: Mapping[str, Any] | None = None) -> list[str]:
    """Each chart of a book as its own top-down Mermaid diagram (the body of a ```mermaid
    block in Markdown: one chart per block reads well in a wiki, one huge diagram does not);
    with a `case`, its path through each."""
    blocks = []
    for k, chart in enumerate(book.charts):
        links = Links()
        body = _diagram_lines(chart.diagram, f"c{k}_", book.next_chart(k), path=_path(chart.diagram, case),
                              links=links)
        blocks.append("\n".join(["flowchart TD", *body, *(f"    {c}" for c in _CLASSES), *links.styles()]))
    return blocks


def overview_mermaid(book: ChartBook) -> str:
    """The pathway overview: one box per stage listing its charts, top-down."""
    lines = _header(book.kb, "clinical pathway overview", "TD")
    charts = stage_charts(book)
    shown = shown_stages(book)
    index = {s.name: i for i, s in enumerate(shown)}
    for i, stage in enumerate(shown):
        entries = [f"Chart {k + 1}: {book.charts[k].title.split(': ', 1)[-1]}"
                   for k in charts.get(stage.name, [])]
        text = "<br/>".join([mermaid_text(stage.title.upper()), *(mermaid_lines(e, 36) for e in entries)])
        lines.append(f'    s{i}("{text}"):::derived')
    for i, stage in enumerate(shown):
        lines += [f"    s{index[b]} --> s{i}" for b in stage.after if b in index]
    lines += [f"    {c}" for c in _CLASSES]
    return "\n".join(lines) + "\n"


def rules_mermaid(graph: nx.DiGraph, kb: KnowledgeBase, focus: str | None = None) -> str:
    view = "rule graph" if focus is None else f"rule graph: what leads to {focus}"
    lines = _header(kb, view, "LR")
    ids = {node: f"g{i}" for i, node in enumerate(graph.nodes)}
    shapes = {FACT: ('("', '")', "fact"), DERIVED: ('(["', '"])', "derived"), RULE: ('["', '"]', "rule"),
              RECOMMENDATION: ('("', '")', "action"), PROHIBITION: ('["', '"]', "donot")}
    for node, data in graph.nodes(data=True):
        kind = data["kind"]
        text = data["name"].replace("_", " ") if kind in (FACT, DERIVED) else data["text"]
        if kind == PROHIBITION:
            text = f"{style.DO_NOT}: {text}"
        opening, closing, css = shapes[kind]
        lines.append(f"    {ids[node]}{opening}{mermaid_lines(text, 30)}{closing}:::{css}")
    for source, target, data in graph.edges(data=True):
        arrow = "-.->" if data["kind"] == "reads" else "-->"
        lines.append(f"    {ids[source]} {arrow} {ids[target]}")
    lines += [f"    {c}" for c in _CLASSES]
    return "\n".join(lines) + "\n"
