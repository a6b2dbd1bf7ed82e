"""Charts laid out to fit a page or a slide at their own font size, never shrunk to fit.

A printed chart is only useful if its text can be read: shrinking a tall chart onto an A4
page makes its 11 pt text 5 pt. So a chart is drawn at its normal size (or, for a slide, with
every font scaled up so the smallest is 18 pt at 1920x1080), measured (graphviz's own SVG
size, in points), and when it does not fit, split into parts: each part holds as many
questions as fit, in the order a reader meets them, and an arrow leading to a question of a
later part ends in a dashed box "continued in part 2: <question>"; that part's heading says
"part 2 of 3, continued from part 1". Slides also try a left-to-right layout and keep the one
needing fewer parts.

Only if a single question with its answers cannot fit is a part drawn scaled down: `Part.scaled`
says so, the tests document which (none for the default knowledge base), and the CLI warns.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import graphviz

from guidekb.visualize import style
from guidekb.visualize.decisions import Decision, Diagram, Outcome
from guidekb.visualize.dot import SPOKEN, _draw_diagram, _new_graph, _path, render
from guidekb.visualize.escaping import dot_html
from guidekb.visualize.spoken import spoken_names

POINTS = 72.0


@dataclass(frozen=True)
class Sheet:
    """A page or a slide: its size in inches, its margin, the font scale and the layouts to try."""

    name: str
    width: float
    height: float
    margin: float
    font_scale: float = 1.0
    directions: tuple[str, ...] = ("TB",)
    legend: bool = True

    @property
    def room(self) -> tuple[float, float]:
        """The printable width and height, in points."""
        return ((self.width - 2 * self.margin) * POINTS, (self.height - 2 * self.margin) * POINTS)


A4 = Sheet("a4", 8.27, 11.69, 0.4, directions=("TB", "LR"))
LETTER = Sheet("letter", 8.5, 11.0, 0.4, directions=("TB", "LR"))
PAPERS = {"a4": A4, "letter": LETTER}
SLIDE = Sheet("slide", 13.333, 7.5, 0.15, font_scale=1.8, directions=("TB", "LR"), legend=False)


@dataclass(frozen=True)
class Part:
    """One page (or slide) of a chart: its drawing and whether it had to be shrunk."""

    graph: graphviz.Digraph
    number: int
    count: int
    scaled: bool = False


_SIZES = re.compile(r'((?:fontsize|POINT-SIZE)=)"?([\d.]+)"?')


def scale_fonts(graph: graphviz.Digraph, factor: float) -> graphviz.Digraph:
    """The drawing with every font size multiplied by `factor` (the slide's 18 pt minimum)."""
    if factor == 1.0:
        return graph
    scaled = graph.copy()
    scaled.body = [_SIZES.sub(lambda m: f'{m.group(1)}"{float(m.group(2)) * factor:g}"', line)
                   for line in scaled.body]
    setattr(scaled, SPOKEN, getattr(graph, SPOKEN, None))
    return scaled


def natural_size(graph: graphviz.Digraph) -> tuple[float, float]:
    """The drawing's width and height in points, unscaled (graphviz's SVG size)."""
    return _measured(graph.source)


@functools.lru_cache(maxsize=512)
def _measured(source: str) -> tuple[float, float]:
    """Measured once per DOT source: paging tries many layouts, and the handout and the
    slides measure the same parts again when they place them."""
    root = ET.fromstring(render(graphviz.Source(source), "svg"))
    return float(root.attrib["width"].removesuffix("pt")), float(root.attrib["height"].removesuffix("pt"))


def fits(graph: graphviz.Digraph, sheet: Sheet) -> bool:
    width, height = natural_size(graph)
    room_w, room_h = sheet.room
    return width <= room_w and height <= room_h


def on_sheet(graph: graphviz.Digraph, sheet: Sheet, scaled: bool = False) -> graphviz.Digraph:
    """The drawing at its own size, centred on a page exactly the sheet's size: graphviz's PDF
    page is the drawing's size, so the padding around it makes up the rest. (`scaled`: shrunk
    to the printable part first, the last resort for a part that cannot fit.)"""
    placed = graph.copy()
    setattr(placed, SPOKEN, getattr(graph, SPOKEN, None))
    placed.attr("graph", pad=str(_PAD))
    if scaled:
        room_w, room_h = sheet.room
        placed.attr("graph", size=f"{room_w / POINTS:.3f},{room_h / POINTS:.3f}")
    width, height = natural_size(placed)
    pad_w = max(0.0, (sheet.width * POINTS - width) / 2) / POINTS + _PAD
    pad_h = max(0.0, (sheet.height * POINTS - height) / 2) / POINTS + _PAD
    placed.attr("graph", pad=f"{pad_w:.3f},{pad_h:.3f}", margin="0")  # PDF adds 0.5 in otherwise
    return placed


_PAD = 0.05  # inches: the padding of a measured drawing (part of its natural size)


def _heading(diagram: Diagram, heading: str, sheet: Sheet, part: int, count: int,
             sources: list[int]) -> str:
    """The title of one part: the chart's heading, which part and which parts lead to it,
    and (on paper) the knowledge base and a compact legend of two rows; wrapped to the
    sheet's width at its font size."""
    kb = diagram.kb
    came = ", ".join(str(n) for n in sources)
    which = "" if count == 1 else f" (part {part} of {count}" + (
        f", continued from part {came})" if sources else ")")
    room_w = sheet.room[0]
    title = dot_html(heading + which, int(room_w / (14 * sheet.font_scale * 0.75)), "CENTER")
    about = dot_html(f"{kb.manifest.title} · {kb.id} version {kb.version}",
                     int(room_w / (10 * sheet.font_scale * 0.7)), "CENTER")
    rows = [f'<TR><TD><FONT POINT-SIZE="14"><B>{title}</B></FONT></TD></TR>']
    if sheet.legend:
        rows.append(f'<TR><TD><FONT POINT-SIZE="10" COLOR="#555555">{about}</FONT></TD></TR>')
        cells = [("Question: follow the answer", style.DECISION_FILL, style.DECISION_LINE, 'STYLE="rounded"'),
                 ("Recommended action", style.ACTION_FILL, style.ACTION_LINE, 'STYLE="rounded"'),
                 (f"{style.DO_NOT}: prohibited", style.PROHIBITION_FILL, style.PROHIBITION_LINE,
                  f'BORDER="{style.PROHIBITION_BORDER}"'),
                 ("unknown = not recorded", "#FFFFFF", "#9E9E9E", 'STYLE="rounded"')]
        tds = [f'<TD BGCOLOR="{fill}" COLOR="{line}" {extra}><FONT POINT-SIZE="10">{dot_html(text)}'
               "</FONT></TD>" for text, fill, line, extra in cells]
        rows.append(f'<TR><TD><TABLE BORDER="0" CELLSPACING="4"><TR>{"".join(tds[:2])}</TR>'
                    f'<TR>{"".join(tds[2:])}</TR></TABLE></TD></TR>')
    return f'<<TABLE BORDER="0" CELLPADDING="1">{"".join(rows)}</TABLE>>'


def _reachable(diagram: Diagram, entry: int, placed: set[int]) -> list[int]:
    """The questions below `entry` that no part has taken, depth-first (one branch down
    before the next, so that a part stays narrow), `entry` first."""
    order: list[int] = []
    stack = [entry]
    while stack:
        node_id = stack.pop()
        if node_id in placed or node_id in order:
            continue
        order.append(node_id)
        node = diagram.nodes[node_id]
        assert isinstance(node, Decision)
        stack += [b.child for b in reversed(node.branches) if isinstance(diagram.nodes[b.child], Decision)]
    return order


def _children(diagram: Diagram, node_id: int) -> set[int]:
    node = diagram.nodes[node_id]
    return {b.child for b in node.branches} if isinstance(node, Decision) else set()


def _grow(diagram: Diagram, fits_part: Callable[[list[int]], bool]) -> tuple[list[list[int]], bool]:
    """Parts grown one question at a time while the part still fits: from the root, then from
    each question an arrow of an earlier part leads to, in the order the arrows meet them.
    Returns the parts and whether every one fits (a single question may not)."""
    parts: list[list[int]] = []
    placed: set[int] = set()
    entries = [diagram.root]
    all_fit = True
    while entries:
        entry = entries.pop(0)
        if entry in placed or not isinstance(diagram.nodes[entry], Decision):
            continue
        part = [entry]
        all_fit &= fits_part(part)
        for candidate in _reachable(diagram, entry, placed)[1:]:
            below_part = any(candidate in _children(diagram, i) for i in part)
            if below_part and fits_part([*part, candidate]):
                part.append(candidate)
        placed.update(part)
        parts.append(part)
        for node_id in part:
            node = diagram.nodes[node_id]
            assert isinstance(node, Decision)
            entries += [b.child for b in node.branches
                        if isinstance(diagram.nodes[b.child], Decision) and b.child not in placed]
    return parts, all_fit


def _draw_parts(diagram: Diagram, heading: str, elsewhere: str, sheet: Sheet, direction: str,
                split: list[list[int]], case: Mapping[str, Any] | None,
                notes: Mapping[str, int] | None) -> list[graphviz.Digraph]:
    where = {node_id: k for k, part in enumerate(split) for node_id in part}
    questions = diagram.decisions()
    always = diagram.in_every_case() if questions else Outcome((), ())
    continued = {n: f"Continued in part {where[n] + 1} ▸ {diagram.question(questions[n]).text}"
                 for n in where}
    graphs = []
    for k, part in enumerate(split):
        sources = sorted({where[i] + 1 for i in where if where[i] != k and _children(diagram, i) & set(part)})
        graph = _new_graph("decisions")
        label = _heading(diagram, heading, sheet, k + 1, len(split), sources)
        graph.attr("graph", label=label, rankdir=direction,
                   pad=str(_PAD))
        _draw_diagram(graph, diagram, "n", always, elsewhere, _path(diagram, case), notes,
                      only=frozenset(part) if len(split) > 1 else None, continued=continued)
        setattr(graph, SPOKEN, spoken_names(diagram, "n", elsewhere, always))
        graphs.append(scale_fonts(graph, sheet.font_scale))
    return graphs


def paged_chart(diagram: Diagram, heading: str, elsewhere: str, sheet: Sheet,
                case: Mapping[str, Any] | None = None, notes: Mapping[str, int] | None = None) -> list[Part]:
    """The chart drawn on as few sheets as it needs at its own font size (times the sheet's
    font scale): the whole chart when it fits, else parts grown one question at a time
    while they fit, in each of the sheet's layouts (the one with fewer parts wins). Each
    part's drawing is unplaced: `on_sheet` puts it on its page."""
    room_w, room_h = sheet.room

    def size_ok(graph: graphviz.Digraph, slack: float = 1.0) -> bool:
        width, height = natural_size(graph)
        return width <= room_w * slack and height <= room_h * slack

    best: tuple[list[list[int]], str, bool] | None = None
    for direction in sheet.directions:
        whole = [list(diagram.decisions())]
        if size_ok(_draw_parts(diagram, heading, elsewhere, sheet, direction, whole, case, notes)[0]):
            best = (whole, direction, True)
            break

        def fits_part(part: list[int], direction: str = direction) -> bool:
            trial = [part, [n for n in diagram.decisions() if n not in part]]  # the rest: "part 2"
            graph = _draw_parts(diagram, heading, elsewhere, sheet, direction, trial, case, notes)[0]
            return size_ok(graph, 0.95)  # room for the final "continued in part N" texts

        parts, all_fit = _grow(diagram, fits_part)
        if best is None or (all_fit, -len(parts)) > (best[2], -len(best[0])):
            best = (parts, direction, all_fit)
    assert best is not None
    split, direction, _ = best
    graphs = _draw_parts(diagram, heading, elsewhere, sheet, direction, split, case, notes)
    return [Part(g, k + 1, len(graphs), not size_ok(g)) for k, g in enumerate(graphs)]
