"""Both views in every format, for the CLI and for `make demo`.

`chart(kb, view, fmt, focus)` returns the bytes of one file; `write_all(kb, folder)` writes
every view in every format (and one decision chart per code, for slides and handouts), safely:
see guidekb.visualize.output_files.
Without the graphviz `dot` program, DOT and Mermaid are still written and the formats that
need `dot` are reported as skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import graphviz

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import style
from guidekb.visualize.chartbook import chart_book, focus_diagram
from guidekb.visualize.decisions import Diagram
from guidekb.visualize.dot import book_graph, diagram_graph, dot_available, render, rules_graph
from guidekb.visualize.errors import GraphvizMissing, UnknownCode, VisualizeError
from guidekb.visualize.graph import knowledge_graph, leading_to
from guidekb.visualize.html import html_page
from guidekb.visualize.mermaid import book_mermaid, diagram_mermaid, overview_mermaid, rules_mermaid
from guidekb.visualize.output_files import OutputFolder
from guidekb.visualize.overview import overview_graph
from guidekb.visualize.patient import follow
from guidekb.visualize.text_version import chart_items, html_list, html_path, markdown_book, path_items

VIEWS = ("overview", "decisions", "rules")
FORMATS = ("svg", "png", "pdf", "dot", "mermaid", "html", "markdown")
NEEDS_DOT = ("svg", "png", "pdf", "html")
EXTENSIONS = {"svg": "svg", "png": "png", "pdf": "pdf", "dot": "dot", "mermaid": "mmd", "html": "html",
              "markdown": "md"}
TEXT_FORMATS = ("svg", "dot", "mermaid", "html", "markdown")


def _check_focus(kb: KnowledgeBase, focus: str | None) -> None:
    if focus is not None and focus not in kb.outcomes:
        raise UnknownCode(focus, kb)


def book_chart(kb: KnowledgeBase, number: int) -> tuple[Diagram, str, str]:
    """Chart `number` (from 1) of the book: its diagram, its heading and where its open leaves
    point; a number outside the book is a VisualizeError naming the range."""
    book = chart_book(kb)
    if not 1 <= number <= len(book.charts):
        raise VisualizeError(f"there is no chart {number}: the book has charts 1 to {len(book.charts)} "
                             "(guidekb flowchart --list)")
    one = book.charts[number - 1]
    return one.diagram, f"chart {number} of {len(book.charts)}: {one.title}", book.next_chart(number - 1)


def drawing(kb: KnowledgeBase, view: str, focus: str | None = None,
            case: Mapping[str, Any] | None = None, number: int | None = None) -> graphviz.Digraph:
    """The graphviz drawing of a view (with a `case`: its path through the decision charts;
    with a `number`: that chart of the book alone)."""
    _check_focus(kb, focus)
    if number is not None:
        diagram, heading, elsewhere = book_chart(kb, number)
        return diagram_graph(diagram, heading, elsewhere, case)
    if view == "rules":
        graph = knowledge_graph(kb)
        return rules_graph(graph if focus is None else leading_to(graph, kb, focus), kb, focus)
    if view == "overview":
        return overview_graph(chart_book(kb))
    if focus is not None:
        return diagram_graph(focus_diagram(kb, focus), case=case)
    return book_graph(chart_book(kb), case)


def mermaid(kb: KnowledgeBase, view: str, focus: str | None = None,
            case: Mapping[str, Any] | None = None, number: int | None = None) -> str:
    """A view as Mermaid; with a `case`, its path through the decision charts."""
    _check_focus(kb, focus)
    if number is not None:
        return diagram_mermaid(book_chart(kb, number)[0], case)
    if view == "rules":
        graph = knowledge_graph(kb)
        return rules_mermaid(graph if focus is None else leading_to(graph, kb, focus), kb, focus)
    if view == "overview":
        return overview_mermaid(chart_book(kb))
    if focus is not None:
        return diagram_mermaid(focus_diagram(kb, focus), case)
    return book_mermaid(chart_book(kb), case)


def _text_version(diagram: Diagram, elsewhere: str, case: Mapping[str, Any] | None) -> str:
    """The text version under a chart of the HTML page; with a `case`, first the patient's
    path as numbered steps (shown), and the same steps marked in the (folded) nested list."""
    path = None if case is None else follow(diagram, case)
    items = chart_items(diagram, elsewhere, path)
    shown = "" if path is None else (
        f'<div class="patient">This patient:{html_path(path_items(diagram, elsewhere, path))}</div>')
    return f'{shown}<details class="text-version"><summary>Text version</summary>{html_list(items)}</details>'


def _view_name(kb: KnowledgeBase, view: str, focus: str | None) -> str:
    name = {"overview": "clinical pathway overview", "decisions": "decision chart"}.get(view, "rule graph")
    return name if focus is None else f"{name}: {style.codes_in_words(kb, [focus])}"


def chart(kb: KnowledgeBase, view: str, fmt: str, focus: str | None = None, dpi: int | None = None,
          case: Mapping[str, Any] | None = None, case_name: str | None = None,
          number: int | None = None) -> bytes:
    """One view in one format, as the bytes of the file to write (`dpi`: PNG resolution;
    `case`: a validated case whose path through the decision charts is highlighted in every
    format, `case_name` naming it in the text version; `number`: one chart of the book)."""
    if number is not None and (view != "decisions" or focus is not None):
        raise VisualizeError("--chart N draws chart N of the decision charts: leave out --view and --focus")
    if fmt == "mermaid":
        return mermaid(kb, view, focus, case, number).encode()
    if fmt == "markdown":
        if view != "decisions" or focus is not None or number is not None:
            raise VisualizeError("the text version (markdown) is written for the decision charts: "
                                 "use --view decisions without --focus")
        return markdown_book(chart_book(kb), case, case_name).encode()
    if fmt in NEEDS_DOT and not dot_available():
        raise GraphvizMissing(fmt)
    graph = drawing(kb, view, focus, case, number)
    if fmt == "dot":
        source: str = graph.source
        return source.encode()
    if fmt == "html":
        whole_book = view == "decisions" and focus is None and number is None
        if whole_book and len(book := chart_book(kb).charts) > 1:
            whole = chart_book(kb)
            charts = [(f"{k + 1}. {c.title}",
                       render(diagram_graph(c.diagram, f"decision chart {k + 1} of {len(book)}",
                                            whole.next_chart(k), case), "svg").decode()
                       + _text_version(c.diagram, whole.next_chart(k), case))
                      for k, c in enumerate(book)]
            overview = render(overview_graph(chart_book(kb)), "svg").decode()
            view_name = "decision charts"
            if case is not None:
                view_name += f" · the path of {case_name or 'a case'}"
            return html_page(kb, charts, view_name, overview).encode()
        svg = render(graph, "svg").decode()
        if view == "decisions":  # one chart: its text version (and a case's path) under it
            if number is not None:
                diagram, _, elsewhere = book_chart(kb, number)
            else:
                diagram = (focus_diagram(kb, focus) if focus is not None
                           else chart_book(kb).charts[0].diagram)
                elsewhere = style.ELSEWHERE if focus is not None else style.NOWHERE
            svg += _text_version(diagram, elsewhere, case)
        return html_page(kb, svg, _view_name(kb, view, focus)).encode()
    return render(graph, fmt, dpi)


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # formats not written: no `dot` program


def write_all(kb: KnowledgeBase, folder: Path, per_code: bool = True, force: bool = False) -> Written:
    """Both views in every format into `folder`, plus (with `per_code`) one decision chart per
    code as SVG and PNG in `folder/by-code/`. Formats needing `dot` are skipped without it.

    Written as a set by guidekb.visualize.output_files: every target is checked before
    anything is written (a symlink, or a file guidekb did not write, unless `force`, is
    refused), each file is replaced atomically, and the folder is marked INCOMPLETE until the
    last file is written."""
    result = Written()
    formats = [f for f in FORMATS if f not in NEEDS_DOT or dot_available()]
    result.skipped = [f for f in FORMATS if f not in formats]
    plan = _plan(kb, formats, per_code and dot_available())
    with OutputFolder(folder, force=force) as out:
        out.begin_set(name for name, _ in plan)
        for name, make in plan:
            result.files.append(out.write(name, make()))
        out.end_set()
    return result


def _plan(kb: KnowledgeBase, formats: list[str], per_code: bool) -> list[tuple[str, Callable[[], bytes]]]:
    """The files of `write_all`, each a name and how to make its bytes (made one at a time,
    after every name has been checked)."""
    plan: list[tuple[str, Callable[[], bytes]]] = [
        (f"{view}.{EXTENSIONS[fmt]}", partial(chart, kb, view, fmt)) for view in VIEWS for fmt in formats
        if fmt != "markdown" or view == "decisions"]
    if per_code:
        acted = {c for r in kb.rules for c in [*r.then.recommend, *(p.code for p in r.then.forbid)]}
        graphs: dict[str, graphviz.Digraph] = {}

        def code_chart(code: str, fmt: str) -> bytes:
            if code not in graphs:
                graphs[code] = diagram_graph(focus_diagram(kb, code))
            return render(graphs[code], fmt)

        plan += [(f"by-code/{code}.{fmt}", partial(code_chart, code, fmt))
                 for code in kb.outcomes if code in acted for fmt in ("svg", "png")]
    return plan
