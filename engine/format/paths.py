"""Names for a place inside a YAML file: `rules[3].provenance[0].quote`, and the same place
named by what it belongs to, `rule no-famciclovir: provenance[0].quote`, which survives the
author inserting a rule above it."""

from __future__ import annotations

from typing import Any

PathKey = tuple[str | int, ...]

# Top-level keys whose entries are things an author names: the entry's id (lists) or key
# (mappings) identifies the owner of everything below it.
_OWNERS = {"rules": "rule", "invariants": "invariant", "sources": "source", "facts": "fact",
           "outcomes": "outcome"}


def dotted(path: PathKey) -> str:
    """`('rules', 3, 'provenance', 0, 'quote')` -> `rules[3].provenance[0].quote`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def owned(data: Any, path: PathKey) -> str:
    """The path named by its owner when it has one (`rule no-famciclovir: provenance[0].quote`,
    `fact days_on_therapy: type`), else the dotted path."""
    if len(path) >= 2 and path[0] in _OWNERS and isinstance(data, dict):
        entries = data.get(path[0])
        key = path[1]
        name: object = None
        if isinstance(entries, list) and isinstance(key, int) and 0 <= key < len(entries):
            entry = entries[key]
            name = entry.get("id") if isinstance(entry, dict) else None
        elif isinstance(entries, dict) and isinstance(key, str):
            name = key
        if isinstance(name, str) and name:
            rest = dotted(path[2:]) if len(path) > 2 else ""
            owner = f"{_OWNERS[str(path[0])]} {name}"
            return f"{owner}: {rest}" if rest else owner
    return dotted(path)
