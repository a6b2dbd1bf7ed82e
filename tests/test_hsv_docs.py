"""docs/clinical-interpretation.md stays in step with the HSV knowledge base: every rule is
discussed there, every rule or scenario it names exists, and every quotation it attributes to
an article is verbatim in that article."""

from __future__ import annotations

import re

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.sources import normalize
from tests.conftest import HSV_KB, ROOT

PAGE = ROOT / "docs" / "clinical-interpretation.md"
NAMED = re.compile(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`")
ITALIC_QUOTE = re.compile(r'\*"(.+?)"\*', re.S)


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_every_rule_is_discussed(hsv_kb: KnowledgeBase) -> None:
    named = set(NAMED.findall(page()))
    assert [rule.id for rule in hsv_kb.rules if rule.id not in named] == []


def test_every_named_rule_or_scenario_exists(hsv_kb: KnowledgeBase) -> None:
    known = set(hsv_kb.rules_by_id) | {p.stem for p in (HSV_KB / "scenarios").glob("*.yaml")}
    known |= set(hsv_kb.documents)
    assert sorted(set(NAMED.findall(page())) - known) == []


def test_quoted_passages_are_verbatim(hsv_kb: KnowledgeBase) -> None:
    bodies = " ".join(text.body for text in hsv_kb.sources.values())
    quotes = [normalize(q) for q in ITALIC_QUOTE.findall(page())]
    assert len(quotes) > 20
    wrong = []
    for quote in quotes:
        pieces = [normalize(p).strip(' .,') for p in quote.split("...")]
        if not all(piece in bodies for piece in pieces if piece):
            wrong.append(quote)
    assert wrong == []
