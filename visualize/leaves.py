"""What an arrow that ends in no recommendation or prohibition says instead of "No action".

"No action" reads as "do nothing", which is never what a guideline means. Such a leaf says
one of two things, decided by the arrow leading into it:

* the arrow stands only for "unknown" (the other answers go elsewhere): knowing the answer
  would change the advice, so the leaf says "Find out: <the question>";
* otherwise this chart has nothing for the patient: "Not indicated here → see <where>", the
  next chart of the pathway (or the overview).
"""

from __future__ import annotations

from guidekb.visualize.decisions import Branch, Decision, Diagram

FIND_OUT = "Find out"
NOT_HERE = "Not indicated here"


def open_leaf_text(diagram: Diagram, node: Decision, branch: Branch, elsewhere: str) -> str:
    """The text of the leaf at the end of `branch`, when that leaf recommends and forbids
    nothing drawn in this chart; `elsewhere` names where to look next ("chart 5: ...")."""
    question = diagram.question(node)
    if branch.answers == (question.unknown_index,):
        return f"{FIND_OUT}: {question.text}"
    return f"{NOT_HERE} → see {elsewhere}"
