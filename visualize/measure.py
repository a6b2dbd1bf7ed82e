"""Graphviz's own size of many drawings at once, cached.

Fitting a chart to a page means laying out many trial drawings (one per question a part
might take). Each `dot` process spends about 50 ms starting up and 5-10 ms laying out a
part, so the trials are handed to one `dot` process together (dot reads any number of
graphs from its input and writes one SVG document per graph, in order): the same sizes for
a seventh of the time. Sizes are cached per DOT source, since the handout and the slides
measure the same drawings again when they place them: in memory, and on disk in the user's
cache folder (an SQLite table beside the cache of verified knowledge bases, keyed by
graphviz's version and the DOT source), since `flowchart --list` and the export it names,
or two exports of one book, measure the same drawings in different processes. The disk
cache only saves time: any problem with it (no cache folder, a locked or damaged file) is a
miss, and `GUIDEKB_NO_CACHE=1` turns it off like the other. The database is opened only in a
cache folder nobody else can write, and only if it (and its journal) is a regular file of the
user's that nobody else can write (engine/format/privatecache.py's checks); else it is not
opened at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import graphviz

from guidekb.engine.format.privatecache import cache_enabled, cache_folder, safe_file
from guidekb.visualize.dot import dot_available
from guidekb.visualize.errors import GraphvizMissing

_SIZE = re.compile(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"')
_SCALE = re.compile(rb'<g id="graph0" class="graph" transform="scale\(([\d.]+) ([\d.]+)\)')
_FONT = re.compile(rb'font-size="([\d.]+)"')
_KEPT = 4096  # sizes remembered (a run of every preset measures about 1500 drawings)
_DATABASE = "layouts.sqlite3"  # in guidekb's cache root, beside the folders of the other caches
_BESIDE = ("", "-journal", "-wal", "-shm")  # the database's files: SQLite reads every one


@dataclass(frozen=True)
class Drawn:
    """What graphviz drew: the page size in points, the scale it applied (1 unless `size`
    or `ratio` shrank it) and the font sizes it used, smallest first."""

    width: float
    height: float
    scale: float
    fonts: tuple[float, ...]

    @property
    def smallest_font(self) -> float:
        """The smallest text as printed: its font size times the scale of the drawing."""
        return min(self.fonts, default=0.0) * self.scale


def svgs(sources: Sequence[str]) -> list[bytes]:
    """The SVG of each DOT source, from one `dot` process."""
    if not sources:
        return []
    if not dot_available():
        raise GraphvizMissing("svg")
    try:
        out: bytes = graphviz.pipe("dot", "svg", "\n".join(sources).encode())
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing("svg") from exc
    starts = [m.start() for m in re.finditer(rb"<\?xml ", out)]
    documents = [out[a:b] for a, b in zip(starts, [*starts[1:], len(out)], strict=True)]
    if len(documents) != len(sources):
        raise RuntimeError(f"dot drew {len(documents)} of {len(sources)} graphs")
    return documents


def drawn(svg: bytes) -> Drawn:
    """Size, scale and fonts of one SVG written by graphviz."""
    size = _SIZE.search(svg)
    if size is None:
        raise RuntimeError("not an SVG written by graphviz")
    scale = _SCALE.search(svg)
    factor = min(float(scale.group(1)), float(scale.group(2))) if scale else 1.0
    fonts = tuple(sorted(float(f) for f in _FONT.findall(svg)))
    return Drawn(float(size.group(1)), float(size.group(2)), factor, fonts)


_cache: OrderedDict[str, Drawn] = OrderedDict()


class _DiskSizes:
    """Sizes measured by earlier processes: SQLite in the user's cache folder."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._version = ""
        self._off = False

    def _open(self) -> sqlite3.Connection | None:
        if self._off or not cache_enabled():
            return None
        if self._db is None:
            folder = cache_folder(create=True)
            path = None if folder is None else folder / _DATABASE
            if path is None or not all(safe_file(path.with_name(path.name + suffix), missing_ok=True)
                                       for suffix in _BESIDE):
                self._off = True
                return None
            try:
                db = sqlite3.connect(path, timeout=10, isolation_level=None)
                db.execute("CREATE TABLE IF NOT EXISTS drawn (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self._version = ".".join(map(str, graphviz.version()))
                self._db = db
            except (sqlite3.Error, OSError, RuntimeError, graphviz.ExecutableNotFound):
                self._off = True
                return None
        return self._db

    def _key(self, source: str) -> str:
        return hashlib.sha256(f"{self._version}\0{source}".encode()).hexdigest()

    def get(self, sources: Sequence[str]) -> dict[str, Drawn]:
        db = self._open()
        if db is None or not sources:
            return {}
        keys = {self._key(s): s for s in sources}
        found: dict[str, Drawn] = {}
        try:
            for start in range(0, len(keys), 500):  # SQLite's limit on parameters
                part = list(keys)[start:start + 500]
                marks = ",".join("?" * len(part))
                rows = db.execute(f"SELECT key, value FROM drawn WHERE key IN ({marks})", part)
                for key, value in rows:
                    with contextlib.suppress(ValueError, TypeError, KeyError):
                        width, height, scale, fonts = json.loads(value)
                        found[keys[key]] = Drawn(float(width), float(height), float(scale),
                                                 tuple(float(f) for f in fonts))
        except sqlite3.Error:
            self._off = True
            return {}
        return found

    def put(self, measured: dict[str, Drawn]) -> None:
        db = self._open()
        if db is None or not measured:
            return
        rows = [(self._key(source), json.dumps([d.width, d.height, d.scale, list(d.fonts)]))
                for source, d in measured.items()]
        try:
            db.executemany("INSERT OR REPLACE INTO drawn (key, value) VALUES (?, ?)", rows)
        except sqlite3.Error:
            self._off = True


_disk = _DiskSizes()


def measure_all(sources: Sequence[str]) -> list[Drawn]:
    """What graphviz draws for each DOT source: the uncached ones laid out by one `dot`."""
    missing = list(dict.fromkeys(s for s in sources if s not in _cache))
    if missing:
        known = _disk.get(missing)
        _cache.update(known)
        missing = [s for s in missing if s not in known]
    new = {source: drawn(svg) for source, svg in zip(missing, svgs(missing), strict=True)}
    _cache.update(new)
    _disk.put(new)
    found = [_cache[s] for s in sources]
    while len(_cache) > _KEPT:
        _cache.popitem(last=False)
    return found


def measure(source: str) -> Drawn:
    return measure_all([source])[0]
