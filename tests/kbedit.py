"""Editing a copied knowledge base by rule id, for tests that seed mutations: locate the rule's
list item in whichever rules file holds it, and fail loudly if the rule or the text is gone
(a mutation test that mutates nothing would pass for the wrong reason)."""

from __future__ import annotations

import re
from pathlib import Path


def rule_block(root: Path, rule_id: str) -> tuple[Path, int, int]:
    """The rules file holding `rule_id` and the character span of its list item."""
    start_re = re.compile(rf"^  - id: {re.escape(rule_id)}\s*$", re.MULTILINE)
    for path in sorted((root / "rules").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        found = start_re.search(text)
        if found:
            following = re.compile(r"^  - id: ", re.MULTILINE).search(text, found.end())
            return path, found.start(), following.start() if following else len(text)
    raise AssertionError(f"rule '{rule_id}' is not in {root / 'rules'}: the mutation has nothing to "
                         "mutate; choose a rule that exists")


def edit_rule(root: Path, rule_id: str, old: str, new: str) -> None:
    """Replace the one occurrence of `old` inside the rule's block."""
    path, start, end = rule_block(root, rule_id)
    text = path.read_text(encoding="utf-8")
    block = text[start:end]
    assert block.count(old) == 1, f"{old!r} occurs {block.count(old)} times in rule '{rule_id}'"
    path.write_text(text[:start] + block.replace(old, new) + text[end:], encoding="utf-8")


def drop_rule(root: Path, rule_id: str) -> None:
    path, start, end = rule_block(root, rule_id)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
