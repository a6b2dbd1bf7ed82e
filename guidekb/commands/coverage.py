"""`guidekb coverage [--kb KB]`: which source statements the rules encode, which are context, which
are missing.

`--format text` (the default; `table` is its older name) prints a table for people; `json` one
document for programs, its shape published in docs/schema/output/coverage.schema.json
(guidekb/output_schemas.py); `markdown` and `html` are self-contained reports.

Exit status: 0 by default (a report); with --fail-on-missing, 1 when any statement is
missing, so CI can hold the knowledge base to "no actionable statement missing". A bad
context.yaml or knowledge base exits 2 with located problems, as every command does. `-o`
writes the report safely (guidekb.visualize.output_files): never over a file guidekb did not
write unless --force.
"""

from __future__ import annotations

import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from guidekb.console import console, shown
from guidekb.coverage_render import print_table, summary_line, to_html, to_markdown
from guidekb.engine.format.inert import json_inert
from guidekb.engine.qa.source_coverage import SourceCoverage, Status, measure
from guidekb.options import DEFAULT_KB, KbOption, KbPositional, chosen_kb, load
from guidekb.visualize.output_files import write_file


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"
    table = "table"  # the older name of text, still accepted


FormatOption = Annotated[Format, typer.Option(
    "--format", "-f", help="text (a table for people; 'table' is its older name), json (for "
    "programs, docs/schema/output/coverage.schema.json), markdown or html.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")]
MissingOnly = Annotated[bool, typer.Option("--missing-only", help="Table: list only missing statements.")]
FailOnMissing = Annotated[bool, typer.Option(
    "--fail-on-missing", help="Exit 1 when any statement is neither encoded nor context.")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="With -o: overwrite an existing file that guidekb did not write.")]


def coverage(
    kb: KbOption = DEFAULT_KB,
    legacy_kb: KbPositional = None,
    fmt: FormatOption = Format.text,
    output: OutputOption = None,
    missing_only: MissingOnly = False,
    fail_on_missing: FailOnMissing = False,
    force: ForceOption = False,
) -> None:
    """Report, for every statement of every source, the rules that encode it or why it is context."""
    kb = chosen_kb(kb, legacy_kb)
    knowledge = load(kb)
    report = measure(knowledge)
    if fmt in (Format.text, Format.table):
        if output is None:
            print_table(console, report, not missing_only)
        else:
            buffer = io.StringIO()
            print_table(Console(file=buffer, width=160, highlight=False, emoji=False), report,
                        not missing_only)
            write_file(output, buffer.getvalue().encode(), force=force)
    else:
        if fmt is Format.json:
            text = json_inert(json.dumps(as_json(report), indent=2, ensure_ascii=False)) + "\n"
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


STATUSES: tuple[Status, ...] = ("encoded", "context", "missing")


def as_json(report: SourceCoverage) -> dict[str, Any]:
    """`coverage --format json`: the counts, then every statement of every source in document
    order with its status and the rules that encode it (or the reason it is context)."""
    kb = report.kb
    counts = {status: report.count(status) for status in STATUSES}
    return {
        "kb": {"id": kb.id, "version": kb.version},
        "summary": {"statements": len(report.statements), **counts},
        "sources": [{"id": source_id, "title": document.title, "date": document.date.isoformat(),
                     "statements": sum(1 for row in report.statements if row.source == source_id),
                     **{status: report.count(status, source_id) for status in STATUSES}}
                    for source_id, document in kb.documents.items()],
        "statements": [{
            "source": row.source, "section": row.statement.section, "line": row.statement.line,
            "text": row.statement.text, "refs": list(row.statement.refs), "status": row.status,
            "rules": [_rule(report, rule_id) for rule_id in row.rules],
            "reason": row.reason or None,
        } for row in report.statements],
        "stale_context_notes": [{"line": note.line, "source": note.statement.source,
                                 "statement_line": note.statement.line}
                                for note in report.stale_notes],
    }


def _rule(report: SourceCoverage, rule_id: str) -> dict[str, Any]:
    """A rule that encodes a statement, with where it is written (null when not known)."""
    location = report.kb.rule_locations.get(rule_id)
    return {"id": rule_id, "file": location.file if location else None,
            "line": location.line if location else None}


def register(app: typer.Typer) -> None:
    app.command("coverage")(coverage)
