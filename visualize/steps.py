"""`--case CASE --steps -o FOLDER`: a patient's path taught one step at a time, one 16:9 slide
per step, for walking a class through a case.

Each step is a slide exactly like `--preset slide` makes (guidekb.visualize.paging.SLIDE:
16:9, every text at least 18 pt at 1920x1080), and a chart too big for one slide is split
into the same parts as its slides, laid out once for the whole path so that the parts do not
move between steps. Step k shows the part holding the k-th arrow: the path so far bold and
numbered, the k-th arrow and the question it leads to in blue, the rest grey; the last step
shows the advice the path ends in (on its own part when the box is a big one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import graphviz

from guidekb.visualize import style
from guidekb.visualize.chartbook import ChartBook
from guidekb.visualize.decisions import Diagram, Outcome
from guidekb.visualize.paging import SLIDE, chart_layout, draw_piece, on_sheet
from guidekb.visualize.patient import follow
from guidekb.visualize.slides import chart_heading


def _charts(book: ChartBook, case: Mapping[str, Any], focus: Diagram | None,
            focus_heading: str) -> list[tuple[int, Diagram, str, str]]:
    """(number from 0, diagram, where open leaves point, heading) of the charts to step
    through: the `focus` chart, else each chart of the book whose path ends in advice."""
    if focus is not None:
        return [(0, focus, style.ELSEWHERE, focus_heading)]
    charts = []
    for k, chart in enumerate(book.charts):
        leaf = chart.diagram.nodes[follow(chart.diagram, case).leaf]
        if isinstance(leaf, Outcome) and (leaf.recommended or leaf.forbidden):
            charts.append((k, chart.diagram, book.next_chart(k), chart_heading(book, k)))
    return charts


def step_slides(book: ChartBook, case: Mapping[str, Any], focus: Diagram | None = None,
                focus_heading: str = "Decision chart") -> list[tuple[str, graphviz.Digraph]]:
    """One slide per step of the case's path, each placed on its 16:9 page, named
    "chart-<n>-step-<k>.png" for its file."""
    slides: list[tuple[str, graphviz.Digraph]] = []
    for k, diagram, elsewhere, heading in _charts(book, case, focus, focus_heading):
        path = follow(diagram, case)
        count = len(path.steps)
        longest = f"{heading} · step {count} of {count}"  # the parts are laid out for the longest heading
        layout = chart_layout(diagram, longest, elsewhere, SLIDE, case)
        for n in range(1, count + 1):
            current = path.steps[n - 1]
            shown = next(i for i, piece in enumerate(layout.pieces) if current[0] in piece.questions)
            last_box = [i for i, piece in enumerate(layout.pieces) if piece.leaf == path.leaf]
            if n == count and last_box:
                shown = last_box[0]
            part = draw_piece(diagram, f"{heading} · step {n} of {count}", elsewhere, SLIDE, layout, shown,
                              path.upto(diagram, n), current)
            slides.append((f"chart-{k + 1:02d}-step-{n:02d}.png", on_sheet(part.graph, SLIDE, part.scaled)))
    return slides
