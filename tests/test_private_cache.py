"""guidekb's caches trust their folder only when nobody else can write it
(engine/format/privatecache.py): the chart groupings (visualize/bookcache.py), the drawing sizes
(visualize/measure.py) and the verified knowledge bases (engine/format/kbcache.py) read and
write nothing in a cache folder that is group- or world-writable, someone else's or a link --
a miss, never an error -- and work as before in a private one."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guidekb.engine.format import kbcache, privatecache
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import bookcache, measure
from tests.conftest import HSV_KB
from tests.test_kbcache import CountingLoader

LIMIT = 30
CODES = ["a", "b", "c"]
GROUPS = [("a", "c"), ("b",)]
SOURCES = ['digraph { a -> b }', 'digraph { node [fontsize=18]; a -> b -> c }']
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
needs_root = pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache root, `$XDG_CACHE_HOME/guidekb`, not created yet."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GUIDEKB_NO_CACHE", raising=False)
    return tmp_path / "xdg" / "guidekb"


def _files(folder: Path) -> list[str]:
    """Every file and folder below `folder`, relative to it."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _group_writable(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o770)


def _world_writable(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)


def _someone_elses(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, os.getuid() + 4242, -1)


def _a_link(folder: Path) -> None:
    target = folder.with_name(folder.name + "-elsewhere")
    target.mkdir(mode=0o700, parents=True)
    folder.symlink_to(target)


UNSAFE = [pytest.param(_group_writable, id="group-writable"),
          pytest.param(_world_writable, id="world-writable"),
          pytest.param(_someone_elses, id="someone else's", marks=needs_root),
          pytest.param(_a_link, id="a link")]
# The root, when it is the user's and only open to others (an older guidekb under umask 002),
# is closed by the first write instead (test_an_open_root_of_ours_is_closed_by_a_write).
UNSAFE_ROOT = [pytest.param(_someone_elses, id="someone else's", marks=needs_root),
               pytest.param(_a_link, id="a link")]


@pytest.mark.parametrize("opened", [0o775, 0o777])
def test_an_open_root_of_ours_is_closed_by_a_write(hsv_kb: KnowledgeBase, home: Path, opened: int) -> None:
    home.mkdir(parents=True)
    home.chmod(opened)
    assert _grouping(hsv_kb) is None and home.stat().st_mode & 0o777 == opened, "a read changes nothing"
    bookcache.write_grouping(hsv_kb, LIMIT, GROUPS)
    assert home.stat().st_mode & 0o777 == opened & ~0o022
    assert _grouping(hsv_kb) == GROUPS


# --- the chart groupings -----------------------------------------------------------------------

def _grouping(kb: KnowledgeBase) -> list[tuple[str, ...]] | None:
    return bookcache.read_grouping(kb, LIMIT, CODES)


def _plant_grouping(kb: KnowledgeBase, folder: Path, scratch: Path) -> None:
    """A sound entry for `kb`, put where bookcache looks, as another user could."""
    real = folder.resolve()
    real.mkdir(mode=0o700, parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:  # written by the module itself, in a safe place
        patch.setenv("XDG_CACHE_HOME", str(scratch))
        bookcache.write_grouping(kb, LIMIT, GROUPS)
        [entry] = (scratch / "guidekb" / "charts").glob("*.json")
    shutil.move(entry, real / entry.name)


@pytest.mark.parametrize(("which", "unsafe"), [*(pytest.param("root", *p.values, marks=p.marks, id=f"root-{p.id}")
                                                 for p in UNSAFE_ROOT),
                                               *(pytest.param("charts", *p.values, marks=p.marks, id=f"charts-{p.id}")
                                                 for p in UNSAFE)])
def test_an_unsafe_folder_means_no_grouping_read_or_written(hsv_kb: KnowledgeBase, home: Path, tmp_path: Path,
                                                             which: str, unsafe: Callable[[Path], None]) -> None:
    folder = home if which == "root" else home / "charts"
    unsafe(folder)
    before = _files(home)
    bookcache.write_grouping(hsv_kb, LIMIT, GROUPS)
    assert _files(home) == before, "nothing is written in a folder others could write"
    _plant_grouping(hsv_kb, home / "charts", tmp_path / "planting")
    assert _grouping(hsv_kb) is None, "an entry in a folder others could write is not read"


def test_an_entry_others_could_write_is_not_read(hsv_kb: KnowledgeBase, home: Path) -> None:
    bookcache.write_grouping(hsv_kb, LIMIT, GROUPS)
    [entry] = (home / "charts").glob("*.json")
    entry.chmod(0o666)
    assert _grouping(hsv_kb) is None
    entry.chmod(0o600)
    assert _grouping(hsv_kb) == GROUPS


def test_a_private_folder_keeps_the_grouping(hsv_kb: KnowledgeBase, home: Path) -> None:
    assert _grouping(hsv_kb) is None
    assert not home.exists(), "a read creates nothing"
    bookcache.write_grouping(hsv_kb, LIMIT, GROUPS)
    assert _grouping(hsv_kb) == GROUPS
    assert home.stat().st_mode & 0o777 == 0o700 and (home / "charts").stat().st_mode & 0o777 == 0o700
    [entry] = (home / "charts").glob("*.json")
    assert entry.stat().st_mode & 0o777 == 0o600
    assert not list((home / "charts").glob(".tmp-*"))


def test_old_groupings_are_pruned(hsv_kb: KnowledgeBase, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bookcache, "KEEP", 2)
    for limit in (10, 20, 30):
        bookcache.write_grouping(hsv_kb, limit, GROUPS)
    assert len(list((home / "charts").glob("*.json"))) == 2
    assert bookcache.read_grouping(hsv_kb, 30, CODES) == GROUPS  # the newest kept


# --- the drawing sizes ---------------------------------------------------------------------------

def _fresh_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "_cache", type(measure._cache)())
    monkeypatch.setattr(measure, "_disk", measure._DiskSizes())


def _count_dot(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many drawings each call to `dot` lays out."""
    calls: list[int] = []
    real = measure.svgs

    def counting(sources: Any) -> list[bytes]:
        calls.append(len(sources))
        return real(sources)

    monkeypatch.setattr(measure, "svgs", counting)
    return calls


@needs_dot
@pytest.mark.parametrize("unsafe", UNSAFE_ROOT)
def test_an_unsafe_root_means_no_sizes_read_or_written(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       unsafe: Callable[[Path], None]) -> None:
    unsafe(home)
    before = _files(home)
    _fresh_sizes(monkeypatch)
    expected = measure.measure_all(SOURCES)
    assert _files(home) == before, "no database is made in a folder others could write"
    # a database holding the sizes, put there as another user could: not opened, `dot` runs
    planted = tmp_path / "planted"
    monkeypatch.setenv("XDG_CACHE_HOME", str(planted))
    _fresh_sizes(monkeypatch)
    measure.measure_all(SOURCES)
    shutil.copy(planted / "guidekb" / "layouts.sqlite3", home.resolve() / "layouts.sqlite3")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home.parent))
    _fresh_sizes(monkeypatch)
    calls = _count_dot(monkeypatch)
    assert measure.measure_all(SOURCES) == expected
    assert calls == [len(SOURCES)], "the sizes came from a database others could have written"


def _database_links_elsewhere(database: Path) -> None:
    elsewhere = database.with_name("elsewhere.sqlite3")
    database.rename(elsewhere)
    database.symlink_to(elsewhere)


@needs_dot
@pytest.mark.parametrize("unsafe", [lambda db: db.chmod(0o666), lambda db: db.chmod(0o620),
                                    _database_links_elsewhere], ids=["world-writable", "group-writable", "a link"])
def test_an_unsafe_database_file_is_not_opened(home: Path, monkeypatch: pytest.MonkeyPatch,
                                               unsafe: Callable[[Path], None]) -> None:
    _fresh_sizes(monkeypatch)
    expected = measure.measure_all(SOURCES)
    unsafe(home / "layouts.sqlite3")
    _fresh_sizes(monkeypatch)
    calls = _count_dot(monkeypatch)
    assert measure.measure_all(SOURCES) == expected
    assert calls == [len(SOURCES)]
    assert measure._disk._open() is None


@needs_dot
def test_a_private_root_keeps_the_sizes(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_sizes(monkeypatch)
    expected = measure.measure_all(SOURCES)
    assert home.stat().st_mode & 0o777 == 0o700
    assert privatecache.safe_file(home / "layouts.sqlite3")
    _fresh_sizes(monkeypatch)
    calls = _count_dot(monkeypatch)
    assert measure.measure_all(SOURCES) == expected
    assert calls == [0]
    with sqlite3.connect(home / "layouts.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM drawn").fetchone() == (len(SOURCES),)


# --- the verified knowledge bases, in their default folder --------------------------------------

@pytest.mark.parametrize(("which", "unsafe"), [*(pytest.param("root", *p.values, marks=p.marks, id=f"root-{p.id}")
                                                 for p in UNSAFE_ROOT),
                                               *(pytest.param("kb", *p.values, marks=p.marks, id=f"kb-{p.id}")
                                                 for p in UNSAFE)])
def test_an_unsafe_folder_means_no_knowledge_base_cached(home: Path, tmp_path: Path, which: str,
                                                        unsafe: Callable[[Path], None]) -> None:
    kb = Path(shutil.copytree(HSV_KB, tmp_path / "kb-copy"))
    unsafe(home if which == "root" else home / "kb")
    before = _files(home)
    loader = CountingLoader()
    for _ in range(2):
        kbcache.load_cached(kb, loader=loader)
    assert loader.calls == 2 and _files(home) == before


def test_a_private_folder_keeps_the_knowledge_base(home: Path, tmp_path: Path) -> None:
    kb = Path(shutil.copytree(HSV_KB, tmp_path / "kb-copy"))
    loader = CountingLoader()
    for _ in range(2):
        kbcache.load_cached(kb, loader=loader)
    assert loader.calls == 1
    assert home.stat().st_mode & 0o777 == 0o700 and (home / "kb").stat().st_mode & 0o777 == 0o700
    assert len(list((home / "kb").glob("*.json"))) == 1


def test_no_cache_still_turns_every_cache_off(hsv_kb: KnowledgeBase, home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDEKB_NO_CACHE", "1")
    assert privatecache.cache_folder("charts", create=True) is None
    bookcache.write_grouping(hsv_kb, LIMIT, GROUPS)
    assert _grouping(hsv_kb) is None
    assert not home.exists()
