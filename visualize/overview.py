"""The overview of the clinical pathway: one box per stage, each listing its charts.

The stages are the knowledge base's conclusions in pathway order (guidekb.visualize.pathway);
an arrow runs from a stage to the next one whose rules read its conclusion. Each stage box
names the numbered charts of the book that belong to it (by their titles, in words: never
codes) and links to them (`#chart-N`, an anchor of the HTML page). It is small by design: a
handful of boxes that fit an A4/Letter page at print size and a 16:9 slide at slide size.
"""

from __future__ import annotations

import graphviz

from guidekb.visualize import style
from guidekb.visualize.chartbook import ChartBook
from guidekb.visualize.escaping import dot_html, dot_html_attr, dot_tooltip
from guidekb.visualize.pathway import Stage, stages

TITLE_PT = 14  # print sizes; the slide preset scales these up (SLIDE_SCALE)
TEXT_PT = 11
SLIDE_SCALE = 18 / TEXT_PT  # the smallest text of a slide is 18 pt
SLIDE_INCHES = (13.333, 7.5)  # 16:9; 1920x1080 pixels at 144 dpi
SLIDE_DPI = 288  # twice the 1920x1080 resolution


def slide_graph(book: ChartBook) -> graphviz.Digraph:
    """The overview as a 16:9 slide: every text at least 18 pt at 1920x1080."""
    graph = overview_graph(book, SLIDE_SCALE, width=22, brief=True)
    graph.attr("graph", size=f"{SLIDE_INCHES[0]},{SLIDE_INCHES[1]}")
    return graph


def chart_anchor(k: int) -> str:
    """The HTML anchor of chart number k (from 0)."""
    return f"chart-{k + 1}"


def stage_charts(book: ChartBook) -> dict[str, list[int]]:
    """Stage name -> the numbers (from 0) of the charts belonging to it."""
    found: dict[str, list[int]] = {}
    for k, chart in enumerate(book.charts):
        found.setdefault(chart.stage, []).append(k)
    return found


def shown_stages(book: ChartBook) -> list[Stage]:
    """The stages worth a box: those with charts, and those on the way to one."""
    all_stages = stages(book.kb)
    charted = set(stage_charts(book))
    needed = set(charted)
    for stage in reversed(all_stages):
        if stage.name in needed:
            needed.update(stage.after)
    return [s for s in all_stages if s.name in needed]


def overview_graph(book: ChartBook, scale: float = 1.0, width: int = 26,
                   brief: bool = False) -> graphviz.Digraph:
    """The pathway overview as a graphviz drawing; `scale` multiplies every font size and
    `width` is the wrap width in characters. `brief` (the slide) names each stage's charts
    by number only ("Charts 4, 5"), so that it fits a 16:9 slide at slide size."""
    kb = book.kb
    title_pt, text_pt = round(TITLE_PT * scale), round(TEXT_PT * scale)
    graph = graphviz.Digraph("overview")
    heading = dot_html(style.title_line(kb), 60, "CENTER")
    graph.attr("graph", fontname=style.FONT, labelloc="t", nodesep="0.15", ranksep="0.3", pad="0.2",
               label=f'<<FONT POINT-SIZE="{round(16 * scale)}"><B>{heading}</B></FONT><BR/>'
                     f'<FONT POINT-SIZE="{text_pt}">{dot_html("Clinical pathway: overview", 60)}</FONT>>')
    graph.attr("node", fontname=style.FONT, shape="plain")
    graph.attr("edge", color=style.EDGE, arrowsize=str(0.8 * scale), penwidth=str(scale))
    charts = stage_charts(book)
    shown = shown_stages(book)
    for stage in shown:
        rows = [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="{title_pt}"><B>'
                f"{dot_html(stage.title, width)}</B></FONT></TD></TR>"]
        numbers = charts.get(stage.name, [])
        if brief and numbers:
            listed = ", ".join(str(k + 1) for k in numbers)
            word = "Chart" if len(numbers) == 1 else "Charts"
            rows.append(f'<TR><TD ALIGN="LEFT" HREF="#{chart_anchor(numbers[0])}">'
                        f'<FONT POINT-SIZE="{text_pt}">{word} {listed}</FONT></TD></TR>')
        for k in [] if brief else numbers:
            chart = book.charts[k]
            rows.append(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" HREF="#{chart_anchor(k)}" '
                        f'TOOLTIP="{dot_html_attr(_contents(book, k))}"><FONT POINT-SIZE="{text_pt}">'
                        f"{dot_html(f'Chart {k + 1}: {_short(_without_stage(chart.title))}', width)}"
                        "</FONT></TD></TR>")
        fill = style.DERIVED_FILL if charts.get(stage.name) else "#FFFFFF"
        label = (f'<<TABLE BORDER="1" STYLE="rounded" COLOR="{style.DERIVED_LINE}" BGCOLOR="{fill}" '
                 f'CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">{"".join(rows)}</TABLE>>')
        graph.node(f"s_{shown.index(stage)}", label=label,
                   tooltip=dot_tooltip(stage.description))
    index = {s.name: i for i, s in enumerate(shown)}
    for stage in shown:
        for before in stage.after:
            if before in index:
                graph.edge(f"s_{index[before]}", f"s_{index[stage.name]}")
    return graph


def _contents(book: ChartBook, k: int) -> str:
    """Everything chart k can advise, in words (the tooltip of its line)."""
    chart = book.charts[k]
    codes = chart.codes or tuple(c for o in chart.diagram.outcomes().values()
                                 for c in (*o.recommended, *o.forbidden))
    return "; ".join(dict.fromkeys(style.outcome_text(book.kb, c) for c in codes)) or chart.title


def _short(text: str, limit: int = 44) -> str:
    """A chart's title cut to fit its stage's box (the tooltip and the chart say it all)."""
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _without_stage(title: str) -> str:
    """A chart title without its stage prefix (the box already names the stage)."""
    return title.split(": ", 1)[1] if ": " in title else title
