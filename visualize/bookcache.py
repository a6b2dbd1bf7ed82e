"""Which codes share a chart, remembered on disk between processes.

Why. Deciding how a chart book groups its codes tries merging charts two by two and lays out a
decision diagram for every trial: about 5 s for the HSV knowledge base, more than half of
`guidekb flowchart --list` and of every export, paid again by every process (the command line,
the studio's workers, each test that runs the command). The grouping is a function of the
knowledge base's content and of guidekb's chart code, so it is kept in the user's cache folder
beside the cache of verified knowledge bases, keyed by both.

Only the grouping is kept -- lists of outcome codes, plain JSON -- never a diagram: every chart
is built again from the knowledge base, by the same function, so a chart read with a stale or
tampered entry is still exactly the engine's answer for its codes. An entry is used only if it
names every charted code exactly once and nothing else; anything wrong with it, or with the
cache folder, is a miss. The folder (`guidekb/charts/`) and its entries are trusted, read and
written as the knowledge-base cache's are (engine/format/privatecache.py): a folder that is
not the user's, is a link, or that others could write means nothing is read or written.
`GUIDEKB_NO_CACHE=1` turns it off, as it does the other caches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.privatecache import cache_folder, read_entry, write_entry

_PACKAGE = Path(__file__).resolve().parent
_ENGINE = _PACKAGE.parent / "engine"
_code: str | None = None
KEEP = 32  # entries kept


def _code_fingerprint() -> str:
    """guidekb's chart and semantics code: a change to any of it is a miss."""
    global _code
    if _code is None:
        digest = hashlib.sha256()
        for path in [*sorted(_PACKAGE.glob("*.py")), *sorted((_ENGINE / "semantics").glob("*.py"))]:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _code = digest.hexdigest()
    return _code


def _name(kb: KnowledgeBase, limit: int) -> str:
    key = hashlib.sha256(f"{_code_fingerprint()}\0{kb.content_hash}\0{limit}".encode()).hexdigest()
    return f"{key}.json"


def read_grouping(kb: KnowledgeBase, limit: int, charted: Sequence[str]) -> list[tuple[str, ...]] | None:
    """The grouping stored for this knowledge base, if there is a sound one: every code of
    `charted` exactly once, nothing else."""
    folder = cache_folder("charts", create=False)
    entry = None if folder is None else read_entry(folder / _name(kb, limit))
    if entry is None:
        return None
    try:
        data = json.loads(entry)
    except ValueError:
        return None
    groups = data.get("charts") if isinstance(data, dict) else None
    if not isinstance(groups, list) or not all(
            isinstance(g, list) and g and all(isinstance(c, str) for c in g) for g in groups):
        return None
    named = [c for g in groups for c in g]
    if sorted(named) != sorted(charted) or len(set(named)) != len(named):
        return None
    return [tuple(g) for g in groups]


def write_grouping(kb: KnowledgeBase, limit: int, groups: Sequence[Sequence[str]]) -> None:
    """Store the grouping; never fails (no cache is not an error)."""
    folder = cache_folder("charts", create=True)
    if folder is not None:
        data = json.dumps({"charts": [list(g) for g in groups]}).encode("utf-8")
        write_entry(folder, _name(kb, limit), data, keep=KEEP)


__all__ = ["read_grouping", "write_grouping"]
