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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import graphviz

from guidekb.visualize import style
from guidekb.visualize.decisions import Decision, Diagram, Outcome, without
from guidekb.visualize.dot import (
    DECISION_LEGEND,
    SPOKEN,
    _draw_diagram,
    _new_graph,
    _path,
    decision_legend,
    outcome_label,
)
from guidekb.visualize.escaping import dot_html, dot_text
from guidekb.visualize.labels import edge_label
from guidekb.visualize.measure import measure, measure_all
from guidekb.visualize.patient import PatientPath
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
    wrap: int = 22  # characters to a line in a question
    shape: str = "diamond"  # a question's outline
    box_wrap: int | None = None  # characters to a line in a dashed "continued" or "find out" box
    spacing: tuple[str, str] = ("0.35", "0.45")  # nodesep, ranksep (inches)
    question_size: str = "11"  # points, before `font_scale`
    terse: bool = False  # "▸ part 5: <question>" for "Continued in part 5 ▸ <question>", ...

    @property
    def room(self) -> tuple[float, float]:
        """The printable width and height, in points."""
        return ((self.width - 2 * self.margin) * POINTS, (self.height - 2 * self.margin) * POINTS)


# Pages and slides draw questions as rounded boxes wrapped at 16 characters, answers on the
# arrows, tight spacing, one-line "▸ Part 5: <question>" boxes and questions at the 10 pt of
# the rest (18 pt on a slide): measured on the default knowledge base's chart 5 (31
# questions), diamonds at 11 pt with "Continued in part 5 ▸ ..." took 24 slides, this 14.
PAPER = Sheet("paper", 0, 0, 0.4, directions=("TB", "LR"), wrap=16, shape="box", box_wrap=22,
              spacing=("0.15", "0.25"), question_size="10", terse=True)
A4 = replace(PAPER, name="a4", width=8.27, height=11.69)
LETTER = replace(PAPER, name="letter", width=8.5, height=11.0)
PAPERS = {"a4": A4, "letter": LETTER}
SLIDE = replace(PAPER, name="slide", width=13.333, height=7.5, margin=0.15, font_scale=1.8, legend=False)


@dataclass(frozen=True)
class Piece:
    """What one part of a chart shows: some of its questions (with the boxes their arrows
    lead to), or one advice box on its own, rows `rows[0]` to `rows[1]` of it (a box of
    more advice than fits beside its question: ten recommendations at 18 pt fill a slide)."""

    questions: tuple[int, ...] = ()
    leaf: int | None = None
    rows: tuple[int, int] = (0, 0)
    direction: str | None = None  # when not the chart's: a question too wide one way


@dataclass(frozen=True)
class Layout:
    """How a chart is split for a sheet: its pieces in reading order and the direction."""

    pieces: tuple[Piece, ...]
    direction: str
    fits: bool = True


@dataclass(frozen=True)
class Part:
    """One page (or slide) of a chart: its drawing, what it shows, and whether it had to be
    shrunk (never, for the default knowledge base: the tests check every part)."""

    graph: graphviz.Digraph
    number: int
    count: int
    scaled: bool = False
    piece: Piece = Piece()


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
    drawn = measure(graph.source)
    return drawn.width, drawn.height


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
    came = _ranges(sources)
    word = "part" if len(sources) == 1 else "parts"
    which = "" if count == 1 else f" (part {part} of {count}" + (
        f", continued from {word} {came})" if sources else ")")
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
        extra_cells = decision_legend([diagram])[len(DECISION_LEGEND):]  # milestones, conclusions
        cells += [(text, fill, line, 'STYLE="rounded"') for text, fill, line in extra_cells]
        tds = [f'<TD BGCOLOR="{fill}" COLOR="{line}" {extra}><FONT POINT-SIZE="10">{dot_html(text)}'
               "</FONT></TD>" for text, fill, line, extra in cells]
        rows.append(f'<TR><TD><TABLE BORDER="0" CELLSPACING="4"><TR>{"".join(tds[:2])}</TR>'
                    f'<TR>{"".join(tds[2:4])}</TR>'
                    + "".join(f"<TR>{td}</TR>" for td in tds[4:]) + "</TABLE></TD></TR>")
    return f'<<TABLE BORDER="0" CELLPADDING="1">{"".join(rows)}</TABLE>>'


def _ranges(numbers: Sequence[int]) -> str:
    """'1–3, 5, 7–9': the parts a shared question is reached from, short enough for a
    heading (a question reached from twelve parts listed them over three lines)."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}, {r[1]}" if len(r) == 2 else f"{r[0]}–{r[-1]}"
                     for r in runs)


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


def _advice(diagram: Diagram, leaf: int) -> list[tuple[str, bool]]:
    """The rows of an advice box as drawn: (code, forbidden), recommendations first."""
    node = diagram.nodes[leaf]
    assert isinstance(node, Outcome)
    shown = without(node, _always(diagram))
    return [(c, False) for c in shown.recommended] + [(c, True) for c in shown.forbidden]


def _always(diagram: Diagram) -> Outcome:
    return diagram.in_every_case() if diagram.decisions() else Outcome((), ())


def _in_words(rows: Sequence[tuple[str, bool]]) -> str:
    """'6 actions, 3 prohibitions': what a box drawn elsewhere holds."""
    done = sum(not forbidden for _, forbidden in rows)
    banned = len(rows) - done
    bits = [f"{done} action{'s' * (done != 1)}"] if done else []
    bits += [f"{banned} prohibition{'s' * (banned != 1)}"] if banned else []
    return ", ".join(bits)


Trial = tuple[list[int], frozenset[int], str]  # a first part's questions, boxes drawn alone, direction


class _Chart:
    """One chart being fitted to a sheet: draws any split of it, and measures trials in
    batches (one `dot` process for many)."""

    def __init__(self, diagram: Diagram, heading: str, elsewhere: str, sheet: Sheet,
                 path: PatientPath | None, notes: Mapping[str, int] | None) -> None:
        self.diagram, self.heading, self.elsewhere, self.sheet = diagram, heading, elsewhere, sheet
        self.path, self.notes = path, notes

    # --- drawing ---------------------------------------------------------------------------

    def draw(self, pieces: Sequence[Piece], direction: str, only: int | None = None,
             current: tuple[int, int] | None = None) -> list[graphviz.Digraph]:
        """The drawing of each piece (or of piece `only` alone), fonts scaled for the sheet."""
        diagram = self.diagram
        questions = diagram.decisions()
        where = {q: k for k, piece in enumerate(pieces) for q in piece.questions}
        first: dict[int, int] = {}
        for k, piece in enumerate(pieces):
            if piece.leaf is not None:
                first.setdefault(piece.leaf, k)
        lead = "▸ Part {}: " if self.sheet.terse else "Continued in part {} ▸ "
        continued = {n: lead.format(where[n] + 1) + diagram.question(questions[n]).text for n in where}
        continued |= {leaf: lead.format(k + 1) + f"the advice: {_in_words(_advice(diagram, leaf))}"
                      for leaf, k in first.items()}
        graphs = []
        for k, piece in enumerate(pieces):
            if only is not None and k != only:
                continue
            graph = _new_graph("decisions")
            graph.attr("graph", rankdir=piece.direction or direction, pad=str(_PAD),
                       nodesep=self.sheet.spacing[0], ranksep=self.sheet.spacing[1])
            graph.attr("node", fontsize=self.sheet.question_size)
            entered: dict[str, tuple[str, str]] = {}
            if len(pieces) == 1:
                sources: list[int] = []
                _draw_diagram(graph, diagram, "n", _always(diagram), self.elsewhere, self.path, self.notes,
                              current=current, wrap=self.sheet.wrap, shape=self.sheet.shape,
                              box_wrap=self.sheet.box_wrap, terse=self.sheet.terse)
            elif piece.leaf is None:
                sources = sorted({where[i] + 1 for i in where if where[i] != k
                                  and _children(diagram, i) & set(piece.questions)})
                _draw_diagram(graph, diagram, "n", _always(diagram), self.elsewhere, self.path, self.notes,
                              only=frozenset(piece.questions), continued=continued, current=current,
                              wrap=self.sheet.wrap, shape=self.sheet.shape, box_wrap=self.sheet.box_wrap,
                              terse=self.sheet.terse)
                entered = self._draw_entries(graph, piece, where, k)
            else:
                sources = self._draw_advice(graph, piece, pieces, where, k, current)
            label = _heading(diagram, self.heading, self.sheet, k + 1, len(pieces), sources)
            graph.attr("graph", label=label)
            spoken = spoken_names(diagram, "n", self.elsewhere, _always(diagram))
            setattr(graph, SPOKEN, {**spoken, **entered})
            graphs.append(scale_fonts(graph, self.sheet.font_scale))
        return graphs

    def _draw_entries(self, graph: graphviz.Digraph, piece: Piece, where: Mapping[int, int],
                      k: int) -> dict[str, tuple[str, str]]:
        """Each question of piece `k` that an arrow of another part leads to says so on its
        first line ("◂ from part 2"): without it, a question starting a sub-tree of its own on
        a slide or a page has no way in, and a reader cannot tell how it is reached (the
        heading only lists the parts). A line in the question's own box, not a box of its own
        with an arrow: that made the A4 handout 40 pages instead of 29. Returns the spoken
        names (SVG titles) of those questions."""
        diagram = self.diagram
        questions = diagram.decisions()
        mine = set(piece.questions)
        entered: dict[int, set[int]] = {}
        for question, part in where.items():
            if part != k:
                for child in _children(diagram, question) & mine:
                    entered.setdefault(child, set()).add(part + 1)
        spoken: dict[str, tuple[str, str]] = {}
        known = spoken_names(diagram, "n", self.elsewhere, _always(diagram))
        for question in sorted(entered):
            came = f"◂ from part {_ranges(sorted(entered[question]))}"
            text = diagram.question(questions[question]).text
            graph.node(f"n{question}", label=graphviz.nohtml(
                f"{dot_text(came)}\\n{dot_text(text, self.sheet.wrap)}"))
            title, about = known.get(f"n{question}", (text, "Question."))
            spoken[f"n{question}"] = (f"{title} ({came[2:]})", about)
        return spoken

    def _draw_advice(self, graph: graphviz.Digraph, piece: Piece, pieces: Sequence[Piece],
                     where: Mapping[int, int], k: int, current: tuple[int, int] | None) -> list[int]:
        """An advice box on a part of its own (rows `piece.rows` of it): above it, one dashed
        box per arrow leading to it ("From part 6 ▸ <question>", the arrow labelled with the
        answer), or "continued from part N" for the rest of a long box; below it, where the
        rest continues. Returns the parts it continues from."""
        diagram, path, leaf = self.diagram, self.path, piece.leaf
        assert leaf is not None
        rows = _advice(diagram, leaf)[piece.rows[0]:piece.rows[1]]
        shown = Outcome(tuple(c for c, f in rows if not f), tuple(c for c, f in rows if f))
        on_path = path is None or leaf in path.nodes
        graph.node("advice", shape="plain", label=outcome_label(
            diagram.kb, shown, diagram.because.get(leaf, {}), muted=not on_path,
            chosen=path is not None and path.leaf == leaf, notes=self.notes))
        dashed = {"shape": "box", "style": "rounded,dashed,bold", "fontsize": "10"}
        sources: list[int] = []
        if piece.rows[0] > 0:
            sources.append(k)  # the piece before holds the first rows
            graph.node("from", label=dot_text(f"Continued from part {k} ▸ the same advice", 24), **dashed)
            graph.edge("from", "advice")
        else:
            arrows: dict[tuple[str, str], list[tuple[int, int]]] = {}  # (question, answer) -> arrows
            for node_id in sorted(where, key=lambda n: where[n]):
                node = diagram.nodes[node_id]
                assert isinstance(node, Decision)
                for b, branch in enumerate(node.branches):
                    if branch.child == leaf:
                        key = (diagram.question(node).text, edge_label(diagram, node, branch))
                        arrows.setdefault(key, []).append((node_id, b))
            for e, ((question, answer), alike) in enumerate(arrows.items()):
                parts = sorted({where[n] + 1 for n, _ in alike})
                sources += parts
                steps = [path.step_number(n, b) for n, b in alike] if path is not None else []
                number = next((s for s in steps if s is not None), None)
                taken = path is None or number is not None
                grey = {} if taken else {"color": style.MUTED_LINE, "fontcolor": style.MUTED_TEXT}
                word = "part" if len(parts) == 1 else "parts"
                text = f"From {word} {', '.join(map(str, parts))} ▸ {question}"
                graph.node(f"from{e}", label=dot_text(text, self.sheet.wrap + 8), **dashed, **grey)
                if number is None:
                    graph.edge(f"from{e}", "advice", label=dot_text(answer, 22), **grey)
                else:
                    now = current is not None and current in alike
                    colour = style.CURRENT if now else "#000000"
                    graph.edge(f"from{e}", "advice", label=dot_text(f"{number}. {answer}", 22),
                               penwidth="5" if now else "3", color=colour, fontcolor=colour,
                               fontname=f"{style.FONT}-Bold")
        if piece.rows[1] < len(_advice(diagram, leaf)):
            more = len(_advice(diagram, leaf)) - piece.rows[1]
            graph.node("more", label=dot_text(f"Continued in part {k + 2} ▸ {more} more", 24), **dashed)
            graph.edge("advice", "more")
        return sorted(set(sources))

    # --- measuring -------------------------------------------------------------------------

    def fit(self, graphs: Sequence[graphviz.Digraph], slack: float = 1.0) -> list[bool]:
        room_w, room_h = self.sheet.room
        return [d.width <= room_w * slack and d.height <= room_h * slack
                for d in measure_all([g.source for g in graphs])]

    def trials(self, trials: Sequence[Trial]) -> list[bool]:
        """Whether each first part fits (with room for the final "continued in part N"
        texts): the part, the rest of the questions as "part 2", each box drawn alone."""
        graphs = []
        for part, away, direction in trials:
            rest = tuple(n for n in self.diagram.decisions() if n not in part)
            alone = [Piece(leaf=leaf, rows=(0, len(_advice(self.diagram, leaf)))) for leaf in sorted(away)]
            pieces = [Piece(tuple(part)), *([Piece(rest)] if rest else []), *alone]
            graphs += self.draw(pieces, direction, only=0)
        return self.fit(graphs, 0.95)

    def big_boxes(self) -> set[int]:
        """Advice boxes too big to share a part with their question: more than half the
        sheet's height or 60% of its width, measured alone."""
        leaves = [n for n, node in self.diagram.nodes.items() if isinstance(node, Outcome)
                  and _advice(self.diagram, n) and n != self.diagram.root]
        graphs = []
        for leaf in leaves:
            graph = _new_graph("box")
            graph.attr("graph", pad=str(_PAD))
            graph.node("advice", shape="plain", label=outcome_label(
                self.diagram.kb, without(_node(self.diagram, leaf), _always(self.diagram)),
                self.diagram.because.get(leaf, {}), notes=self.notes))
            graphs.append(scale_fonts(graph, self.sheet.font_scale))
        room_w, room_h = self.sheet.room
        sizes = measure_all([g.source for g in graphs])
        return {leaf for leaf, d in zip(leaves, sizes, strict=True)
                if d.height > room_h * 0.5 or d.width > room_w * 0.6}

    # --- splitting -------------------------------------------------------------------------

    def grow(self, direction: str, away: set[int]) -> tuple[list[Piece], bool]:
        """Parts grown one question at a time while the part still fits: from the root, then
        from each question an arrow of an earlier part leads to, in the order the arrows meet
        them. A question that cannot fit even alone is drawn the other way (a question of
        five answers is too wide top-down), else has its advice boxes moved to parts of
        their own (`away`, largest first). Returns the parts and whether every one fits."""
        diagram = self.diagram
        parts: list[Piece] = []
        placed: set[int] = set()
        entries = [diagram.root]
        all_fit = True
        while entries:
            entry = entries.pop(0)
            if entry in placed or not isinstance(diagram.nodes[entry], Decision):
                continue
            part = [entry]
            ways = [direction, *(d for d in self.sheet.directions if d != direction)]
            alone = self.trials([(part, frozenset(away), way) for way in ways])
            way = next((w for w, ok in zip(ways, alone, strict=True) if ok), direction)
            if not any(alone):
                boxes = sorted((c for c in _children(diagram, entry) if c not in away  # not worth it
                                and isinstance(diagram.nodes[c], Outcome) and len(_advice(diagram, c)) > 2),
                               key=lambda c: -len(_advice(diagram, c)))
                for box in boxes:
                    away.add(box)
                    if self.trials([(part, frozenset(away), way)])[0]:
                        break
                all_fit &= self.trials([(part, frozenset(away), way)])[0]
            candidates = _reachable(diagram, entry, placed)[1:]
            while candidates:
                below = [c for c in candidates if any(c in _children(diagram, i) for i in part)]
                results = self.trials([([*part, c], frozenset(away), way) for c in below])
                taken = next((c for c, ok in zip(below, results, strict=True) if ok), None)
                if taken is None:
                    break
                part.append(taken)
                candidates = candidates[candidates.index(taken) + 1:]
            placed.update(part)
            parts.append(Piece(tuple(part), direction=None if way == direction else way))
            for node_id in part:
                node = diagram.nodes[node_id]
                assert isinstance(node, Decision)
                entries += [b.child for b in node.branches
                            if isinstance(diagram.nodes[b.child], Decision) and b.child not in placed]
        return parts, all_fit

    def merge(self, parts: list[Piece], direction: str, away: set[int]) -> list[Piece]:
        """Parts joined while the join fits, first fit in reading order: grown from one entry
        each, most hold one or two questions (at 18 pt a question and its three answers fill
        half a slide), so each part is drawn with the earliest part it fits beside, side by
        side or one above the other as graphviz places them (an arrow between them drawn
        whole instead of ending in a "continued" box). One `dot` batch per part: its join
        with every earlier part, both ways."""
        alone = [Piece(leaf=leaf, rows=(0, len(_advice(self.diagram, leaf)))) for leaf in sorted(away)]
        ways = list(dict.fromkeys([direction, *self.sheet.directions]))
        merged: list[Piece] = parts[:1]
        for part in parts[1:]:
            trials = [(i, way) for i in range(len(merged)) for way in ways]
            graphs = []
            for i, way in trials:
                joined = Piece((*merged[i].questions, *part.questions),
                               direction=None if way == direction else way)
                graphs += self.draw([*merged[:i], joined, *merged[i + 1:], *alone], direction, only=i)
            ok = self.fit(graphs, 0.97)
            found = next(((i, way) for (i, way), fits_ in zip(trials, ok, strict=True) if fits_), None)
            if found is None:
                merged.append(part)
            else:
                i, way = found
                merged[i] = Piece((*merged[i].questions, *part.questions),
                                  direction=None if way == direction else way)
        return merged

    def _with_boxes(self, parts: list[Piece], boxes: Mapping[int, list[Piece]],
                    away: set[int]) -> list[Piece]:
        """The parts in reading order, each advice box alone after the first part leading to it."""
        pieces: list[Piece] = []
        for part in parts:
            pieces.append(part)
            for leaf in sorted(away):
                if any(leaf in _children(self.diagram, q) for q in part.questions) and \
                        not any(p.leaf == leaf for p in pieces):
                    pieces += boxes[leaf]
        return pieces

    def box_pieces(self, leaf: int, direction: str, start_pieces: Sequence[Piece]) -> list[Piece]:
        """An advice box alone, in as many pieces as it needs: each takes the most rows that
        fit, drawn top-down or left-to-right (many arrows leading to it sit side by side
        top-down, one above the other left-to-right)."""
        count = len(_advice(self.diagram, leaf))
        ways = [direction, *(d for d in self.sheet.directions if d != direction)]
        pieces: list[Piece] = []
        start = 0
        while start < count:
            trials = [(end, way) for way in ways for end in range(count, start, -1)]
            graphs = []
            for end, way in trials:
                trial = Piece(leaf=leaf, rows=(start, end), direction=way)
                rest = [Piece(leaf=leaf, rows=(end, count))] if end < count else []
                graphs += self.draw([*start_pieces, *pieces, trial, *rest], direction,
                                    only=len(start_pieces) + len(pieces))
            ok = self.fit(graphs, 0.95)
            end, way = max(((e, w) for (e, w), fits_ in zip(trials, ok, strict=True) if fits_),
                           key=lambda t: (t[0], t[1] == direction), default=(start + 1, direction))
            pieces.append(Piece(leaf=leaf, rows=(start, end), direction=None if way == direction else way))
            start = end
        return pieces

    def layout(self) -> Layout:
        """The chart on as few sheets as it needs: whole when it fits, else split, in each
        of the sheet's directions (fewest parts wins, a layout where all fit first)."""
        whole = (Piece(tuple(self.diagram.decisions())),)
        drawings = [self.draw(whole, d)[0] for d in self.sheet.directions]
        for direction, ok in zip(self.sheet.directions, self.fit(drawings), strict=True):
            if ok:
                return Layout(whole, direction)
        big = self.big_boxes()
        best: Layout | None = None
        for direction in self.sheet.directions:
            away = set(big)
            grown, all_fit = self.grow(direction, away)
            parts = self.merge(grown, direction, away)
            boxes = {leaf: self.box_pieces(leaf, direction, parts) for leaf in sorted(away)}
            while True:  # a join measured with other part numbers may not fit: undo it
                pieces = self._with_boxes(parts, boxes, away)
                drawn_ok = self.fit(self.draw(pieces, direction))
                undo = {p for p, fits_ in zip(pieces, drawn_ok, strict=True) if not fits_ and p in parts
                        and p not in grown}
                if not undo:
                    break
                parts = [q for p in parts for q in ([g for g in grown if set(g.questions) <= set(p.questions)]
                                                    if p in undo else [p])]
            layout = Layout(tuple(pieces), direction, all_fit)
            if best is None or (layout.fits, -len(layout.pieces)) > (best.fits, -len(best.pieces)):
                best = layout
        assert best is not None
        return best


def _node(diagram: Diagram, node_id: int) -> Outcome:
    node = diagram.nodes[node_id]
    assert isinstance(node, Outcome)
    return node


def chart_layout(diagram: Diagram, heading: str, elsewhere: str, sheet: Sheet,
                 case: Mapping[str, Any] | None = None, notes: Mapping[str, int] | None = None) -> Layout:
    """How the chart splits over sheets at its own font size (times the sheet's font scale)."""
    return _Chart(diagram, heading, elsewhere, sheet, _path(diagram, case), notes).layout()


def draw_layout(diagram: Diagram, heading: str, elsewhere: str, sheet: Sheet, layout: Layout,
                path: PatientPath | None = None, notes: Mapping[str, int] | None = None,
                current: tuple[int, int] | None = None) -> list[Part]:
    """The parts of a layout, drawn (with a patient's `path` so far, its `current` step in
    blue), each unplaced: `on_sheet` puts it on its page."""
    fitter = _Chart(diagram, heading, elsewhere, sheet, path, notes)
    graphs = fitter.draw(layout.pieces, layout.direction, current=current)
    fit = fitter.fit(graphs)
    return [Part(g, k + 1, len(graphs), not ok, piece)
            for k, (g, ok, piece) in enumerate(zip(graphs, fit, layout.pieces, strict=True))]


def paged_chart(diagram: Diagram, heading: str, elsewhere: str, sheet: Sheet,
                case: Mapping[str, Any] | None = None, notes: Mapping[str, int] | None = None) -> list[Part]:
    """The chart drawn on as few sheets as it needs at its own font size (times the sheet's
    font scale): the whole chart when it fits, else parts grown one question at a time
    while they fit, big advice boxes on parts of their own. Each part's drawing is
    unplaced: `on_sheet` puts it on its page."""
    layout = chart_layout(diagram, heading, elsewhere, sheet, case, notes)
    return draw_layout(diagram, heading, elsewhere, sheet, layout, _path(diagram, case), notes)


def draw_piece(diagram: Diagram, heading: str, elsewhere: str, sheet: Sheet, layout: Layout, k: int,
               path: PatientPath | None = None, current: tuple[int, int] | None = None) -> Part:
    """Part k (from 0) of a layout alone (a `--steps` slide), measured."""
    fitter = _Chart(diagram, heading, elsewhere, sheet, path, None)
    graph = fitter.draw(layout.pieces, layout.direction, only=k, current=current)[0]
    return Part(graph, k + 1, len(layout.pieces), not fitter.fit([graph])[0], layout.pieces[k])
