"""What a screen reader announces for each node and arrow of a decision chart's SVG.

Graphviz writes each node's and arrow's internal name ("n9", "n9->n8") as its SVG <title>,
which is what assistive technology reads. This replaces each with the question, the answer
or the outcome in words, and adds a <desc> saying where it leads. The names follow the
drawing's own naming in guidekb.visualize.dot (node `<prefix><id>`, open leaf
`<prefix><id>_open<k>`).
"""

from __future__ import annotations

import re

from guidekb.visualize.decisions import Decision, Diagram, Outcome
from guidekb.visualize.escaping import html_text
from guidekb.visualize.labels import edge_label
from guidekb.visualize.leaves import FIND_OUT, open_leaf_text
from guidekb.visualize.text_version import outcome_words

Spoken = dict[str, tuple[str, str]]  # SVG title as graphviz writes it -> (title, description)


def _what(diagram: Diagram, node_id: int, always: Outcome) -> str:
    node = diagram.nodes[node_id]
    if isinstance(node, Decision):
        return f"question: {diagram.question(node).text}"
    shown = Outcome(tuple(c for c in node.recommended if c not in always.recommended),
                    tuple(c for c in node.forbidden if c not in always.forbidden))
    return outcome_words(diagram, shown)


def spoken_names(diagram: Diagram, prefix: str, elsewhere: str, always: Outcome) -> Spoken:
    """Title and description of every node and arrow of one drawn chart (computed once per
    diagram and naming: a chart laid out on slides is drawn thousands of times in trials)."""
    return dict(diagram.derived(("spoken", prefix, elsewhere, always),
                                lambda: _spoken_names(diagram, prefix, elsewhere, always)))


def _spoken_names(diagram: Diagram, prefix: str, elsewhere: str, always: Outcome) -> Spoken:
    spoken: Spoken = {}
    for node_id, node in diagram.nodes.items():
        name = f"{prefix}{node_id}"
        if isinstance(node, Outcome):
            spoken[name] = (_what(diagram, node_id, always) or "no advice", "Outcome: what to do here.")
            continue
        question = diagram.question(node).text
        answers = "; ".join(edge_label(diagram, node, b) for b in node.branches)
        spoken[name] = (question, f"Question. Answers: {answers}.")
        for k, branch in enumerate(node.branches):
            answer = edge_label(diagram, node, branch)
            target = _what(diagram, branch.child, always)
            if not target:
                target = open_leaf_text(diagram, node, branch, elsewhere)
                about = ("An answer still unknown would change the advice." if target.startswith(FIND_OUT)
                         else "Nothing in this chart for this patient.")
                spoken[f"{name}_open{k}"] = (target, about)
                child = f"{name}_open{k}"
            else:
                child = f"{prefix}{branch.child}"
            spoken[f"{name}&#45;&gt;{child}"] = (f"{question} {answer}", f"Leads to {target}")
    return spoken


_TITLE = re.compile(r"<title>([^<]*)</title>")


def with_titles(svg: bytes, spoken: Spoken) -> bytes:
    """The SVG with every known internal name replaced by words (escaped) and a <desc>."""
    def replace(match: re.Match[str]) -> str:
        found = spoken.get(match.group(1))
        if found is None:
            return match.group(0)
        title, desc = found
        return f"<title>{html_text(title)}</title>\n<desc>{html_text(desc)}</desc>"

    return _TITLE.sub(replace, svg.decode()).encode()
