"""`guidekb flowchart --list`: the charts of a knowledge base, for people and for programs.

Each chart of the book is listed with its number and id (`chart-3`: what `--chart 3` draws
and the anchor of the HTML page), its title in words, its pathway stage, the advice it
decides, and the files that hold it: the anchor in the `--all` HTML page, its `by-code/`
drawings, and its slides, named by guidekb.visualize.slides exactly as `--preset slide -o
FOLDER` writes them (a chart too big for one slide at 18 pt has several; finding out how many
lays the charts out, so it needs graphviz: without it no slide is listed, as none can be
written). The JSON shape is published in
docs/schema/output/flowchart-list.json (tests validate real output against it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guidekb.visualize.chartbook import ChartBook
from guidekb.visualize.dot import dot_available
from guidekb.visualize.overview import chart_anchor
from guidekb.visualize.pathway import stages
from guidekb.visualize.slides import OVERVIEW_SLIDE, slide_names


def listing(book: ChartBook, case: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The charts as plain data (the JSON of `--list --format json`); the slide files are
    those of an export with `case` (a patient's path), if given."""
    kb = book.kb
    titles = {stage.name: stage.title for stage in stages(kb)}
    charts = []
    slides = slide_names(book, case) if dot_available() else [[] for _ in book.charts]
    for k, chart in enumerate(book.charts):
        codes = list(chart.codes) or [c for o in chart.diagram.outcomes().values()
                                      for c in (*o.recommended, *o.forbidden) if c in kb.outcomes]
        codes = list(dict.fromkeys(codes))
        charts.append({
            "number": k + 1,
            "id": chart_anchor(k),
            "title": chart.title,
            "stage": {"name": chart.stage, "title": titles.get(chart.stage, chart.stage)},
            "questions": len(chart.diagram.decisions()),
            "advice": [{"code": c, "text": kb.outcomes[c].text} for c in codes],
            "conclusion": chart.conclusion,
            "files": {
                "html": f"decisions.html#{chart_anchor(k)}",
                "by_code": [f"by-code/{c}.{ext}" for c in codes for ext in ("svg", "png")],
                "slides": slides[k],
            },
        })
    return {
        "kb": {"id": kb.id, "version": kb.version, "title": kb.manifest.title},
        "overview": {"id": "overview", "title": "Clinical pathway: overview",
                     "files": {"html": "decisions.html#overview", "all": "overview.svg",
                               "slide": OVERVIEW_SLIDE}},
        "stages": [{"name": s.name, "title": s.title} for s in stages(kb)],
        "charts": charts,
        "in_every_case": {"recommended": list(book.in_every_case.recommended),
                          "forbidden": list(book.in_every_case.forbidden)},
    }


def listing_text(book: ChartBook, case: Mapping[str, Any] | None = None) -> str:
    """The charts as lines a person reads: number, stage and title, and what draws it."""
    data = listing(book, case)
    lines = [f"{data['kb']['title']} ({data['kb']['id']} {data['kb']['version']}): "
             f"{len(data['charts'])} decision charts", "",
             "overview  Clinical pathway: overview  (--view overview)"]
    for chart in data["charts"]:
        asked = f"{chart['questions']} question{'' if chart['questions'] == 1 else 's'}"
        lines.append(f"chart-{chart['number']:<3} {chart['title']}  ({asked}; --chart {chart['number']})")
        lines.append(f"          {_slides_in_words(chart['files']['slides'])}")
    return "\n".join(lines) + "\n"


def _slides_in_words(names: list[str]) -> str:
    """'slide: chart-01.png', or 'slides: chart-08-01.png … chart-08-17.png (17)': the files
    of `--preset slide -o FOLDER` (numbered without gaps, so first and last name them all)."""
    if not names:
        return "slides: need graphviz (sudo apt-get install graphviz)"
    if len(names) == 1:
        return f"slide: {names[0]}"
    return f"slides: {names[0]} … {names[-1]} ({len(names)})"
