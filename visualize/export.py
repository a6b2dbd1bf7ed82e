"""Both views in every format, for the CLI and for `make demo`.

`chart(kb, view, fmt, focus)` returns the bytes of one file; `write_all(kb, folder)` writes
every view in every format (and one decision chart per code, for slides and handouts).
Without the graphviz `dot` program, DOT and Mermaid are still written and the formats that
need `dot` are reported as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import graphviz

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.dot import book_graph, diagram_graph, dot_available, render, rules_graph
from guidekb.visualize.errors import GraphvizMissing, UnknownCode
from guidekb.visualize.graph import knowledge_graph, leading_to
from guidekb.visualize.html import html_page
from guidekb.visualize.mermaid import book_mermaid, diagram_mermaid, rules_mermaid
from guidekb.visualize.ordering import compact_diagram

VIEWS = ("decisions", "rules")
FORMATS = ("svg", "png", "pdf", "dot", "mermaid", "html")
NEEDS_DOT = ("svg", "png", "pdf", "html")
EXTENSIONS = {"svg": "svg", "png": "png", "pdf": "pdf", "dot": "dot", "mermaid": "mmd", "html": "html"}
TEXT_FORMATS = ("svg", "dot", "mermaid", "html")


def _check_focus(kb: KnowledgeBase, focus: str | None) -> None:
    if focus is not None and focus not in kb.outcomes:
        raise UnknownCode(focus, kb)


def drawing(kb: KnowledgeBase, view: str, focus: str | None = None) -> graphviz.Digraph:
    """The graphviz drawing of a view."""
    _check_focus(kb, focus)
    if view == "rules":
        graph = knowledge_graph(kb)
        return rules_graph(graph if focus is None else leading_to(graph, kb, focus), kb, focus)
    if focus is not None:
        return diagram_graph(compact_diagram(kb, focus))
    return book_graph(chart_book(kb))


def mermaid(kb: KnowledgeBase, view: str, focus: str | None = None) -> str:
    _check_focus(kb, focus)
    if view == "rules":
        graph = knowledge_graph(kb)
        return rules_mermaid(graph if focus is None else leading_to(graph, kb, focus), kb, focus)
    if focus is not None:
        return diagram_mermaid(compact_diagram(kb, focus))
    return book_mermaid(chart_book(kb))


def _view_name(view: str, focus: str | None) -> str:
    name = "decision chart" if view == "decisions" else "rule graph"
    return name if focus is None else f"{name} for {focus}"


def chart(kb: KnowledgeBase, view: str, fmt: str, focus: str | None = None, dpi: int | None = None) -> bytes:
    """One view in one format, as the bytes of the file to write (`dpi`: PNG resolution)."""
    if fmt == "mermaid":
        return mermaid(kb, view, focus).encode()
    if fmt in NEEDS_DOT and not dot_available():
        raise GraphvizMissing(fmt)
    graph = drawing(kb, view, focus)
    if fmt == "dot":
        source: str = graph.source
        return source.encode()
    if fmt == "html":
        if view == "decisions" and focus is None and len(book := chart_book(kb).charts) > 1:
            charts = [(f"{k + 1}. {', '.join(c.codes)}",
                       render(diagram_graph(c.diagram, f"decision chart {k + 1} of {len(book)}"), "svg")
                       .decode()) for k, c in enumerate(book)]
            return html_page(kb, charts, "decision charts").encode()
        svg = render(graph, "svg").decode()
        return html_page(kb, svg, _view_name(view, focus)).encode()
    return render(graph, fmt, dpi)


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # formats not written: no `dot` program


def write_all(kb: KnowledgeBase, folder: Path, per_code: bool = True) -> Written:
    """Both views in every format into `folder`, plus (with `per_code`) one decision chart per
    code as SVG and PNG in `folder/by-code/`. Formats needing `dot` are skipped without it."""
    folder.mkdir(parents=True, exist_ok=True)
    result = Written()
    formats = [f for f in FORMATS if f not in NEEDS_DOT or dot_available()]
    result.skipped = [f for f in FORMATS if f not in formats]
    for view in VIEWS:
        for fmt in formats:
            path = folder / f"{view}.{EXTENSIONS[fmt]}"
            path.write_bytes(chart(kb, view, fmt))
            result.files.append(path)
    if per_code and dot_available():
        codes_folder = folder / "by-code"
        codes_folder.mkdir(exist_ok=True)
        acted = {c for r in kb.rules for c in [*r.then.recommend, *(p.code for p in r.then.forbid)]}
        for code in kb.outcomes:
            if code in acted:
                graph = diagram_graph(compact_diagram(kb, code))
                for fmt in ("svg", "png"):
                    path = codes_folder / f"{code}.{fmt}"
                    path.write_bytes(render(graph, fmt))
                    result.files.append(path)
    return result
