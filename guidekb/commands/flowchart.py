"""`guidekb flowchart`: the decision chart or the rule graph, in SVG, PNG, PDF, DOT, Mermaid
or one self-contained HTML page; `--all -o DIR` writes every view in every format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from guidekb.console import console, err_console
from guidekb.options import DEFAULT_KB, KbOption, load
from guidekb.visualize.errors import VisualizeError
from guidekb.visualize.export import EXTENSIONS, FORMATS, TEXT_FORMATS, VIEWS, chart, write_all


def flowchart(
    kb: KbOption = DEFAULT_KB,
    view: Annotated[str, typer.Option("--view", help="decisions: the clinical decision chart; "
                                      "rules: facts, rules, conclusions and codes.")] = "decisions",
    focus: Annotated[str | None, typer.Option("--focus", help="Only what leads to this code.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="svg, png, pdf, dot, mermaid or html "
                                            "(default: from the -o file's extension, else svg).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (a folder with "
                                                "--all); text formats go to stdout without it.")] = None,
    write_everything: Annotated[bool, typer.Option("--all", help="Write both views in every format "
                                                   "into the folder given by -o.")] = False,
    dpi: Annotated[int | None, typer.Option("--dpi", min=10, max=1200,
                                            help="PNG resolution (default 96; 300 for print).")] = None,
) -> None:
    """Draw the knowledge base: the clinical decision chart or the rule graph."""
    try:
        _flowchart(kb, view, focus, fmt, output, write_everything, dpi)
    except VisualizeError as exc:
        err_console.print(f"error: {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _fail(message: str) -> NoReturn:
    err_console.print(f"error: {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _format_of(output: Path | None) -> str:
    """The format a file name asks for: chart.png is a PNG, chart.mmd is Mermaid."""
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    by_extension = {ext: fmt for fmt, ext in EXTENSIONS.items()} | {"gv": "dot", "htm": "html"}
    return by_extension.get(suffix, "svg")


def _flowchart(kb: Path, view: str, focus: str | None, fmt: str | None, output: Path | None,
               write_everything: bool, dpi: int | None) -> None:
    if fmt is None:
        fmt = _format_of(None if write_everything else output)
    if view not in VIEWS:
        _fail(f"unknown view '{view}': choose {' or '.join(VIEWS)}")
    if fmt not in FORMATS:
        _fail(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")
    knowledge = load(kb)
    if write_everything:
        if output is None:
            _fail("--all needs a folder: -o out/flowcharts")
        if focus is not None:
            _fail("--all writes every chart (one per code in by-code/); leave out --focus")
        written = write_all(knowledge, output)
        console.print(f"wrote {len(written.files)} files to {escape(str(output))}/")
        if written.skipped:
            err_console.print(f"warning: skipped {', '.join(written.skipped)}: the graphviz `dot` "
                              "program is not installed (sudo apt-get install graphviz)", highlight=False)
        return
    if output is None and fmt not in TEXT_FORMATS:
        _fail(f"{fmt.upper()} is binary: give a file, e.g. -o chart.{EXTENSIONS[fmt]}")
    data = chart(knowledge, view, fmt, focus, dpi)
    if output is None:
        sys.stdout.write(data.decode())
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    err_console.print(f"wrote {escape(str(output))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("flowchart")(flowchart)
