"""Rendering: every view in every format, hostile KB text inert everywhere, the CLI, and a
clear error without graphviz."""

from __future__ import annotations

import html.parser
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.visualize.chartbook import chart_book
from guidekb.visualize.dot import book_graph, diagram_graph, render
from guidekb.visualize.export import FORMATS, VIEWS, chart, write_all
from guidekb.visualize.html import html_page
from guidekb.visualize.mermaid import book_mermaid
from tests.visualize_kb import HOSTILE, write_kb

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
EVIL = "<script>alert(\"x\")</script>"


@pytest.fixture(scope="module")
def hostile_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_kb(tmp_path_factory.mktemp("hostile") / "kb", hostile=True))


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    ns = "{http://www.w3.org/2000/svg}"
    assert not list(root.iter(f"{ns}script")) and not list(root.iter("script"))
    return " ".join("".join(e.itertext()) for e in root.iter(f"{ns}text"))


@needs_dot
@pytest.mark.parametrize("view", VIEWS)
def test_hostile_text_is_plain_text_in_svg(hostile_kb: KnowledgeBase, view: str) -> None:
    svg = chart(hostile_kb, view, "svg")
    text = _svg_text(svg)
    assert "<script>alert" in text  # shown, as text
    assert "{brace}" in text and "\\N" in text
    after_tick = re.findall(r"`tick` (\S+)", text)
    assert after_tick and set(after_tick) == {"\\N"}, "graphviz must not expand \\N to a node name"
    assert b"<script" not in svg.lower()
    tooltips = re.findall(rb'xlink:title="([^"]*)"', svg)
    assert any(b"&lt;script&gt;" in t for t in tooltips)


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, _ in attrs:
            assert not name.startswith("on"), f"event handler attribute {name}"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@needs_dot
@pytest.mark.parametrize("view", VIEWS)
def test_hostile_text_is_plain_text_in_html(hostile_kb: KnowledgeBase, view: str) -> None:
    page = chart(hostile_kb, view, "html").decode()
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and "<script" not in page.lower()
    text = "".join(parser.text)
    assert "<script>alert" in text and "Toy guideline" in text
    assert "src=" not in page and "http" not in page.replace("http://www.w3.org", "")  # fetches nothing
    assert 'id="rule-a-when-high-score"' in page and 'href="#rule-a-when-high-score"' in page


@pytest.mark.parametrize("view", VIEWS)
def test_hostile_text_is_inert_in_mermaid(hostile_kb: KnowledgeBase, view: str) -> None:
    text = chart(hostile_kb, view, "mermaid").decode()
    for raw in ("<script", "{brace}", "`", "\\", "|pipe|", "[bracket]"):
        assert raw not in text
    for line in text.splitlines()[4:]:
        # every label is one double-quoted string with no quote inside
        for label in re.findall(r'"([^"]*)"', line):
            assert "<" not in label.replace("<br/>", "")
        assert line.count('"') % 2 == 0
    assert "#60;script#62;" in text


@needs_dot
@pytest.mark.parametrize("view", VIEWS)
def test_hostile_dot_source_renders_with_dot(hostile_kb: KnowledgeBase, view: str) -> None:
    source = chart(hostile_kb, view, "dot").decode()
    import graphviz

    svg = graphviz.Source(source).pipe(format="svg")
    assert "<script>alert" in _svg_text(svg)


@needs_dot
def test_hostile_text_is_inert_in_a_book_of_charts(hostile_kb: KnowledgeBase) -> None:
    book = chart_book(hostile_kb, limit=3)
    assert len(book.charts) > 1
    svg = render(book_graph(book), "svg")
    assert "<script>alert" in _svg_text(svg) and b"<script" not in svg.lower()
    mermaid = book_mermaid(book)
    assert "<script" not in mermaid and "{brace}" not in mermaid
    charts = [(f"{HOSTILE} {k}", render(diagram_graph(c.diagram, HOSTILE), "svg").decode())
              for k, c in enumerate(book.charts)]
    page = html_page(hostile_kb, charts, HOSTILE)
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and "<script" not in page.lower()
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids are unique across the charts of a page"


@needs_dot
def test_every_view_and_format_renders_for_the_toy_kb(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path / "kb"))
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph",
             "mermaid": b"---", "html": b"<!DOCTYPE html>"}
    for view in VIEWS:
        for fmt in (f for f in FORMATS if f != "markdown"):  # the text version: decision charts only
            assert chart(kb, view, fmt).startswith(magic[fmt]), (view, fmt)
            assert chart(kb, view, fmt, focus="drug_b").startswith(magic[fmt]), (view, fmt)


@needs_dot
def test_default_kb_renders_both_views(hsv_kb: KnowledgeBase) -> None:
    for view in ("decisions", "rules"):
        svg = chart(hsv_kb, view, "svg")
        text = _svg_text(svg)
        assert hsv_kb.manifest.title in text
        assert b'xlink:href="#rule-foscarnet-for-resistant-hsv"' in svg
    assert b"IV foscarnet" in chart(hsv_kb, "decisions", "svg", focus="iv_foscarnet")


@needs_dot
def test_outcome_nodes_carry_the_source_quote_as_tooltip(hsv_kb: KnowledgeBase) -> None:
    svg = chart(hsv_kb, "decisions", "svg", focus="iv_foscarnet").decode()
    quote = hsv_kb.rule("foscarnet-for-resistant-hsv").provenance[0].quote
    assert re.search(r'xlink:href="#rule-foscarnet-for-resistant-hsv" xlink:title="[^"]*'
                     + re.escape(quote[:40]), svg)


runner = CliRunner()


def test_cli_writes_dot_and_mermaid_without_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb = write_kb(tmp_path / "kb")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for fmt in ("png", "svg", "pdf", "html"):
        result = runner.invoke(app, ["flowchart", "--kb", str(kb), "--format", fmt, "-o", str(tmp_path / "x")])
        assert result.exit_code == 2, result.output
        assert "apt-get install graphviz" in result.output and "Traceback" not in result.output
        assert not (tmp_path / "x").exists()
    for fmt in ("dot", "mermaid"):
        result = runner.invoke(app, ["flowchart", "--kb", str(kb), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert ("digraph" if fmt == "dot" else "flowchart TD") in result.output
    written = write_all(load_knowledge_base(kb), tmp_path / "out")
    assert written.skipped == ["svg", "png", "pdf", "html"]
    assert sorted(p.name for p in written.files) == ["decisions.dot", "decisions.md", "decisions.mmd",
                                                     "overview.dot", "overview.mmd", "rules.dot", "rules.mmd"]


@needs_dot
def test_cli_takes_the_format_from_the_file_name(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb")
    for name, magic in (("c.png", b"\x89PNG"), ("c.pdf", b"%PDF"), ("c.mmd", b"---"), ("c.gv", b"digraph")):
        result = runner.invoke(app, ["flowchart", "--kb", str(kb), "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).read_bytes().startswith(magic), name


def test_cli_rejects_unknown_codes_views_and_formats(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb")
    for args in (["--focus", "drug_q"], ["--view", "tree"], ["--format", "gif"]):
        result = runner.invoke(app, ["flowchart", "--kb", str(kb), "--format", "dot", *args])
        assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(app, ["flowchart", "--kb", str(kb), "--focus", "drug_q", "--format", "dot"])
    assert "unknown code 'drug_q'" in result.output


@needs_dot
def test_cli_all_writes_every_view_and_format(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb")
    out = tmp_path / "charts"
    result = runner.invoke(app, ["flowchart", "--kb", str(kb), "--all", "-o", str(out)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {f"{v}.{e}" for v in VIEWS for e in ("svg", "png", "pdf", "dot", "mmd", "html")} <= names
    assert (out / "by-code" / "drug_b.png").read_bytes().startswith(b"\x89PNG")


def test_hostile_constant_is_really_hostile() -> None:
    assert EVIL in HOSTILE and "\n" in HOSTILE and "{" in HOSTILE
