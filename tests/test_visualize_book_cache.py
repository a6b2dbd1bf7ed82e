"""The chart book's grouping kept on disk (guidekb.visualize.bookcache): a later process gets
the same book without the trial merges, and the entry can only save time -- a damaged or
tampered entry, or GUIDEKB_NO_CACHE, means grouping again, never a wrong chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import bookcache, chartbook


def _fresh_process(monkeypatch: pytest.MonkeyPatch, cache_home: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv("GUIDEKB_NO_CACHE", raising=False)
    monkeypatch.setattr(chartbook, "_BOOKS", type(chartbook._BOOKS)())


def _shape(book: chartbook.ChartBook) -> list[Any]:
    return [(c.codes, c.stage, c.diagram.root, sorted(c.diagram.nodes.items())) for c in book.charts]


def _entry(cache_home: Path) -> Path:
    entries = list((cache_home / "guidekb" / "charts").glob("*.json"))
    assert len(entries) == 1
    return entries[0]


def test_a_later_process_gets_the_same_book_without_the_trial_merges(
        hsv_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_process(monkeypatch, tmp_path)
    first = chartbook.chart_book(hsv_kb)
    stored = json.loads(_entry(tmp_path).read_text())["charts"]
    assert sorted(map(tuple, stored)) == sorted(c.codes for c in first.charts if c.conclusion is None)
    _fresh_process(monkeypatch, tmp_path)

    def no_merging(*args: Any) -> Any:
        raise AssertionError("the grouping was worked out again")

    monkeypatch.setattr(chartbook, "_merge_similar", no_merging)
    assert _shape(chartbook.chart_book(hsv_kb)) == _shape(first)


@pytest.mark.parametrize("entry", [b"{not json", b'{"charts": [["iv_foscarnet"]]}',
                                   b'{"charts": "all"}', b"[]"])
def test_a_damaged_or_tampered_entry_is_grouped_again(hsv_kb: KnowledgeBase, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, entry: bytes) -> None:
    """An entry that does not name every charted code exactly once is not used."""
    _fresh_process(monkeypatch, tmp_path)
    expected = _shape(chartbook.chart_book(hsv_kb))
    _entry(tmp_path).write_bytes(entry)
    _fresh_process(monkeypatch, tmp_path)
    assert _shape(chartbook.chart_book(hsv_kb)) == expected


def test_a_regrouped_entry_still_gives_exact_charts(hsv_kb: KnowledgeBase, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the grouping comes from the file: each chart is built from the knowledge base, so
    an entry grouping the codes otherwise changes the book's layout, never a chart's answer."""
    _fresh_process(monkeypatch, tmp_path)
    book = chartbook.chart_book(hsv_kb)
    singles = [[code] for chart in book.charts for code in chart.codes]  # conclusion charts have none
    _entry(tmp_path).write_text(json.dumps({"charts": singles}))
    _fresh_process(monkeypatch, tmp_path)
    regrouped = chartbook.chart_book(hsv_kb)
    assert [c.codes for c in regrouped.charts] != [c.codes for c in book.charts]
    assert sorted(c.codes[0] for c in regrouped.charts if c.codes) == sorted(s[0] for s in singles)
    from guidekb.visualize.decisions import build_diagram
    from guidekb.visualize.pathway import question_order
    for chart in (c for c in regrouped.charts if c.codes):
        again = build_diagram(hsv_kb, chart.codes[0], order=question_order(hsv_kb),
                              milestones=chartbook.milestones_of(hsv_kb, chart.codes))
        assert sorted(chart.diagram.nodes.items()) == sorted(again.nodes.items())


def test_no_cache_writes_nothing(hsv_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_process(monkeypatch, tmp_path)
    monkeypatch.setenv("GUIDEKB_NO_CACHE", "1")
    chartbook.chart_book(hsv_kb)
    assert not (tmp_path / "guidekb").exists()
    assert bookcache.read_grouping(hsv_kb, chartbook.PAGE_LIMIT, ["x"]) is None
