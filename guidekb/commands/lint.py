"""`guidekb lint [--kb KB]`: rules and declarations that load but cannot be what the author meant.

Findings print as `file:line:col: id: message`, like compiler warnings, so editors can jump to
them. Exit 1 when a finding is not acknowledged in the knowledge base's lint.yaml, 2 when the
knowledge base (or invariants.yaml, or lint.yaml) has errors. docs/lint.md explains each kind.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from guidekb.console import console, error, shown, shown_lines
from guidekb.formats import SarifFormat, SarifResult, TextJsonSarif, guidekb_version, print_json, sarif_log
from guidekb.options import DEFAULT_KB, KbOption, KbPositional, chosen_kb, load

if TYPE_CHECKING:
    from guidekb.engine.qa.lint import LintReport


def lint_command(
    kb: KbOption = DEFAULT_KB,
    legacy_kb: KbPositional = None,
    show_acknowledged: Annotated[bool, typer.Option(
        "--show-acknowledged", help="Also print acknowledged findings in full.")] = False,
    fmt: SarifFormat = TextJsonSarif.text,
) -> None:
    """Find rules and declarations that load but cannot be what the author meant.

    Rules that never fire, redundant rules, recommend/forbid overlaps,
    unread facts, unproduced codes and vacuous invariants (docs/lint.md)."""
    kb = chosen_kb(kb, legacy_kb)
    knowledge = load(kb)
    try:
        from guidekb.engine.qa.lint import lint
    except ImportError as exc:  # z3-solver decides the findings over every case
        error(f"lint needs the z3-solver package ({exc}); install it with: pip install z3-solver")
        raise typer.Exit(2) from exc
    start = time.perf_counter()
    report = lint(knowledge)
    if fmt is not TextJsonSarif.text:
        _print_machine(report, fmt)
        raise typer.Exit(1 if report.unacknowledged else 0)
    for finding in report.findings:
        if finding.acknowledged is None:
            _say(f"[yellow]{shown_lines(finding.render())}[/yellow]")
        elif show_acknowledged:
            _say(f"[dim]{shown_lines(finding.render())}\n    acknowledged: "
                 f"{shown(finding.acknowledged)}[/dim]")
    open_count = len(report.unacknowledged)
    acknowledged = len(report.findings) - open_count
    hidden = "" if show_acknowledged or not acknowledged else " (--show-acknowledged lists them)"
    colour = "red" if open_count else "green"
    _say(f"[{colour}]{open_count} finding{'s' if open_count != 1 else ''}[/{colour}], "
         f"{acknowledged} acknowledged in lint.yaml{hidden}; {report.solver_calls} solver "
         f"calls in {time.perf_counter() - start:.2f} s.")
    if open_count:
        raise typer.Exit(1)


def _print_machine(report: LintReport, fmt: TextJsonSarif) -> None:
    """`--format json` (docs/schema/output/lint.schema.json) or `sarif` (open findings only:
    an acknowledged finding is not an annotation to show in a pull request)."""
    if fmt is TextJsonSarif.json:
        print_json({"findings": [{
            "id": f.id, "kind": f.kind, "message": f.message, "hint": f.hint,
            "file": f.location.file, "line": f.location.line, "column": f.location.column,
            "rules": list(f.rules), "example": f.example, "acknowledged": f.acknowledged,
        } for f in report.findings], "open": len(report.unacknowledged),
            "solver_calls": report.solver_calls})
        return
    print_json(sarif_log([SarifResult(
        f.kind, f.kind, f"lint check {f.kind} (docs/lint.md)", "warning",
        f"{f.id}: {f.message}" + (f" ({f.hint})" if f.hint else ""),
        f.location.file, f.location.line, f.location.column) for f in report.unacknowledged],
        guidekb_version()))


def _say(text: str) -> None:
    """Print without wrapping (file:line:col and scenario YAML must stay intact when piped)
    and without emoji codes (a location like ':100:' is not an emoji)."""
    console.print(text, soft_wrap=True, emoji=False)


def register(app: typer.Typer) -> None:
    app.command("lint")(lint_command)
