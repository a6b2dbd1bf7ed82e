"""The commands shown in docs/educators.md run, and the images it embeds exist."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.format.knowledge import KnowledgeBase
from tests.conftest import ROOT

PAGE = ROOT / "docs" / "educators.md"


def shell_commands() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    found: list[str] = []
    for block in re.findall(r"^```shell\n(.*?)^```", text, re.M | re.S):
        found += [line for line in block.splitlines() if line.startswith("guidekb ")]
    return found


def test_the_page_shows_commands_and_images_that_exist() -> None:
    assert len(shell_commands()) >= 5
    for image in re.findall(r"\]\((img/[^)]+)\)", PAGE.read_text(encoding="utf-8")):
        assert (PAGE.parent / image).is_file(), image


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
# --all and the presets take minutes; tests/test_visualize_presets.py runs the same preset
# commands (overview and --chart slides, a folder of slides, the handout on both papers).
@pytest.mark.parametrize("command", [c for c in shell_commands() if "--all" not in c and "--preset" not in c])
def test_each_command_runs(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the default knowledge base is a path relative to the repository
    argv = shlex.split(command, comments=True)[1:]
    if "-o" in argv:
        i = argv.index("-o") + 1
        argv[i] = str(tmp_path / argv[i])
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    if "-o" in argv:
        assert Path(argv[argv.index("-o") + 1]).stat().st_size > 100


def test_the_milestones_the_pages_quote_are_the_books(hsv_kb: KnowledgeBase) -> None:
    """The README and educators.md quote milestones with their chart numbers ("Resistance
    suspected? (see chart 10)"): each is a question some chart of the default book asks, so a
    change to the rules or the grouping that renumbers the charts fails here, not in print."""
    from guidekb.visualize.chartbook import chart_book

    asked = {q.text for chart in chart_book(hsv_kb).charts for q in chart.diagram.vocabulary.questions}
    quoted = {m for page in ("README.md", "docs/educators.md")
              for m in re.findall(r'"([^"?]+\? \(see chart \d+\))"', (ROOT / page).read_text(encoding="utf-8"))}
    assert len(quoted) >= 2 and quoted <= asked, sorted(quoted - asked)
