"""`--case CASE --steps -o FOLDER`: one 16:9 slide per step of the path, each a slide like
`--preset slide` makes (every text at least 18 pt at 1920x1080, unscaled, 3840x2160 PNG), the
path so far bold and numbered, the current step in blue, split into the same parts as the
chart's slides."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.visualize import style
from guidekb.visualize.chartbook import chart_book, focus_diagram
from guidekb.visualize.measure import measure_all
from guidekb.visualize.paging import SLIDE
from guidekb.visualize.pathway import pathway_diagram
from guidekb.visualize.patient import follow
from guidekb.visualize.steps import step_slides

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
KB = Path("knowledge/hsv-resistance")
CASE = KB / "cases" / "confirmed-resistance.yaml"


@needs_dot
def test_each_step_is_a_16_9_slide_at_18_pt_with_the_path_so_far(hsv_kb: KnowledgeBase) -> None:
    case = load_case(CASE, hsv_kb)
    diagram = pathway_diagram(hsv_kb, "iv_foscarnet")
    path = follow(diagram, case)
    slides = step_slides(chart_book(hsv_kb), case, diagram)
    assert [name for name, _ in slides] == [f"chart-01-step-{n:02d}.png" for n in range(1, len(path.steps) + 1)]
    for page in measure_all([graph.source for _, graph in slides]):
        assert page.scale == 1.0 and page.smallest_font >= 18
        assert abs(page.width - SLIDE.width * 72) <= 1.5 and abs(page.height - SLIDE.height * 72) <= 1.5
    for count, (_, graph) in enumerate(slides, 1):
        numbered = [int(n) for n in re.findall(r'label="(\d+)\. ', graph.source)]
        assert numbered and max(numbered) == count and sorted(set(numbered)) == sorted(numbered)
        assert numbered == sorted(numbered)  # the steps shown are the path's, in order
        current = re.findall(rf'label="{count}\. [^\]]*', graph.source)
        assert current and style.CURRENT in current[0]  # the step being taught, in blue
        assert f"step {count} of {len(path.steps)}" in " ".join(re.sub(r"<[^>]*>", " ", graph.source).split())
    last = slides[-1][1].source
    assert "IV foscarnet" in last  # the last step shows the advice the path ends in


@needs_dot
def test_every_chart_the_case_reaches_advice_in(hsv_kb: KnowledgeBase) -> None:
    case = load_case(CASE, hsv_kb)
    book = chart_book(hsv_kb)
    slides = step_slides(book, case)
    charts = {name[:8] for name, _ in slides}
    assert len(charts) >= 2
    for page in measure_all([graph.source for _, graph in slides]):
        assert page.scale == 1.0 and page.smallest_font >= 18
        assert abs(page.width - SLIDE.width * 72) <= 1.5 and abs(page.height - SLIDE.height * 72) <= 1.5


@needs_dot
def test_cli_writes_the_steps_as_3840x2160_pngs(tmp_path: Path, hsv_kb: KnowledgeBase) -> None:
    out = tmp_path / "slides"
    focus = "stop_ineffective_oral_antiviral"  # a focused chart the case takes several steps through
    result = CliRunner().invoke(app, ["flowchart", "--case", str(CASE), "--focus", focus,
                                      "--steps", "-o", str(out)])
    assert result.exit_code == 0, result.output
    path = follow(focus_diagram(hsv_kb, focus), load_case(CASE, hsv_kb))
    written = sorted(p.name for p in out.glob("*.png"))
    assert len(path.steps) >= 2
    assert written == [f"chart-01-step-{n:02d}.png" for n in range(1, len(path.steps) + 1)]
    for name in (written[0], written[-1]):
        width, height = struct.unpack(">II", (out / name).read_bytes()[16:24])
        assert abs(width - 3840) <= 2 and abs(height - 2160) <= 2, (name, width, height)
