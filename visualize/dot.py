"""Graphviz drawings of both views, and running `dot` to turn them into SVG, PNG or PDF.

Every piece of knowledge-base text goes through `guidekb.visualize.escaping` on its way into the DOT
source. Nodes that stand for a rule or an outcome carry the source quotes as a tooltip and a
link to the statement (`#rule-<id>`, an anchor of the HTML page).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterable, Mapping
from typing import Any

import graphviz
import networkx as nx

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import style
from guidekb.visualize.chartbook import Chart, ChartBook
from guidekb.visualize.decisions import Branch, Decision, Diagram, Outcome, advises_nothing, without
from guidekb.visualize.errors import GraphvizMissing
from guidekb.visualize.escaping import dot_html, dot_html_attr, dot_text, dot_tooltip
from guidekb.visualize.graph import (
    DERIVED,
    FACT,
    PROHIBITION,
    RECOMMENDATION,
    RULE,
    never_firing_rules,
    unread_facts,
)
from guidekb.visualize.labels import edge_label
from guidekb.visualize.leaves import FIND_OUT, find_out_topics, open_leaf_text
from guidekb.visualize.patient import PatientPath, follow
from guidekb.visualize.spoken import Spoken, spoken_names, with_titles

SPOKEN = "guidekb_spoken"  # attribute of a drawing: its SVG titles in words (guidekb.visualize.spoken)
BOOK_COLUMNS = 3  # charts side by side in the drawing of a chart book


def _new_graph(name: str) -> graphviz.Digraph:
    graph = graphviz.Digraph(name)
    graph.attr("graph", fontname=style.FONT, labelloc="t", labeljust="c", nodesep="0.35",
               ranksep="0.45", pad="0.3", newrank="true")
    graph.attr("node", fontname=style.FONT, fontsize="11", margin="0.08,0.04")
    graph.attr("edge", fontname=style.FONT, fontsize="10", color=style.EDGE, arrowsize="0.7")
    return graph


def _cell(text: str, width: int, *, fill: str, color: str = "#000000", bold: bool = False,
          href: str | None = None, tooltip: str | None = None, size: int = 11) -> str:
    """One cell of an HTML-like table, its text escaped."""
    body = dot_html(text, width)
    if bold:
        body = f"<B>{body}</B>"
    attrs = f' BGCOLOR="{fill}" ALIGN="LEFT" BALIGN="LEFT"'
    if href:
        attrs += f' HREF="{href}"'
    if tooltip:
        attrs += f' TOOLTIP="{dot_html_attr(tooltip)}"'
    return f'<TR><TD{attrs}><FONT COLOR="{color}" POINT-SIZE="{size}">{body}</FONT></TD></TR>'


def _box(rows: list[str], line: str, border: int = 1, rounded: bool = True) -> str:
    corners = ' STYLE="rounded"' if rounded else ""
    return (f'<TABLE BORDER="{border}"{corners} COLOR="{line}" CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="4">{"".join(rows)}</TABLE>')


def outcome_label(kb: KnowledgeBase, outcome: Outcome, because: dict[str, list[str]],
                  muted: bool = False, chosen: bool = False, notes: Mapping[str, int] | None = None) -> str:
    """An outcome leaf: a green box of actions and a red box of prohibitions (grey when off
    a patient's path, with a heavy border at the end of it). With `notes` (a handout), each
    box starts with its footnote number and each "DO NOT" has its reason under it."""
    boxes: list[str] = []

    def rows(codes: tuple[str, ...], forbidden: bool) -> list[str]:
        result: list[str] = []
        for code in codes:
            rules = because.get(code, [])
            text = style.outcome_text(kb, code)
            fill = style.PROHIBITION_FILL if forbidden else \
                style.DERIVED_FILL if style.is_conclusion(kb, code) else style.ACTION_FILL
            color = style.PROHIBITION_TEXT if forbidden else "#000000"
            shown = f"{style.DO_NOT}: {text}" if forbidden else text
            if notes is not None and code in notes:
                shown = f"[{notes[code]}] {shown}"
            result.append(_cell(
                shown, 38,
                fill=style.MUTED_FILL if muted else fill, color=style.MUTED_TEXT if muted else color,
                href=f"#{style.rule_anchor(rules[0])}" if rules else f"#{style.code_anchor(code)}",
                tooltip=style.rule_sources(kb, rules) if rules else text))
            if forbidden and notes is not None:
                reasons = style.reasons(kb, code, rules)
                if reasons:
                    result.append(_cell(f"Why not: {reasons}", 44, fill=style.MUTED_FILL if muted else fill,
                                        color=style.MUTED_TEXT if muted else "#000000", size=10))
        return result

    border = 3 if chosen else 1
    if outcome.recommended:
        conclusion = all(style.is_conclusion(kb, c) for c in outcome.recommended)
        line = style.MUTED_LINE if muted else style.DERIVED_LINE if conclusion else style.ACTION_LINE
        boxes.append(_box(rows(outcome.recommended, False), line, border))
    if outcome.forbidden:
        line = style.MUTED_LINE if muted else style.PROHIBITION_LINE
        boxes.append(_box(rows(outcome.forbidden, True), line, max(border, style.PROHIBITION_BORDER),
                          rounded=False))
    if not boxes:
        boxes.append(_box([_cell(style.NOTHING_EVER, 30, fill=style.NOTHING_FILL, color="#424242")],
                          style.NOTHING_LINE))
    inner = "".join(f"<TR><TD>{b}</TD></TR>" for b in boxes)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="0">{inner}</TABLE>>'


def _draw_diagram(graph: graphviz.Digraph, diagram: Diagram, prefix: str, always: Outcome,
                  elsewhere: str, path: PatientPath | None = None,
                  notes: Mapping[str, int] | None = None, only: frozenset[int] | None = None,
                  continued: Mapping[int, str] | None = None,
                  current: tuple[int, int] | None = None, wrap: int = 22,
                  shape: str = "diamond", box_wrap: int | None = None, terse: bool = False) -> None:
    """The nodes and arrows of one chart; a leaf with nothing drawn in it says where to look
    next or what to find out (guidekb.visualize.leaves), never "No action". With a patient's
    `path`, its arrows are bold and numbered "1.", "2.", ... and everything else is grey.

    A chart too big for its page is drawn in parts (guidekb.visualize.paging): `only` is the
    set of questions of this part, and an arrow to a question of another part, or to an
    advice box drawn on a part of its own, ends in a dashed box saying where it continues
    (`continued`: node id -> that text). `current` (a `--steps` slide) is the arrow of the
    step being taught: drawn in blue, and the question it leads to gets a blue border. `wrap`:
    characters to a line in a question; `shape` its outline: a diamond, or on a page or a
    slide a rounded box ("box"), half a diamond's area for the same text (a diamond leaves
    its corners empty; the answers are on the arrows either way); `box_wrap`: characters to
    a line in a dashed box (default `wrap` plus 2 or 4). `terse` (a page or a slide): an
    "unknown" arrow whose box would only repeat the question above it ("Find out: Where are
    the lesions?") ends in "Find out"."""
    kb = diagram.kb
    on_path = path.nodes if path is not None else frozenset(diagram.nodes)
    for node_id in diagram.topological():
        node = diagram.nodes[node_id]
        name = f"{prefix}{node_id}"
        if isinstance(node, Decision) and only is not None and node_id not in only:
            continue
        if isinstance(node, Decision):
            question = diagram.question(node)
            spec = kb.facts[question.fact]
            muted = node_id not in on_path
            next_up = current is not None and path is not None and node_id == path.leaf
            tooltip, link = f"{question.fact}: {spec.description}", f"#{style.fact_anchor(question.fact)}"
            extra = {}
            if question.milestone:  # a conclusion of an earlier stage: a double outline, a link to its chart
                extra["peripheries"] = "2"
                tooltip += f" Drawn by the rules from the case facts: see {question.place or 'its stage'}."
                if question.place.startswith("chart "):
                    link = f"#chart-{question.place.split()[1]}"
            graph.node(name, label=dot_text(question.text, wrap), shape=shape,
                       style="rounded,filled" if shape == "box" else "filled",
                       fillcolor=style.MUTED_FILL if muted else style.DECISION_FILL,
                       color=style.CURRENT if next_up else style.MUTED_LINE if muted else style.DECISION_LINE,
                       margin="0.02" if shape == "diamond" else "0.04,0.02",
                       fontcolor=style.MUTED_TEXT if muted else "#000000",
                       penwidth="5" if next_up else "3" if path is not None and not muted else "1",
                       tooltip=dot_tooltip(tooltip), URL=link, **extra)
            for k, branch in enumerate(node.branches):
                number = path.step_number(node_id, k) if path is not None else None
                taken = path is None or number is not None
                target = f"{prefix}{branch.child}"
                child = diagram.nodes[branch.child]
                if isinstance(child, Decision):
                    elsewhere_part = only is not None and branch.child not in only
                else:
                    elsewhere_part = branch.child in (continued or {})
                if elsewhere_part:
                    target = f"{name}_cont{k}"  # the question or the advice is drawn in another part
                    text = (continued or {}).get(branch.child, "continued")
                    graph.node(target, label=dot_text(text, box_wrap or wrap + 2), shape="box",
                               style="rounded,dashed,bold",
                               fontsize="10", color="#000000" if taken else style.MUTED_LINE,
                               fontcolor="#000000" if taken else style.MUTED_TEXT,
                               penwidth="3" if number is not None else "1")
                elif isinstance(child, Outcome) and advises_nothing(without(child, always)):
                    target = f"{name}_open{k}"  # one per arrow: what it says depends on the arrow
                    text = open_leaf_text(diagram, node, branch, elsewhere)
                    if terse and find_out_topics(diagram, branch.child) == [question.topic]:
                        text = FIND_OUT
                    graph.node(target, label=dot_text(text, box_wrap or wrap + 4), shape="box",
                               style="rounded,filled,dashed",
                               fillcolor=style.NOTHING_FILL if taken else style.MUTED_FILL,
                               color=style.NOTHING_LINE if taken else style.MUTED_LINE,
                               fontcolor="#424242" if taken else style.MUTED_TEXT, fontsize="10",
                               penwidth="3" if number is not None else "1")
                label = edge_label(diagram, node, branch)
                if number is not None:
                    now = current == (node_id, k)
                    graph.edge(name, target, label=dot_text(f"{number}. {label}", 22),
                               penwidth="5" if now else "3", color=style.CURRENT if now else "#000000",
                               fontcolor=style.CURRENT if now else "#000000", fontname=f"{style.FONT}-Bold")
                else:
                    grey = {} if taken else {"color": style.MUTED_LINE, "fontcolor": style.MUTED_TEXT}
                    graph.edge(name, target, label=dot_text(label, 22), **grey)
        elif only is not None and not any(b.child == node_id for i in only
                                          for b in _branches(diagram, i)):
            continue  # an outcome reached from no question of this part
        elif node_id in (continued or {}):
            continue  # an advice box drawn on a part of its own
        elif not advises_nothing(without(node, always)) or node_id == diagram.root:
            chosen = path is not None and node_id == path.leaf
            label = outcome_label(kb, without(node, always), diagram.because.get(node_id, {}),
                                  muted=node_id not in on_path, chosen=chosen, notes=notes)
            graph.node(name, label=label, shape="plain")


def _branches(diagram: Diagram, node_id: int) -> tuple[Branch, ...]:
    node = diagram.nodes[node_id]
    return node.branches if isinstance(node, Decision) else ()


DECISION_LEGEND = [
    ("Question: follow the answer", style.DECISION_FILL, style.DECISION_LINE),
    ("Recommended action", style.ACTION_FILL, style.ACTION_LINE),
    (f"{style.DO_NOT}: prohibited", style.PROHIBITION_FILL, style.PROHIBITION_LINE),
    ("unknown = not recorded for the patient", "#FFFFFF", "#9E9E9E"),
]
MILESTONE_LEGEND = ("Double outline: an earlier stage, see its chart",
                    style.DECISION_FILL, style.DECISION_LINE)
CONCLUSION_LEGEND = ("Stage reached: go on to its charts", style.DERIVED_FILL, style.DERIVED_LINE)


def decision_legend(diagrams: Iterable[Diagram]) -> list[tuple[str, str, str]]:
    """The legend of decision charts: the two entries for milestones (a question with a
    double outline) and conclusions (a blue box) only where some chart draws one."""
    drawn = list(diagrams)
    legend = list(DECISION_LEGEND)
    if any(d.question(n).milestone for d in drawn for n in d.decisions().values()):
        legend.append(MILESTONE_LEGEND)
    if any(d.conclusion is not None for d in drawn):
        legend.append(CONCLUSION_LEGEND)
    return legend


RULE_LEGEND = [
    ("Case fact", style.FACT_FILL, style.FACT_LINE),
    ("Rule (hover: source quotes)", style.RULE_FILL, style.RULE_LINE),
    ("Conclusion drawn by rules", style.DERIVED_FILL, style.DERIVED_LINE),
    ("Recommended action", style.ACTION_FILL, style.ACTION_LINE),
    (f"{style.DO_NOT}: prohibited", style.PROHIBITION_FILL, style.PROHIBITION_LINE),
    ("dashed arrow: the rule reads the fact", "#FFFFFF", "#9E9E9E"),
]


def _legend_rows(cells: list[tuple[str, str, str]]) -> str:
    def border(line: str) -> str:  # a prohibition is square and heavy here too
        if line == style.PROHIBITION_LINE:
            return f'BORDER="{style.PROHIBITION_BORDER}"'
        return 'BORDER="1" STYLE="rounded"'

    tds = "".join(f'<TD BGCOLOR="{fill}" COLOR="{line}" {border(line)}>'
                  f'<FONT POINT-SIZE="10">{dot_html(text)}</FONT></TD>' for text, fill, line in cells)
    return f'<TR><TD COLSPAN="1"><TABLE BORDER="0" CELLSPACING="6">{"<TR>" + tds + "</TR>"}</TABLE></TD></TR>'


def _title(kb: KnowledgeBase, view: str, legend: list[tuple[str, str, str]],
           always: Outcome | None = None, note: str | None = None) -> str:
    """The graph label: title, version and view, a note, the legend, and what holds in
    every case (each such code linked to its rule, with the quote as tooltip)."""
    rows = [f'<TR><TD><FONT POINT-SIZE="18"><B>{dot_html(style.title_line(kb), 70, "CENTER")}</B>'
            "</FONT></TD></TR>",
            f'<TR><TD><FONT POINT-SIZE="11" COLOR="#555555">{dot_html(style.version_line(kb, view))}'
            f'</FONT></TD></TR>']
    if note:
        rows.append(f'<TR><TD><FONT POINT-SIZE="10" COLOR="#555555">{dot_html(note, 110, "CENTER")}'
                    "</FONT></TD></TR>")
    rows.append(_legend_rows(legend))
    codes = [] if always is None else [*((c, False) for c in always.recommended),
                                         *((c, True) for c in always.forbidden)]
    for code, forbidden in codes:
        rules = style.rules_acting_on(kb, code)
        text = style.outcome_text(kb, code)
        text = f"{style.DO_NOT}: {text}" if forbidden else text
        link = ""
        if rules:
            link = (f' HREF="#{style.rule_anchor(rules[0])}"'
                    f' TOOLTIP="{dot_html_attr(style.rule_sources(kb, rules))}"')
        color = style.PROHIBITION_TEXT if forbidden else "#000000"
        rows.append(f'<TR><TD{link}><FONT POINT-SIZE="11" COLOR="{color}">'
                    f'<B>In every case: </B>{dot_html(text, 100)}</FONT></TD></TR>')
    return f'<<TABLE BORDER="0" CELLPADDING="2">{"".join(rows)}</TABLE>>'


def diagram_graph(diagram: Diagram, view: str | None = None, elsewhere: str = style.ELSEWHERE,
                  case: Mapping[str, Any] | None = None,
                  notes: Mapping[str, int] | None = None) -> graphviz.Digraph:
    """One decision chart (the whole knowledge base, or `--focus` codes); with a `case`, the
    path it takes is drawn bold and numbered and the rest grey."""
    kb = diagram.kb
    has_questions = bool(diagram.decisions())
    always = diagram.in_every_case() if has_questions else Outcome((), ())
    focus = diagram.focus
    if view is None:
        view = "decision chart" if focus is None else "decision chart: " + style.codes_in_words(kb, focus)
    graph = _new_graph("decisions")
    graph.attr("graph", label=_title(kb, view, decision_legend([diagram]), always))
    _draw_diagram(graph, diagram, "n", always, elsewhere, _path(diagram, case), notes)
    setattr(graph, SPOKEN, spoken_names(diagram, "n", elsewhere, always))
    return graph


def _path(diagram: Diagram, case: Mapping[str, Any] | None) -> PatientPath | None:
    return None if case is None else follow(diagram, case)


def _depth(diagram: Diagram) -> int:
    memo: dict[int, int] = {}
    for node_id in reversed(diagram.topological()):
        node = diagram.nodes[node_id]
        memo[node_id] = 0 if isinstance(node, Outcome) else 1 + max(memo[b.child] for b in node.branches)
    return memo[diagram.root]


def book_graph(book: ChartBook, case: Mapping[str, Any] | None = None) -> graphviz.Digraph:
    """Every chart of a chart book in one drawing: titled frames stacked in columns."""
    kb = book.kb
    if len(book.charts) == 1 and book.charts[0].whole:
        whole = book.charts[0].diagram
        graph = _new_graph("decisions")
        graph.attr("graph", label=_title(kb, "decision chart", DECISION_LEGEND, book.in_every_case))
        _draw_diagram(graph, whole, "n", book.in_every_case, book.next_chart(0), _path(whole, case))
        setattr(graph, SPOKEN, spoken_names(whole, "n", book.next_chart(0), book.in_every_case))
        return graph
    note = (f"The full decision diagram is too large for one page, so it is drawn as "
            f"{len(book.charts)} charts, one per group of related recommendations; each asks only "
            f"the questions that matter for its group.")
    graph = _new_graph("decisions")
    graph.attr("graph", label=_title(kb, "decision charts", decision_legend(c.diagram for c in book.charts),
                                     book.in_every_case, note))
    spoken: Spoken = {}
    setattr(graph, SPOKEN, spoken)
    for k, chart in enumerate(book.charts):
        with graph.subgraph(name=f"cluster_{k}") as sub:
            sub.attr(label=_chart_title(kb, k, chart), labeljust="l", style="rounded", color="#BDBDBD",
                     fontsize="12")
            _draw_diagram(sub, chart.diagram, f"c{k}_", Outcome((), ()), book.next_chart(k),
                          _path(chart.diagram, case))
            spoken.update(spoken_names(chart.diagram, f"c{k}_", book.next_chart(k), Outcome((), ())))
            spoken[f"cluster_{k}"] = (f"Chart {k + 1}: {chart.title}", "A decision chart of the book.")
    # Rows of charts: the roots of a row share a rank, and each row starts below the deepest
    # chart of the row above (newrank lets rank constraints cross clusters).
    per_row = BOOK_COLUMNS if len(book.charts) > BOOK_COLUMNS else len(book.charts)
    rows = [list(range(i, min(i + per_row, len(book.charts)))) for i in range(0, len(book.charts), per_row)]
    for r, row in enumerate(rows):
        roots = [f"c{k}_{book.charts[k].diagram.root}" for k in row]
        with graph.subgraph() as same:
            same.attr(rank="same")
            for root in roots:
                same.node(root)
        for left, right in itertools.pairwise(roots):
            graph.edge(left, right, style="invis")
        if r + 1 < len(rows):
            depth = max(_depth(book.charts[k].diagram) for k in row)
            below = f"c{rows[r + 1][0]}_{book.charts[rows[r + 1][0]].diagram.root}"
            graph.edge(roots[0], below, style="invis", minlen=str(depth + 2))
    return graph


def _chart_title(kb: KnowledgeBase, k: int, chart: Chart) -> str:
    return f'<<B>{k + 1}. {dot_html(chart.title, 90)}</B>>'


def rules_graph(graph: nx.DiGraph, kb: KnowledgeBase, focus: str | None = None) -> graphviz.Digraph:
    """The knowledge graph: facts → rules → conclusions → rules → recommendations/prohibitions."""
    dot = _new_graph("rules")
    view = "rule graph" if focus is None else f"rule graph: what leads to {style.codes_in_words(kb, [focus])}"
    dot.attr("graph", label=_title(kb, view, RULE_LEGEND), rankdir="LR", ranksep="0.6", nodesep="0.15")
    dead = set(never_firing_rules(kb))
    unread = set(unread_facts(graph)) & set(kb.case_facts)
    for node, data in graph.nodes(data=True):
        kind, name = data["kind"], data["name"]
        ident = _ident(node)
        if kind == FACT:
            note = f" ({style.UNREAD})" if name in unread else ""
            dot.node(ident, label=dot_text(name.replace("_", " ") + note, 24), shape="box",
                     style="rounded,filled" + (",dotted" if note else ""),
                     fillcolor=style.FACT_FILL, color=style.FACT_LINE, tooltip=dot_tooltip(data["text"]),
                     URL=f"#{style.fact_anchor(name)}")
        elif kind == DERIVED:
            dot.node(ident, label=dot_text(name.replace("_", " "), 22), shape="ellipse", style="filled",
                     fillcolor=style.DERIVED_FILL, color=style.DERIVED_LINE,
                     tooltip=dot_tooltip(data["text"]),
                     URL=f"#{style.fact_anchor(name)}")
        elif kind == RULE:
            note = f" ({style.NEVER_FIRES})" if name in dead else ""
            dot.node(ident, label=dot_text(data["text"] + note, 30), shape="box",
                     style="filled" + (",dashed" if note else ""),
                     fillcolor=style.NOTHING_FILL if note else style.RULE_FILL, color=style.RULE_LINE,
                     tooltip=dot_tooltip(style.rule_sources(kb, [name])), URL=f"#{style.rule_anchor(name)}")
        elif kind == RECOMMENDATION:
            dot.node(ident, label=dot_text(data["text"], 30), shape="box", style="rounded,filled",
                     fillcolor=style.ACTION_FILL, color=style.ACTION_LINE, tooltip=dot_tooltip(name),
                     URL=f"#{style.code_anchor(name)}")
        elif kind == PROHIBITION:
            dot.node(ident, label=dot_text(f"{style.DO_NOT}: {data['text']}", 30), shape="box",
                     style="filled", penwidth=str(style.PROHIBITION_BORDER), fillcolor=style.PROHIBITION_FILL,
                     color=style.PROHIBITION_LINE, fontcolor=style.PROHIBITION_TEXT,
                     tooltip=dot_tooltip(name), URL=f"#{style.code_anchor(name)}")
    colors = {"reads": style.EDGE, "derives": style.DERIVED_LINE, "recommends": style.ACTION_LINE,
              "forbids": style.PROHIBITION_LINE}
    for source, target, data in graph.edges(data=True):
        dot.edge(_ident(source), _ident(target), color=colors[data["kind"]],
                 style="dashed" if data["kind"] == "reads" else "solid")
    return dot


def _ident(node: str) -> str:
    """A DOT node id from a graph node id (ids and names are restricted to [a-z0-9_.:-])."""
    return node.replace(":", "__")


def dot_available() -> bool:
    return shutil.which("dot") is not None


def render(graph: graphviz.Digraph, fmt: str, dpi: int | None = None) -> bytes:
    """The drawing as SVG, PNG or PDF bytes; GraphvizMissing without the `dot` program.
    `dpi` sets the resolution of a PNG (graphviz draws 96 dots per inch by default)."""
    if not dot_available():
        raise GraphvizMissing(fmt)
    if dpi is not None and fmt == "png":
        graph = graph.copy()
        graph.attr("graph", dpi=str(dpi))
    try:
        data: bytes = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing(fmt) from exc
    spoken = getattr(graph, SPOKEN, None)
    if fmt == "svg" and spoken is not None:
        data = with_titles(data, spoken)
    return data
