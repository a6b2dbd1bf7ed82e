"""The disk cache of drawing sizes (guidekb.visualize.measure): a later process gets the sizes
an earlier one measured without running `dot`, and the cache can only save time -- a damaged
file or GUIDEKB_NO_CACHE means measuring again, never a wrong size or an error."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from guidekb.visualize import measure

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")

SOURCES = ['digraph { a -> b }', 'digraph { node [fontsize=18]; a -> b -> c }']


def _fresh_process(monkeypatch: pytest.MonkeyPatch, cache_home: Path) -> None:
    """What a new process would have: nothing in memory, the cache folder under `cache_home`."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setattr(measure, "_cache", type(measure._cache)())
    monkeypatch.setattr(measure, "_disk", measure._DiskSizes())


def _no_dot(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def counting(sources: Any) -> list[bytes]:
        calls.append(len(sources))
        if sources:
            raise AssertionError("dot ran for sizes the cache holds")
        return []

    monkeypatch.setattr(measure, "svgs", counting)
    return calls


def test_a_later_process_reads_the_sizes_without_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIDEKB_NO_CACHE", raising=False)
    _fresh_process(monkeypatch, tmp_path)
    first = measure.measure_all(SOURCES)
    assert first[1].fonts == (18.0, 18.0, 18.0) and first[1].height > first[0].height
    assert (tmp_path / "guidekb" / "layouts.sqlite3").is_file()
    _fresh_process(monkeypatch, tmp_path)
    _no_dot(monkeypatch)
    assert measure.measure_all(SOURCES) == first


def test_a_damaged_cache_file_is_measured_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIDEKB_NO_CACHE", raising=False)
    _fresh_process(monkeypatch, tmp_path)
    expected = measure.measure_all(SOURCES)
    (tmp_path / "guidekb" / "layouts.sqlite3").write_bytes(b"not a database" * 100)
    _fresh_process(monkeypatch, tmp_path)
    assert measure.measure_all(SOURCES) == expected


def test_a_wrong_value_in_the_cache_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIDEKB_NO_CACHE", raising=False)
    _fresh_process(monkeypatch, tmp_path)
    expected = measure.measure_all(SOURCES)
    db = measure._disk._open()
    assert db is not None
    db.execute("UPDATE drawn SET value = '[1, 2]'")
    _fresh_process(monkeypatch, tmp_path)
    assert measure.measure_all(SOURCES) == expected


def test_no_cache_means_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDEKB_NO_CACHE", "1")
    _fresh_process(monkeypatch, tmp_path)
    measure.measure_all(SOURCES)
    assert not (tmp_path / "guidekb").exists()
