"""What a leaf that advises nothing says instead of "No action".

"No action" reads as "do nothing", which is never what a guideline means. A leaf that
recommends and forbids nothing beyond what every case gets (an open leaf) says one of two
things, decided from the whole path into it, not from the last arrow:

* some question was answered "unknown" on the way, and a known answer to it would change
  the advice (guidekb.visualize.counterfactual, built into the leaf by
  guidekb.visualize.decisions): "Find out: <that question>" -- the first such question in
  asking order, after which the reader follows the chart again with its answer, as a
  clinician would teach it. A penicillin allergy nobody has asked about blocks amoxicillin:
  the patient needs an answer, not nothing. Only the first is named: naming every such
  question made leaves that differ only in their later names, which cannot share a node, so
  charts grew whole sub-charts under their "unknown" arrows;
* a milestone the chart starts from (a conclusion of an earlier stage, "Resistance
  suspected?") is not established, and established it would change the advice: "Resistance
  suspected: not established → see chart 8", the chart of that stage;
* in a conclusion chart (how the rules draw a stage's conclusion), where it is not drawn and
  no unknown answer would draw it: "Treatment failure: not established → see chart 5";
* otherwise this chart has nothing for the patient: "Not indicated here → see <where>", the
  next chart of the pathway (or the overview).

Questions are named in the words the drawing asks them in (for a list fact, the list's own
question, once), never by codes. Every output reads the leaf through these functions.
"""

from __future__ import annotations

import itertools

from guidekb.visualize.decisions import Branch, Decision, Diagram, Outcome
from guidekb.visualize.questions import NOT_ESTABLISHED
from guidekb.visualize.style import conclusion_words

FIND_OUT = "Find out"
NOT_HERE = "Not indicated here"


def open_leaf_text(diagram: Diagram, node: Decision, branch: Branch, elsewhere: str) -> str:
    """The text of the leaf at the end of `branch` (an arrow of `node`), when that leaf
    recommends and forbids nothing drawn in this chart; `elsewhere` names where to look next
    ("chart 5"). The leaf alone decides: every path into it says the same."""
    return leaf_text(diagram, branch.child, elsewhere)


def leaf_text(diagram: Diagram, leaf: int, elsewhere: str) -> str:
    """What the open leaf `leaf` says: the questions to find out, or where to look next; when
    what blocks the advice is a milestone the chart starts from ("Resistance suspected?"), the
    chart that shows how it is established."""
    node = diagram.nodes[leaf]
    if isinstance(node, Outcome) and node.find_out:
        first = diagram.vocabulary.questions[node.find_out[0]]
        if first.milestone:
            return f"{first.topic}: {NOT_ESTABLISHED} → see {first.place or elsewhere}"
    topics = find_out_topics(diagram, leaf)
    if topics:
        return f"{FIND_OUT}: {join_topics(topics)}"
    if diagram.conclusion is not None:  # a conclusion chart: the pathway goes on without it
        return f"{conclusion_words(diagram.kb, diagram.conclusion)}: {NOT_ESTABLISHED} → see {elsewhere}"
    return f"{NOT_HERE} → see {elsewhere}"


def find_out_topics(diagram: Diagram, leaf: int) -> list[str]:
    """The question the leaf asks to find out, in words (a list of one, or empty)."""
    node = diagram.nodes[leaf]
    if not isinstance(node, Outcome):
        return []
    named: dict[str, str] = {}
    for index in node.find_out:
        question = diagram.vocabulary.questions[index]
        if not question.milestone:  # not a question to ask the patient: see leaf_text
            named.setdefault(question.fact, question.topic)
    return list(named.values())


def join_topics(topics: list[str]) -> str:
    """Questions as one readable line. A question ("Is the dose adequate?") keeps its mark and
    the next follows it as a sentence; statements ("Known penicillin allergy.") lose their
    full stop and are listed with commas (semicolons when one holds a comma), the later ones
    starting in lower case unless they start with an abbreviation ("HIV status")."""
    cleaned = [t.strip().removesuffix(".").strip() for t in topics]
    separator = "; " if any("," in t for t in cleaned if not t.endswith("?")) else ", "
    text = cleaned[0]
    for previous, topic in itertools.pairwise(cleaned):
        if previous.endswith("?"):
            text += f" {topic}"
        else:
            text += separator + _lower_first(topic)
    return text


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
