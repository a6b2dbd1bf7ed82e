"""`guidekb flowchart`: the decision chart or the rule graph, in SVG, PNG, PDF, DOT, Mermaid
or one self-contained HTML page; `--all -o DIR` writes every view in every format.

Files are written by guidekb.visualize.output_files: atomically, never through a symbolic
link, and over an existing file only if guidekb wrote it (or with --force). A path that
cannot be written is an error with exit status 2, as is any other bad request.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from guidekb.console import console, err_console, shown
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.inert import inert
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.formats import print_json
from guidekb.options import DEFAULT_KB, KbOption, load
from guidekb.visualize.chartbook import chart_book, focus_diagram
from guidekb.visualize.dot import render
from guidekb.visualize.errors import UnknownCode, VisualizeError
from guidekb.visualize.export import EXTENSIONS, FORMATS, TEXT_FORMATS, VIEWS, chart, write_all
from guidekb.visualize.handout import handout_pdf
from guidekb.visualize.listing import listing, listing_text
from guidekb.visualize.output_files import OutputFolder, write_file
from guidekb.visualize.overview import SLIDE_DPI
from guidekb.visualize.paging import PAPERS
from guidekb.visualize.slides import all_slides, chart_slides
from guidekb.visualize.steps import step_slides
from guidekb.visualize.style import codes_in_words

ForceOption = Annotated[bool, typer.Option(
    "--force", help="Overwrite existing files that guidekb did not write (never a link or a folder).")]


def flowchart(
    kb: KbOption = DEFAULT_KB,
    view: Annotated[str, typer.Option("--view", help="decisions: the clinical decision charts; "
                                      "overview: the clinical pathway, one box per stage; "
                                      "rules: facts, rules, conclusions and codes.")] = "decisions",
    focus: Annotated[str | None, typer.Option("--focus", help="Only what leads to this code.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="svg, png, pdf, dot, mermaid, html or markdown "
                                            "(default: from the -o file's extension, else svg).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (a folder with "
                                                "--all); text formats go to stdout without it.")] = None,
    write_everything: Annotated[bool, typer.Option("--all", help="Write both views in every format "
                                                   "into the folder given by -o.")] = False,
    dpi: Annotated[int | None, typer.Option("--dpi", min=10, max=1200,
                                            help="PNG resolution (default 96; 300 for print).")] = None,
    force: ForceOption = False,
    preset: Annotated[str | None, typer.Option("--preset", help="handout: a PDF, each chart on its own "
                                               "A4/Letter page(s) at 10 pt or more, numbered boxes, their "
                                               "quotes and the reference lists; slide: 16:9 slides, 18 pt "
                                               "or more at 1920x1080 (the overview, --chart N, --focus, or "
                                               "every chart with -o FOLDER).")] = None,
    case: Annotated[Path | None, typer.Option("--case", help="A case file: draw the path it takes "
                                              "through the decision charts (bold, numbered steps).")] = None,
    steps: Annotated[bool, typer.Option("--steps", help="With --case and -o FOLDER: one 16:9 slide (PNG, "
                                        "18 pt or more at 1920x1080) per step of the path, through each "
                                        "chart that ends in advice (or the --focus chart).")] = False,
    number: Annotated[int | None, typer.Option("--chart", min=1, help="Draw chart N of the decision "
                                               "charts alone (numbers: --list).")] = None,
    list_charts: Annotated[bool, typer.Option("--list", help="List the charts (number, title, stage, "
                                              "files); --format text or json.")] = False,
    paper: Annotated[str, typer.Option("--paper", help="The handout's paper: a4 or letter.")] = "a4",
) -> None:
    """Draw the knowledge base: the clinical decision chart or the rule graph."""
    if list_charts:
        knowledge = load(kb)
        _list(knowledge, fmt or "text", facts_of(case, knowledge))
        return
    if fmt is None:
        fmt = _format_of(None if write_everything else output)
    if view not in VIEWS:
        raise VisualizeError(f"unknown view '{inert(view)}': choose {' or '.join(VIEWS)}")
    if fmt not in FORMATS:
        raise VisualizeError(f"unknown format '{inert(fmt)}': choose one of {', '.join(FORMATS)}")
    knowledge = load(kb)
    if preset is not None:
        _write_preset(knowledge, preset, output, force, paper, focus, number, facts_of(case, knowledge))
        return
    if write_everything:
        if output is None:
            raise VisualizeError("--all needs a folder: -o out/flowcharts")
        if focus is not None:
            raise VisualizeError("--all writes every chart (one per code in by-code/); leave out --focus")
        written = write_all(knowledge, output, force=force)
        console.print(f"wrote {len(written.files)} files to {shown(output)}/")
        if written.skipped:
            err_console.print(f"warning: skipped {', '.join(written.skipped)}: the graphviz `dot` "
                              "program is not installed (sudo apt-get install graphviz)", markup=False)
        return
    if output is None and fmt not in TEXT_FORMATS:
        raise VisualizeError(f"{fmt.upper()} is binary: give a file, e.g. -o chart.{EXTENSIONS[fmt]}")
    facts = None if case is None else load_case(case, knowledge)
    if steps:
        _write_steps(knowledge, facts, focus, output, force)
        return
    data = chart(knowledge, view, fmt, focus, dpi, facts, None if case is None else case.name, number)
    if output is None:
        sys.stdout.write(data.decode())
        return
    written_to = write_file(output, data, force=force)
    err_console.print(f"wrote {inert(str(written_to))}", markup=False)


def _write_steps(knowledge: KnowledgeBase, facts: dict[str, Any] | None, focus: str | None,
                 output: Path | None, force: bool) -> None:
    if facts is None or output is None:
        raise VisualizeError("--steps needs a case and a folder: --case CASE --steps -o slides/")
    book = chart_book(knowledge)
    if focus is not None and focus not in knowledge.outcomes:
        raise UnknownCode(focus, knowledge)
    diagram = None if focus is None else focus_diagram(knowledge, focus)
    heading = "Decision chart" if focus is None else f"Decision chart: {codes_in_words(knowledge, [focus])}"
    slides = step_slides(book, facts, diagram, heading)
    with OutputFolder(output, force=force) as folder:
        folder.begin_set(name for name, _ in slides)
        for name, graph in slides:
            folder.write(name, render(graph, "png", SLIDE_DPI))
        folder.end_set()
    err_console.print(f"wrote {len(slides)} slides to {inert(str(output))}/", markup=False)


def facts_of(case: Path | None, knowledge: KnowledgeBase) -> dict[str, Any] | None:
    return None if case is None else load_case(case, knowledge)


def _list(knowledge: KnowledgeBase, fmt: str, facts: dict[str, Any] | None = None) -> None:
    """`--list`: the charts as lines, or as JSON (docs/schema/output/flowchart-list.json);
    with --case, the slide files a --case export writes (its numbered arrows are wider, so a
    chart can split differently)."""
    if fmt not in ("text", "json"):
        raise VisualizeError(f"--list writes text or json, not '{inert(fmt)}'")
    book = chart_book(knowledge)
    if fmt == "json":
        print_json(listing(book, facts))
    else:
        for line in listing_text(book, facts).splitlines():
            typer.echo(inert(line))


def _write_preset(knowledge: KnowledgeBase, preset: str, output: Path | None, force: bool, paper: str,
                  focus: str | None, number: int | None, facts: dict[str, Any] | None) -> None:
    """handout: the PDF of guidekb.visualize.handout (A4 or Letter); slide: 16:9 slides
    (guidekb.visualize.slides): the overview, chart N (--chart), the --focus chart, or with
    -o FOLDER every chart, each split into continued slides when it does not fit at 18 pt."""
    if preset not in ("handout", "slide"):
        raise VisualizeError(f"unknown preset '{inert(preset)}': choose handout or slide")
    if output is None:
        example = "handout.pdf" if preset == "handout" else "slide.png (or a folder: -o slides)"
        raise VisualizeError(f"the {preset} preset writes a file: give one, e.g. -o {example}")
    if preset == "handout":
        if paper not in PAPERS:
            raise VisualizeError(f"unknown paper '{inert(paper)}': choose a4 or letter")
        written_to = write_file(output, handout_pdf(chart_book(knowledge), paper), force=force)
        err_console.print(f"wrote {inert(str(written_to))}", markup=False)
        return
    if focus is not None and focus not in knowledge.outcomes:
        raise UnknownCode(focus, knowledge)
    book = chart_book(knowledge)
    if output.suffix == "":  # a folder: every slide, or the slides of one chart
        if number is None and focus is None:
            slides = all_slides(book, facts)
        else:
            parts = chart_slides(book, number, focus, facts)
            slides = [(f"slide-{k:02d}.png", graph) for k, graph in enumerate(parts, 1)]
        with OutputFolder(output, force=force) as folder:
            folder.begin_set(name for name, _ in slides)
            for name, graph in slides:
                folder.write(name, render(graph, "png", SLIDE_DPI))
            folder.end_set()
        err_console.print(f"wrote {len(slides)} slides to {inert(str(output))}/", markup=False)
        return
    fmt = _format_of(output)
    if fmt not in ("png", "svg", "pdf"):
        raise VisualizeError("a slide is a PNG, SVG or PDF (e.g. -o slide.png), or give a folder: -o slides")
    graphs = chart_slides(book, number, focus, facts)
    if len(graphs) > 1:
        raise VisualizeError(f"this chart needs {len(graphs)} slides at 18 pt: give a folder, e.g. -o slides "
                             "(it writes slide-01.png, slide-02.png, ...)")
    data = render(graphs[0], fmt, SLIDE_DPI if fmt == "png" else None)
    written_to = write_file(output, data, force=force)
    err_console.print(f"wrote {inert(str(written_to))}", markup=False)


def _format_of(output: Path | None) -> str:
    """The format a file name asks for: chart.png is a PNG, chart.mmd is Mermaid."""
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    by_extension = {ext: fmt for fmt, ext in EXTENSIONS.items()} | {"gv": "dot", "htm": "html"}
    return by_extension.get(suffix, "svg")


def register(app: typer.Typer) -> None:
    app.command("flowchart")(flowchart)
