"""`guidekb coverage [--kb KB]`: which source statements the rules encode, which are context, which
are missing.

Exit status: 0 by default (a report); with --fail-on-missing, 1 when any statement is
missing, so CI can hold the knowledge base to "no actionable statement missing". A bad
context.yaml or knowledge base exits 2 with located problems, as every command does. `-o`
writes the report safely (guidekb.visualize.output_files): never over a file guidekb did not
write unless --force.
"""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from guidekb.console import console, shown
from guidekb.coverage_render import print_table, summary_line, to_html, to_markdown
from guidekb.engine.qa.source_coverage import measure
from guidekb.options import DEFAULT_KB, KbOption, KbPositional, chosen_kb, load
from guidekb.visualize.output_files import write_file


class Format(StrEnum):
    table = "table"
    markdown = "markdown"
    html = "html"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table (terminal), markdown or html.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")]
MissingOnly = Annotated[bool, typer.Option("--missing-only", help="Table: list only missing statements.")]
FailOnMissing = Annotated[bool, typer.Option(
    "--fail-on-missing", help="Exit 1 when any statement is neither encoded nor context.")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="With -o: overwrite an existing file that guidekb did not write.")]


def coverage(
    kb: KbOption = DEFAULT_KB,
    legacy_kb: KbPositional = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
    missing_only: MissingOnly = False,
    fail_on_missing: FailOnMissing = False,
    force: ForceOption = False,
) -> None:
    """Report, for every statement of every source, the rules that encode it or why it is context."""
    kb = chosen_kb(kb, legacy_kb)
    knowledge = load(kb)
    report = measure(knowledge)
    if fmt is Format.table:
        if output is None:
            print_table(console, report, not missing_only)
        else:
            buffer = io.StringIO()
            print_table(Console(file=buffer, width=160, highlight=False, emoji=False), report,
                        not missing_only)
            write_file(output, buffer.getvalue().encode(), force=force)
    else:
        text = to_markdown(report) if fmt is Format.markdown else to_html(report)
        if output is None:
            typer.echo(text, nl=False)
        else:
            write_file(output, text.encode(), force=force)
    if output is not None:
        console.print(f"wrote {fmt.value} report to {shown(output)}: {shown(summary_line(report))}")
    if fail_on_missing and report.missing:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("coverage")(coverage)
