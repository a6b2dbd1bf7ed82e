"""A text version of every chart, for screen readers and for reading without the picture:
a nested list built from the very diagram the drawing comes from.

Each question is numbered (Q1, Q2, ... in the order a reader meets them); each answer is an
item holding what follows it: the next question, nested, or the outcome. A question reached
again by another answer is not repeated: the item says "go to Q5". Leaves with nothing in
them say what to find out or where to look (guidekb.visualize.leaves), as the drawing does.
The same items are written as Markdown (`markdown_book`) and as HTML lists (`html_list`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guidekb.engine.format.inert import inert
from guidekb.visualize import style
from guidekb.visualize.chartbook import ChartBook
from guidekb.visualize.decisions import Decision, Diagram, Outcome
from guidekb.visualize.escaping import html_text
from guidekb.visualize.labels import edge_label
from guidekb.visualize.leaves import open_leaf_text
from guidekb.visualize.mermaid import chart_blocks


@dataclass
class Item:
    """One line of the list and the items nested under it."""

    text: str
    children: list[Item] = field(default_factory=list)


def outcome_words(diagram: Diagram, outcome: Outcome) -> str:
    kb = diagram.kb
    parts = [style.outcome_text(kb, c) for c in outcome.recommended]
    parts += [f"{style.DO_NOT}: {style.outcome_text(kb, c)}" for c in outcome.forbidden]
    return " ".join(parts)


def chart_items(diagram: Diagram, elsewhere: str) -> list[Item]:
    """The chart as nested items, starting from its first question."""
    numbers: dict[int, int] = {}

    def question(node_id: int) -> Item:
        node = diagram.nodes[node_id]
        assert isinstance(node, Decision)
        numbers[node_id] = len(numbers) + 1
        item = Item(f"Q{numbers[node_id]}. {diagram.question(node).text}")
        for branch in node.branches:
            answer = edge_label(diagram, node, branch)
            child = diagram.nodes[branch.child]
            if isinstance(child, Outcome):
                words = outcome_words(diagram, child) or open_leaf_text(diagram, node, branch, elsewhere)
                item.children.append(Item(f"{answer} → {words}"))
            elif branch.child in numbers:
                item.children.append(Item(f"{answer} → go to Q{numbers[branch.child]}"))
            else:
                item.children.append(Item(f"{answer} →", [question(branch.child)]))
        return item

    root = diagram.nodes[diagram.root]
    if isinstance(root, Outcome):
        return [Item(outcome_words(diagram, root) or style.NOTHING_EVER)]
    return [question(diagram.root)]


def _markdown(items: list[Item], depth: int = 0) -> list[str]:
    lines: list[str] = []
    for item in items:
        lines.append(f"{'  ' * depth}- {inert(item.text)}")
        lines += _markdown(item.children, depth + 1)
    return lines


def markdown_book(book: ChartBook) -> str:
    """Every chart of a book as Markdown: a heading per chart (its title in words), the chart
    as a Mermaid block (for wikis that draw them) and the nested list. Control and bidi
    characters of knowledge-base text are made visible (guidekb.engine.format.inert)."""
    kb = book.kb
    blocks = chart_blocks(book)
    lines = [f"# {inert(kb.manifest.title)}", "",
             f"{kb.id} version {inert(kb.version)}: decision charts, text version", ""]
    if book.in_every_case.recommended or book.in_every_case.forbidden:
        lines += [f"In every case: {inert(outcome_words(book.charts[0].diagram, book.in_every_case))}", ""]
    for k, chart in enumerate(book.charts):
        lines += [f"## Chart {k + 1}. {inert(chart.title)}", "", "```mermaid", blocks[k], "```", ""]
        lines += [*_markdown(chart_items(chart.diagram, book.next_chart(k))), ""]
    return "\n".join(lines)


def html_list(items: list[Item]) -> str:
    """Nested <ul> lists, every text escaped."""
    if not items:
        return ""
    inner = "".join(f"<li>{html_text(item.text)}{html_list(item.children)}</li>" for item in items)
    return f"<ul>{inner}</ul>"
