"""The printed handout (`--preset handout`): one chart per A4 page, each action and
prohibition box numbered, and below the chart the numbered notes: the verbatim quotes behind
each box with their section and the article's own reference numbers, then the documents and
their numbered reference lists. A "DO NOT" box carries its reason under it.

Each chart is its own graphviz drawing, sized to the page (`size`, in inches); the pages are
joined into one PDF by poppler's `pdfunite` (Debian: poppler-utils). The overview comes first.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import graphviz

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import style
from guidekb.visualize.chartbook import ChartBook
from guidekb.visualize.dot import diagram_graph, render
from guidekb.visualize.errors import VisualizeError
from guidekb.visualize.escaping import dot_html
from guidekb.visualize.overview import overview_graph

A4_INCHES = (8.27, 11.69)
MARGIN_INCHES = 0.4
NOTE_WIDTH = 120  # characters per line of a note
_NODE = re.compile(r"^\t(\w+) \[")  # a node statement of the DOT source


def footnotes(book: ChartBook, k: int) -> dict[str, int]:
    """Code -> its footnote number in chart k: every code drawn in a box, in chart order."""
    chart = book.charts[k]
    drawn = {c for o in chart.diagram.outcomes().values() for c in (*o.recommended, *o.forbidden)}
    return {code: n for n, code in enumerate((c for c in book.kb.outcomes if c in drawn), 1)}


def _source_number(kb: KnowledgeBase) -> dict[str, int]:
    return {source: n for n, source in enumerate(kb.documents, 1)}


def note_lines(book: ChartBook, k: int) -> list[str]:
    """The numbered notes of chart k, as plain text lines: each box's text, then the quotes of
    the rules behind it (source number, section and the article's reference numbers)."""
    kb = book.kb
    sources = _source_number(kb)
    because: dict[str, list[str]] = {}
    for per_leaf in book.charts[k].diagram.because.values():
        for code, rules in per_leaf.items():
            because.setdefault(code, [])
            because[code] += [r for r in rules if r not in because[code]]
    lines: list[str] = []
    for code, n in footnotes(book, k).items():
        lines.append(f"[{n}] {style.outcome_text(kb, code)}")
        for rule_id in because.get(code, []):
            for p in kb.rule(rule_id).provenance:
                refs = f"; references {', '.join(map(str, p.refs))}" if p.refs else ""
                lines.append(f"      “{p.quote}” (source {sources[p.source]}, {p.section}{refs})")
    return lines


def reference_lines(kb: KnowledgeBase) -> list[str]:
    """Every source document, numbered, with its own numbered reference list."""
    lines: list[str] = []
    for n, document in enumerate(kb.documents.values(), 1):
        title = " ".join(document.title.split())
        lines.append(f"Source {n}: {title}. {document.publisher}, {document.date}.")
        for number, ref in sorted(document.references.items()):
            if ref.listed:
                year = str(ref.year) if ref.year else None
                bits = [b for b in (ref.kind, ref.title, ref.publisher, year) if b]
                lines.append(f"      {number}. {'. '.join(bits)}.")
            else:
                lines.append(f"      {number}. (cited in the text; not in the published reference list)")
    return lines


def _notes_node(graph: graphviz.Digraph, lines: list[str], heading: str) -> None:
    rows = [f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="12"><B>{dot_html(heading)}</B></FONT></TD></TR>']
    rows += [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="10">{dot_html(line, NOTE_WIDTH)}'
             "</FONT></TD></TR>" for line in lines]
    drawn = [m.group(1) for line in graph.body
             if (m := _NODE.match(line)) and m.group(1) not in ("graph", "node", "edge")]
    graph.node("notes", shape="plain",
               label=f'<<TABLE BORDER="0" CELLPADDING="1" CELLSPACING="0">{"".join(rows)}</TABLE>>')
    for name in drawn:  # below everything drawn: an invisible arrow from every node
        graph.edge(name, "notes", style="invis", weight="0")


def _fit_page(graph: graphviz.Digraph) -> graphviz.Digraph:
    """Scaled down (never up) to the printable part of an A4 page, on an A4 page."""
    width, height = (side - 2 * MARGIN_INCHES for side in A4_INCHES)
    graph.attr("graph", size=f"{width:.2f},{height:.2f}", page=f"{A4_INCHES[0]},{A4_INCHES[1]}",
               margin=str(MARGIN_INCHES), center="true")
    return graph


def handout_pages(book: ChartBook) -> list[graphviz.Digraph]:
    """The pages: the overview with the reference list, then one page per chart."""
    overview = overview_graph(book)
    _notes_node(overview, reference_lines(book.kb), "Sources and their reference lists")
    pages = [_fit_page(overview)]
    for k, chart in enumerate(book.charts):
        graph = diagram_graph(chart.diagram, f"chart {k + 1} of {len(book.charts)}: {chart.title}",
                              book.next_chart(k), notes=footnotes(book, k))
        _notes_node(graph, note_lines(book, k), "Notes: the source behind each numbered box")
        pages.append(_fit_page(graph))
    return pages


def handout_pdf(book: ChartBook) -> bytes:
    """The handout as one PDF, a page per chart; needs graphviz and poppler's pdfunite."""
    unite = shutil.which("pdfunite")
    if unite is None:
        raise VisualizeError("the handout PDF needs poppler's `pdfunite` to join its pages: "
                             "sudo apt-get install poppler-utils")
    with tempfile.TemporaryDirectory(prefix="guidekb-handout-") as folder:
        names = []
        for n, page in enumerate(handout_pages(book)):
            path = Path(folder) / f"page-{n:03d}.pdf"
            path.write_bytes(render(page, "pdf"))
            names.append(str(path))
        joined = Path(folder) / "handout.pdf"
        subprocess.run([unite, *names, str(joined)], check=True, capture_output=True)
        return joined.read_bytes()
