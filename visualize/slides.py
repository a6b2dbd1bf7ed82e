"""`--preset slide`: every chart as 16:9 slides, every text at least 18 pt at 1920x1080.

The overview is one slide (guidekb.visualize.overview.slide_graph). A decision chart is laid
out at slide size (guidekb.visualize.paging.SLIDE: fonts scaled so the smallest is 18 pt,
top-down or left-to-right, whichever needs fewer slides) and, when it does not fit one slide,
split into parts joined by "continued in part N" boxes, one slide each. Each slide is a page
of exactly 13.333 x 7.5 inches: 1920x1080 at 144 dpi, written as PNG at twice that.

The file names are made here and only here (`slide_files`), so `--list` names exactly the
files `--preset slide -o FOLDER` writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import graphviz

from guidekb.visualize import style
from guidekb.visualize.chartbook import ChartBook, focus_diagram
from guidekb.visualize.overview import slide_graph
from guidekb.visualize.paging import SLIDE, Part, on_sheet, paged_chart
from guidekb.visualize.pathway import stages

OVERVIEW_SLIDE = "overview.png"


def chart_heading(book: ChartBook, k: int) -> str:
    """The heading of chart k's slides: short, since at 18 pt a long title fills the slide."""
    chart = book.charts[k]
    stage = next((s.title for s in stages(book.kb) if s.name == chart.stage), chart.title)
    return f"Chart {k + 1}: {stage}"


def chart_parts(book: ChartBook, k: int, case: Mapping[str, Any] | None = None) -> list[Part]:
    """Chart k (from 0) of the book as slide-sized parts."""
    return paged_chart(book.charts[k].diagram, chart_heading(book, k), book.next_chart(k), SLIDE, case)


def slide_files(k: int, count: int) -> list[str]:
    """The files of chart k's `count` slides: `chart-03.png`, or `chart-03-01.png`,
    `chart-03-02.png`, ... when it takes several."""
    if count == 1:
        return [f"chart-{k + 1:02d}.png"]
    return [f"chart-{k + 1:02d}-{n:02d}.png" for n in range(1, count + 1)]


def chart_slides(book: ChartBook, number: int | None = None, focus: str | None = None,
                 case: Mapping[str, Any] | None = None) -> list[graphviz.Digraph]:
    """The slides of chart `number` (from 1), of the `focus` chart, or else the overview."""
    if number is not None:
        from guidekb.visualize.export import book_chart  # raises for a number outside the book

        book_chart(book.kb, number)
        parts = chart_parts(book, number - 1, case)
    elif focus is not None:
        diagram = focus_diagram(book.kb, focus)
        heading = f"Decision chart: {style.codes_in_words(book.kb, [focus])}"
        parts = paged_chart(diagram, heading, style.ELSEWHERE, SLIDE, case)
    else:
        return [on_sheet(slide_graph(book), SLIDE)]
    return [on_sheet(part.graph, SLIDE, part.scaled) for part in parts]


def all_slides(book: ChartBook, case: Mapping[str, Any] | None = None) -> list[tuple[str, graphviz.Digraph]]:
    """Every slide, named for its file: the overview, then each chart's (`slide_files`)."""
    slides = [(OVERVIEW_SLIDE, on_sheet(slide_graph(book), SLIDE))]
    for k in range(len(book.charts)):
        parts = chart_parts(book, k, case)
        for file, part in zip(slide_files(k, len(parts)), parts, strict=True):
            slides.append((file, on_sheet(part.graph, SLIDE, part.scaled)))
    return slides


def slide_names(book: ChartBook, case: Mapping[str, Any] | None = None) -> list[list[str]]:
    """The slide files of each chart, as `all_slides` names them for the same `case`."""
    return [slide_files(k, len(chart_parts(book, k, case))) for k in range(len(book.charts))]
