"""A cache of verified knowledge bases, keyed by the content of every file the loader reads.

Why. `guidekb run CASE` used to load and verify the knowledge base on every call. Measured on
the HSV knowledge base (cProfile, 20 loads in one process, 2-core machine): about 65 ms a load,
three quarters of it composing the YAML with locations in pure Python, an eighth the
cross-checks and provenance verification, a twentieth pydantic validation. A cache that only
said "this content was verified" would save the eighth; this one also saves the YAML. (YAML
reading has since moved to libyaml's composer, engine/format/yamlfast.py: a load is about
20 ms now, and a hit still saves most of it.)

What is stored holds no executable state: a JSON document of plain data (the models as
`model_dump(mode="json")`, the source files' names and sections, the locations), never a
pickle. Reading an entry
re-validates every model through its pydantic schema, rebuilds the `KnowledgeBase`, and
accepts it only if its `content_hash` (computed from the rebuilt content) equals the one
recorded when the knowledge base was loaded and verified from its files. A round trip that
would lose anything is caught the same way before an entry is ever written. So a corrupted,
truncated, foreign or stale entry can at worst be a miss: the knowledge base is then loaded and
verified from its files as if there were no cache.

The key (a SHA-256) covers:

* the bytes and relative names of every file the loader reads: manifest.yaml, facts.yaml,
  outcomes.yaml and every rule file `list_files` finds. The source texts named by the
  manifest (which the manifest, in the key, fixes) are read again on every hit, with the
  loader's checks, and covered by the content hash compared: a changed source is a miss;
* the knowledge-base path as given and the working directory (messages locate files relative
  to it);
* guidekb's own loading code (every module of `engine/format`, `engine/semantics` and
  `engine/errors.py`), the versions of Python and pydantic, and this cache's format number.

Trust. Entries live under `$XDG_CACHE_HOME/guidekb/kb/` (else `~/.cache/guidekb/kb/`), a
folder created 0700; an entry is read or written only if that folder is a real folder, the
user's and closed to others, in a `guidekb/` nobody else can write, and read only if the file is
the user's and writable by nobody else, as Python trusts its own `__pycache__` (the checks
are engine/format/privatecache.py's, shared with guidekb's other caches). Even then nothing
in it is executed (no pickle, no code): a forged entry could at worst stand for a knowledge
base whose quotes were never verified, and forging one takes write access to the user's
private folder -- the user's own account, which could as well edit guidekb itself. (An HMAC
would need a key kept in that same folder, so it would add nothing.)

Writes are atomic (a temporary file in the same folder, renamed), so concurrent writers and
readers never see half an entry; the 32 most recent entries are kept, older ones removed.
`GUIDEKB_NO_CACHE=1` (or `load_cached(..., use_cache=False)`, `guidekb run --no-cache`) turns
the cache off. A knowledge base with problems is never cached:
they are reported on every load, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from guidekb.engine.format.kbfiles import YAML_SUFFIXES, list_files
from guidekb.engine.format.knowledge import KnowledgeBase, Location
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.models import FactSpec, Manifest, Outcome, Rule
from guidekb.engine.format.privatecache import (
    cache_enabled,
    cache_folder,
    cache_root,
    private_folder,
    read_entry,
    write_entry,
)
from guidekb.engine.format.sources import SourceRefused, SourceText, read_source

FORMAT = 1  # bump when the layout of an entry changes
_ENGINE = Path(__file__).resolve().parent.parent  # guidekb/engine
_FIXED_FILES = ("manifest.yaml", "facts.yaml", "outcomes.yaml")

try:  # orjson parses the entry several times faster; json is the fallback, same data
    import orjson

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)
except ImportError:  # pragma: no cover - orjson is a dependency
    def _loads(data: bytes) -> Any:
        return json.loads(data)

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")


def cache_dir() -> Path:
    return cache_root() / "kb"


_code: bytes | None = None


def _code_fingerprint() -> bytes:
    """guidekb's loading code, Python and pydantic: a change to any of them is a miss."""
    global _code
    if _code is None:
        import pydantic

        digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{pydantic.VERSION}\0".encode())
        files = [_ENGINE / "errors.py", *sorted((_ENGINE / "format").glob("*.py")),
                 *sorted((_ENGINE / "semantics").glob("*.py"))]
        for path in files:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _code = digest.digest()
    return _code


def content_key(root: Path) -> str | None:
    """The cache key of the knowledge base in `root`, or None when the cache cannot be used
    (a file missing or unreadable, a rule folder the loader would complain about): the loader
    then runs and reports exactly what it always reports."""
    digest = hashlib.sha256(_code_fingerprint())
    digest.update(f"{root}\0{os.getcwd()}\0".encode())
    try:
        fixed = [root / name for name in _FIXED_FILES]
        listing = list_files(root / "rules", YAML_SUFFIXES, "rule")
        if listing.problems or not listing.files:
            return None
        for path in [*fixed, *listing.files]:
            if not stat.S_ISREG(path.stat().st_mode):
                return None
            data = path.read_bytes()
            digest.update(f"{os.path.relpath(path, root)}\0{len(data)}\0".encode() + data)
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


# --- entries: plain data to and from a KnowledgeBase ------------------------------------------

def _location(value: Any) -> Location:
    file, line, column = value
    if not (isinstance(file, str) and type(line) is int and type(column) is int):
        raise ValueError("bad location")
    return Location(file, line, column)


def _locations(values: Mapping[str, Location]) -> dict[str, list[Any]]:
    return {name: [at.file, at.line, at.column] for name, at in values.items()}


def _to_entry(kb: KnowledgeBase, key: str) -> dict[str, Any]:
    def dump(model: Any) -> Any:
        return model.model_dump(mode="json", by_alias=True, exclude_unset=True)

    sources = {source_id: {"file": kb.documents[source_id].file, "sections": list(text.section_titles)}
               for source_id, text in kb.sources.items()}
    return {
        "format": FORMAT, "key": key, "content_hash": kb.content_hash,
        "manifest": dump(kb.manifest),
        "facts": {name: dump(spec) for name, spec in kb.facts.items()},
        "outcomes": {code: dump(outcome) for code, outcome in kb.outcomes.items()},
        "rules": [dump(rule) for rule in kb.rules],
        "sources": sources,
        "rule_locations": _locations(kb.rule_locations),
        "fact_locations": _locations(kb.fact_locations),
        "outcome_locations": _locations(kb.outcome_locations),
    }


def _from_entry(root: Path, entry: Any, key: str) -> KnowledgeBase | None:
    """The knowledge base an entry holds, every model validated again; None unless the entry
    is for this key and its content hashes to what was verified."""
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        return None
    sources: dict[str, SourceText] = {}
    for source_id, text in entry["sources"].items():
        file, titles = text["file"], text["sections"]
        if not (isinstance(file, str) and isinstance(titles, list)
                and all(isinstance(t, str) for t in titles)):
            return None
        # Read again exactly as the loader reads it (inside the knowledge base only, a regular
        # UTF-8 text file, every section found); the content hash below covers its text, so a
        # source changed since it was verified is a miss.
        text = read_source(root, source_id, file, titles)
        if isinstance(text, SourceRefused) or text.missing_sections:
            return None
        sources[source_id] = text
    kb = KnowledgeBase(
        root=root,
        manifest=Manifest.model_validate(entry["manifest"]),
        facts={name: FactSpec.model_validate(spec) for name, spec in entry["facts"].items()},
        outcomes={code: Outcome.model_validate(o) for code, o in entry["outcomes"].items()},
        rules=tuple(Rule.model_validate(rule) for rule in entry["rules"]),
        sources=sources,
        rule_locations={n: _location(v) for n, v in entry["rule_locations"].items()},
        fact_locations={n: _location(v) for n, v in entry["fact_locations"].items()},
        outcome_locations={n: _location(v) for n, v in entry["outcome_locations"].items()},
    )
    return kb if kb.content_hash == entry["content_hash"] else None


# --- files ------------------------------------------------------------------------------------

def _folder(cache: Path | None, create: bool) -> Path | None:
    """The folder of entries, if it is safe to use: `cache` as given, else guidekb's `kb/`."""
    return cache_folder("kb", create=create) if cache is None else private_folder(cache, create=create)


def _read(root: Path, cache: Path | None, key: str) -> KnowledgeBase | None:
    folder = _folder(cache, create=False)
    data = None if folder is None else read_entry(folder / f"{key}.json")
    if data is None:
        return None
    try:
        return _from_entry(root, _loads(data), key)
    except Exception:  # truncated, corrupted, foreign, an older shape: a miss, never an error
        return None


def _write(root: Path, cache: Path | None, kb: KnowledgeBase, key: str) -> None:
    try:
        data = _dumps(_to_entry(kb, key))
        if _from_entry(root, _loads(data), key) is None:
            return  # the round trip would lose something: never store what would not come back
    except Exception:  # what cannot be stored is simply not cached
        return
    folder = _folder(cache, create=True)
    if folder is not None:
        write_entry(folder, f"{key}.json", data, keep=KEEP)


KEEP = 32  # entries kept: an author editing a knowledge base makes a new one per edit


def load_cached(root: Path | str, *, cache: Path | None = None, use_cache: bool = True,
                loader: Callable[[Path], KnowledgeBase] = load_knowledge_base) -> KnowledgeBase:
    """The knowledge base in `root`: from the cache when exactly this content was loaded and
    verified before, else loaded and verified by `loader` (and then cached). Problems raise
    exactly as `loader` raises them; a knowledge base with problems is never cached."""
    root = Path(root)
    key = content_key(root) if use_cache and cache_enabled() else None
    if key is None:
        return loader(root)
    kb = _read(root, cache, key)
    if kb is None:
        kb = loader(root)
        _write(root, cache, kb, key)
    return kb


__all__ = ["FORMAT", "cache_dir", "cache_enabled", "content_key", "load_cached"]
