"""Colours, shapes and the plain-text pieces every renderer shares (unescaped: each renderer
escapes them for its own format).

The conventions are those of printed clinical algorithms: a diamond asks a question, a
rounded green box is an action to take, a square, heavy-bordered vermillion box starting
"DO NOT" is an action to avoid.
"""

from __future__ import annotations

from collections.abc import Iterable

from guidekb.engine.format.knowledge import KnowledgeBase

FONT = "Helvetica"

# Okabe-Ito colours (safe for the common colour-vision deficiencies), as light tints for fills:
# yellow/orange questions, bluish-green actions, vermillion prohibitions. Colour is never the
# only mark: a prohibition box also has square corners, a heavier border and starts "DO NOT"
# (tests/test_visualize_accessibility.py simulates deuteranopia and protanopia on these).
DECISION_FILL, DECISION_LINE = "#FFF3D6", "#E69F00"
ACTION_FILL, ACTION_LINE = "#D5EFE6", "#009E73"
PROHIBITION_FILL, PROHIBITION_LINE, PROHIBITION_TEXT = "#F5C7A9", "#D55E00", "#6B2400"
PROHIBITION_BORDER = 3  # points, against 1 for an action
NOTHING_FILL, NOTHING_LINE = "#F2F2F2", "#9E9E9E"
FACT_FILL, FACT_LINE = "#F2F2F2", "#616161"
DERIVED_FILL, DERIVED_LINE = "#E3EEFA", "#1F5F99"
RULE_FILL, RULE_LINE = "#FFFFFF", "#424242"
EDGE = "#555555"
MUTED_FILL, MUTED_LINE, MUTED_TEXT = "#F7F7F7", "#C8C8C8", "#9A9A9A"  # off a patient's path
CURRENT = "#0072B2"  # Okabe-Ito blue: the step being taught on a --steps slide (also heavier)

DO_NOT = "DO NOT"
NOTHING_EVER = "Nothing is recommended or forbidden for any patient"
ELSEWHERE = "the overview chart"  # where a single chart's open leaves point
NOWHERE = "the source guideline"  # ... when the chart is the whole knowledge base
NEVER_FIRES = "can never fire"
UNREAD = "read by no rule"


def rule_anchor(rule_id: str) -> str:
    return f"rule-{rule_id}"


def fact_anchor(fact: str) -> str:
    return f"fact-{fact}"


def code_anchor(code: str) -> str:
    return f"code-{code}"


ESTABLISHED = "established"


def conclusion_words(kb: KnowledgeBase, name: str) -> str:
    """A conclusion in words: its question without the mark ("Treatment for resistant HSV
    indicated"), else its name ("resistance_suspected" -> "Resistance suspected")."""
    asked = (kb.derived_facts[name].question or "").strip().removesuffix("?").strip()
    words = asked or name.replace("_", " ")
    return words[:1].upper() + words[1:]


def outcome_text(kb: KnowledgeBase, code: str) -> str:
    """The words of a leaf's code: an outcome's text, or for the conclusion a conclusion chart
    ends in, "Treatment failure: established"."""
    if is_conclusion(kb, code):
        return f"{conclusion_words(kb, code)}: {ESTABLISHED}."
    return kb.outcomes[code].text


def is_conclusion(kb: KnowledgeBase, code: str) -> bool:
    """Whether a leaf's code is a conclusion (a conclusion chart's), drawn as a stage, not an action."""
    return code not in kb.outcomes and code in kb.derived_facts


def rules_acting_on(kb: KnowledgeBase, code: str) -> list[str]:
    """Rules that recommend or forbid a code (or draw a conclusion), in knowledge-base order."""
    return [r.id for r in kb.rules if code in r.then.recommend or code in (p.code for p in r.then.forbid)
            or (code not in kb.outcomes and code in r.then.derive)]


def rule_sources(kb: KnowledgeBase, rule_ids: list[str]) -> str:
    """A rule's title and verbatim quotes with their places in the source, for a tooltip."""
    parts: list[str] = []
    for rule_id in rule_ids:
        rule = kb.rule(rule_id)
        quotes = " ".join(f"“{p.quote}” ({kb.documents[p.source].title.strip()[:60]}…, {p.section})"
                          if len(kb.documents[p.source].title) > 60
                          else f"“{p.quote}” ({kb.documents[p.source].title}, {p.section})"
                          for p in rule.provenance)
        parts.append(f"{rule.title} [{rule.id}]: {quotes}")
    return " | ".join(parts)


def reasons(kb: KnowledgeBase, code: str, rule_ids: list[str]) -> str:
    """Why a code is forbidden: the reasons the forbidding rules give, each once."""
    found = [p.reason for r in rule_ids for p in kb.rule(r).then.forbid if p.code == code]
    return " ".join(dict.fromkeys(found))


def codes_in_words(kb: KnowledgeBase, codes: Iterable[str]) -> str:
    """Codes as their outcome texts (shortened), for titles: people read words, not codes."""
    texts = [outcome_text(kb, c).rstrip(".") for c in kb.outcomes if c in set(codes)]
    shortened = [t if len(t) <= 50 else t[:49].rsplit(" ", 1)[0] + "…" for t in texts]
    return "; ".join(shortened)


def title_line(kb: KnowledgeBase) -> str:
    return f"{kb.manifest.title}"


def version_line(kb: KnowledgeBase, view: str) -> str:
    return f"{kb.id} version {kb.version} · {view}"
