"""A text version of every chart, for screen readers and for reading without the picture:
a nested list built from the very diagram the drawing comes from.

Each question is numbered (Q1, Q2, ... in the order a reader meets them); each answer is an
item holding what follows it: the next question, nested, or the outcome. A question reached
again by another answer is not repeated: the item says "go to Q5". Leaves with nothing in
them (beyond what every case gets) say what to find out or where to look
(guidekb.visualize.leaves, from the whole path into them), as the drawing does.
The same items are written as Markdown (`markdown_book`) and as HTML lists (`html_list`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from guidekb.engine.format.inert import inert
from guidekb.visualize import style
from guidekb.visualize.chartbook import ChartBook
from guidekb.visualize.decisions import Decision, Diagram, Outcome
from guidekb.visualize.escaping import html_text
from guidekb.visualize.labels import edge_label
from guidekb.visualize.leaves import leaf_text
from guidekb.visualize.mermaid import chart_blocks
from guidekb.visualize.patient import PatientPath, follow


@dataclass
class Item:
    """One line of the list and the items nested under it; `step` numbers the answers a
    patient's path takes (1, 2, ...), and `reached` marks the outcome it ends in."""

    text: str
    children: list[Item] = field(default_factory=list)
    step: int | None = None
    reached: bool = False


THIS_PATIENT = "◀ this patient"


def outcome_words(diagram: Diagram, outcome: Outcome) -> str:
    kb = diagram.kb
    parts = [style.outcome_text(kb, c) for c in outcome.recommended]
    parts += [f"{style.DO_NOT}: {style.outcome_text(kb, c)}" for c in outcome.forbidden]
    return " ".join(parts)


def chart_items(diagram: Diagram, elsewhere: str, path: PatientPath | None = None) -> list[Item]:
    """The chart as nested items, starting from its first question. With a patient's `path`,
    the answers it takes are numbered as steps and the outcome it ends in is marked."""
    numbers: dict[int, int] = {}
    path_leaf = path.leaf if path is not None else None

    def question(node_id: int) -> Item:
        node = diagram.nodes[node_id]
        assert isinstance(node, Decision)
        numbers[node_id] = len(numbers) + 1
        item = Item(f"Q{numbers[node_id]}. {diagram.question(node).text}")
        for k, branch in enumerate(node.branches):
            answer = edge_label(diagram, node, branch)
            child = diagram.nodes[branch.child]
            step = path.step_number(node_id, k) if path is not None else None
            if isinstance(child, Outcome):
                words = _leaf_words(diagram, branch.child, elsewhere)
                item.children.append(Item(f"{answer} → {words}", step=step,
                                          reached=step is not None and branch.child == path_leaf))
            elif branch.child in numbers:
                item.children.append(Item(f"{answer} → go to Q{numbers[branch.child]}", step=step))
            else:
                item.children.append(Item(f"{answer} →", [question(branch.child)], step=step))
        return item

    root = diagram.nodes[diagram.root]
    if isinstance(root, Outcome):
        return [Item(outcome_words(diagram, root) or style.NOTHING_EVER, reached=path is not None)]
    return [question(diagram.root)]


def path_items(diagram: Diagram, elsewhere: str, path: PatientPath) -> list[Item]:
    """A patient's path alone, as numbered steps: question and answer, then where it ends. (The
    nested list says "go to Q5" for a question met before; the steps spell the path out.)"""
    items: list[Item] = []
    for number, (node_id, taken) in enumerate(path.steps, 1):
        node = diagram.nodes[node_id]
        assert isinstance(node, Decision)
        answer = edge_label(diagram, node, node.branches[taken])
        items.append(Item(f"{diagram.question(node).text} → {answer}", step=number))
    leaf = diagram.nodes[path.leaf]
    assert isinstance(leaf, Outcome)
    words = _leaf_words(diagram, path.leaf, elsewhere) if path.steps else outcome_words(diagram, leaf)
    items.append(Item(words or style.NOTHING_EVER, reached=True))
    return items


def _leaf_words(diagram: Diagram, leaf: int, elsewhere: str) -> str:
    """What a leaf reached by an arrow says, as the drawing says it: its advice, or, for a leaf
    advising nothing beyond what every case gets (listed once, "In every case"), what to find
    out or where to look next (guidekb.visualize.leaves, decided from the whole path)."""
    node = diagram.nodes[leaf]
    assert isinstance(node, Outcome)
    if diagram.is_open(leaf):
        return leaf_text(diagram, leaf, elsewhere)
    return outcome_words(diagram, node)


_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})


def markdown_text(text: str) -> str:
    """Knowledge-base text as literal Markdown: control and bidi characters made visible
    (guidekb.engine.format.inert) and every character Markdown could read as markup escaped."""
    return inert(text).translate(_MARKDOWN_SPECIAL)


def _markdown(items: list[Item], depth: int = 0) -> list[str]:
    lines: list[str] = []
    for item in items:
        text = markdown_text(item.text)
        if item.step is not None:
            text = f"**Step {item.step}:** {text}"
        if item.reached:
            text = f"{text} **{THIS_PATIENT}**"
        lines.append(f"{'  ' * depth}- {text}")
        lines += _markdown(item.children, depth + 1)
    return lines


def markdown_book(book: ChartBook, case: Mapping[str, Any] | None = None,
                  case_name: str | None = None) -> str:
    """Every chart of a book as Markdown: a heading per chart (its title in words), the chart
    as a Mermaid block (for wikis that draw them) and the nested list. With a `case`, each
    chart first lists the patient's path as numbered steps, and the list and the Mermaid block
    mark the same steps. Control and bidi characters of knowledge-base text are made visible
    (guidekb.engine.format.inert) and Markdown markup in it is escaped."""
    kb = book.kb
    blocks = chart_blocks(book, case)
    lines = [f"# {markdown_text(kb.manifest.title)}", "",
             f"{markdown_text(kb.id)} version {markdown_text(kb.version)}: decision charts, text version", ""]
    if case is not None:
        lines += [f"The path of the case {markdown_text(case_name or 'given')}: its answers are numbered "
                  f"**Step 1**, **Step 2**, ... and the outcome it reaches is marked **{THIS_PATIENT}**.", ""]
    if book.in_every_case.recommended or book.in_every_case.forbidden:
        words = outcome_words(book.charts[0].diagram, book.in_every_case)
        lines += [f"In every case: {markdown_text(words)}", ""]
    for k, chart in enumerate(book.charts):
        lines += [f"## Chart {k + 1}. {markdown_text(chart.title)}", ""]
        path = None if case is None else follow(chart.diagram, case)
        if path is not None:
            steps = path_items(chart.diagram, book.next_chart(k), path)
            lines += ["This patient:", "", *_numbered(steps), ""]
        lines += ["```mermaid", blocks[k], "```", ""]
        lines += [*_markdown(chart_items(chart.diagram, book.next_chart(k), path)), ""]
    return "\n".join(lines)


def _numbered(items: list[Item]) -> list[str]:
    """A patient's path as a Markdown numbered list, its end marked."""
    lines = [f"{item.step}. {markdown_text(item.text)}" for item in items if item.step is not None]
    ends = [f"{len(lines) + 1}. {markdown_text(item.text)} **{THIS_PATIENT}**"
            for item in items if item.reached]
    return lines + ends


def html_list(items: list[Item]) -> str:
    """Nested <ul> lists, every text escaped; a patient's steps numbered and its end marked
    (bold, and in words, not only by style)."""
    if not items:
        return ""

    def line(item: Item) -> str:
        text = html_text(item.text)
        if item.step is not None:
            text = f'<strong class="step">Step {item.step}:</strong> {text}'
        if item.reached:
            text = f'<strong class="reached">{text} {THIS_PATIENT}</strong>'
        on_path = ' class="on-path"' if item.step is not None or item.reached else ""
        return f"<li{on_path}>{text}{html_list(item.children)}</li>"

    return f"<ul>{''.join(line(item) for item in items)}</ul>"


def html_path(items: list[Item]) -> str:
    """A patient's path as an HTML numbered list, its end marked."""
    steps = "".join(f"<li>{html_text(item.text)}</li>" for item in items if item.step is not None)
    ends = "".join(f'<li><strong class="reached">{html_text(item.text)} {THIS_PATIENT}</strong></li>'
                   for item in items if item.reached)
    return f'<ol class="patient-path">{steps}{ends}</ol>'
