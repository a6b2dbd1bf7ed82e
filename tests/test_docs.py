"""Documentation examples are run: every file a page writes and every command it shows.

In a Markdown page (the README's commands run in the repository itself), a fenced block with `title="path"` is written to that path (relative to a
fresh folder; `restore="..."` rewrites the first block of that title), and a `console` block
is a session: each `$ guidekb ...` line is run and must print the lines below it. A last line
`...` means "the output starts like this"; `[exit N]` is the expected exit status (default 0).
Blocks tagged `kind=<file kind>` are validated against that file kind's model. The ```python
blocks of a page are run in order, in one namespace, from the repository's root, and the
`test_*` functions they define are called; on the API and QA pages they may import only the
public modules (`guidekb`, `guidekb.strategies`).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from guidekb.engine.schema import FILE_KINDS
from tests.conftest import ROOT

FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)
ATTR = re.compile(r'(\w+)="([^"]*)"|(\w+)=(\S+)')
PAGES = [p for p in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"] if p.exists()]


@dataclass
class Block:
    lang: str
    attrs: dict[str, str]
    body: str
    line: int


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        info = match.group("info").strip()
        lang = info.split(" ", 1)[0]
        attrs = {m.group(1) or m.group(3): m.group(2) or m.group(4) for m in ATTR.finditer(info)}
        found.append(Block(lang, attrs, match.group("body"), text[: match.start()].count("\n") + 1))
    return found


def run_session(block: Block, cwd: Path, page: Path) -> None:
    lines = block.body.rstrip("\n").split("\n")
    commands: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    for command, expected in commands:
        argv = shlex.split(command)
        assert argv[0] == "guidekb", f"{page.name}:{block.line}: only guidekb commands are run"
        result = subprocess.run([sys.executable, "-m", "guidekb", *argv[1:]], cwd=cwd, capture_output=True,
                                text=True, timeout=120, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
        status = 0
        if expected and re.fullmatch(r"\[exit \d+\]", expected[-1]):
            status = int(expected.pop()[6:-1])
        actual = [line.rstrip() for line in (result.stdout + result.stderr).rstrip("\n").split("\n")]
        where = f"{page.name}:{block.line}: `{command}`"
        assert result.returncode == status, f"{where} exited {result.returncode}\n{result.stderr}"
        if expected and expected[-1] == "...":
            assert actual[: len(expected) - 1] == [e.rstrip() for e in expected[:-1]], where
        else:
            assert actual == [e.rstrip() for e in expected], where


@pytest.mark.parametrize("page", [p for p in PAGES if any(
    b.lang == "console" or "title" in b.attrs or "kind" in b.attrs for b in blocks(p))],
    ids=lambda p: p.name)
def test_page_examples_run(page: Path, tmp_path: Path) -> None:
    written: dict[str, str] = {}
    for block in blocks(page):
        if "title" in block.attrs:
            path = block.attrs["title"]
            body = written[path] if "restore" in block.attrs else block.body
            written.setdefault(path, block.body)
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(body, encoding="utf-8")
        if "kind" in block.attrs:
            model = FILE_KINDS[block.attrs["kind"]]
            model.model_validate(yaml.safe_load(block.body))
        if block.lang == "console":
            # The README's commands run in the repository, on the shipped knowledge base.
            run_session(block, ROOT if page.name == "README.md" else tmp_path, page)


# --- Python examples ------------------------------------------------------------------------------

# Runs a page's ```python blocks in order, in one namespace, from the repository's root (where
# the pages' relative paths point), then calls every `test_*` function they define, as pytest
# would. Its own process: an example may load knowledge bases or set Hypothesis settings.
PYTHON_RUNNER = """\
import json, sys
from hypothesis import settings

settings.register_profile("docs", max_examples=25, deadline=None, derandomize=True, database=None)
settings.load_profile("docs")
page, blocks = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
for line, body in blocks:
    # Padded so that a traceback gives the line in the page.
    exec(compile("\\n" * line + body, page, "exec"), namespace)
for name, value in list(namespace.items()):
    if name.startswith("test_") and callable(value):
        value()
        print("ran", name)
"""


def python_blocks(page: Path) -> list[Block]:
    """The examples to run; a block with a `title` is a file shown whole (a conftest.py)."""
    return [b for b in blocks(page) if b.lang == "python" and "title" not in b.attrs]


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name)
def test_page_python_examples_run(page: Path) -> None:
    code = [(block.line, block.body) for block in python_blocks(page)]
    result = subprocess.run([sys.executable, "-c", PYTHON_RUNNER], input=json.dumps([page.name, code]),
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{page.name}: an example failed\n{result.stderr}"


def test_python_examples_use_only_the_public_api() -> None:
    """Pages teach `guidekb` and `guidekb.strategies`; the modules behind them may change."""
    for page in (ROOT / "docs" / "api.md", ROOT / "docs" / "qa-guide.md"):
        for block in python_blocks(page):
            imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", block.body, re.M)
            private = [m for m in imports if m.startswith("guidekb") and m not in ("guidekb", "guidekb.strategies")]
            assert not private, f"{page.name}:{block.line}: imports {private}"


# A repository path in backticks, as the pages name modules and tests ("`engine/qa/proof.py`").
REPOSITORY_PATH = re.compile(r"`((?:engine|visualize|guidekb|tests|benchmarks|scripts)/[\w./-]+\.(?:py|sh|json))`")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_repository_paths_named_in_pages_exist(page: Path) -> None:
    """A page that sends a maintainer to a file that moved is worse than none (the core
    restructuring moved most of engine/; docs/proof.md kept the old paths until this test)."""
    text = page.read_text(encoding="utf-8")
    missing = sorted({m.group(1) for m in REPOSITORY_PATH.finditer(text) if not (ROOT / m.group(1)).exists()})
    assert not missing, f"{page.name} names files that do not exist: {', '.join(missing)}"
