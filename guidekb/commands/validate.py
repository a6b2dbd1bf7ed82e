"""`guidekb validate [--kb KB]`: load and verify everything, report every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from guidekb import watching
from guidekb.console import console, counted, shown
from guidekb.engine.qa.everything import Checked, check_everything
from guidekb.exits import INVALID, OK
from guidekb.formats import SarifFormat, TextJsonSarif, guidekb_version, print_json, problem_result, sarif_log
from guidekb.options import DEFAULT_KB, KbOption, KbPositional, chosen_kb, how_found, problems_error
from guidekb.watching import WatchOption


def validate(kb: KbOption = DEFAULT_KB, legacy_kb: KbPositional = None,
             fmt: SarifFormat = TextJsonSarif.text, watch: WatchOption = False) -> None:
    """Load and verify a knowledge base and every other file of it.

    Format, facts, values, codes, cycles and provenance, then invariants, scenarios, the
    cases in cases/, context notes and lint acknowledgements: every problem of every file at
    once. Every .yaml/.yml file in rules/, scenarios/ and cases/ (subfolders too) is read;
    any other file there is reported, never skipped."""
    kb = chosen_kb(kb, legacy_kb)
    if watch:
        watching.watch(kb, lambda: validate_once(kb, fmt))
        return
    validate_once(kb, fmt)


def validate_once(kb: Path, fmt: TextJsonSarif) -> None:
    """One validation: print the result in `fmt`; problems raise (or exit 2 in JSON/SARIF)."""
    checked = check_everything(kb)
    if fmt is TextJsonSarif.json:
        print_json(as_json(checked))
    elif fmt is TextJsonSarif.sarif:
        print_json(sarif_log([problem_result(p) for p in checked.problems], guidekb_version()))
    if fmt is not TextJsonSarif.text:
        raise typer.Exit(OK if checked.ok else INVALID)
    if not checked.ok or checked.kb is None:
        raise problems_error(checked.problems, how_found(kb))
    knowledge = checked.kb
    console.print(
        f"[green]ok[/green] {shown(knowledge.id)} {shown(knowledge.version)}: "
        f"{counted(len(knowledge.rules), 'rule')}, {counted(len(knowledge.facts), 'fact')}, "
        f"{counted(len(knowledge.outcomes), 'code')}, {counted(len(checked.invariants), 'invariant')}, "
        f"{counted(checked.scenarios, 'scenario')}, {counted(checked.cases, 'case')}, "
        f"{counted(checked.quotes, 'source quote')} verified in {counted(len(knowledge.sources), 'source')}",
        soft_wrap=True,
    )


def as_json(checked: Checked) -> dict[str, Any]:
    """`validate --format json` (docs/schema/output/validate.schema.json)."""
    kb = checked.kb
    return {
        "ok": checked.ok,
        "kb": {"id": kb.id, "version": kb.version} if kb is not None else None,
        "counts": {"rules": len(kb.rules), "facts": len(kb.facts), "codes": len(kb.outcomes),
                   "invariants": len(checked.invariants), "scenarios": checked.scenarios,
                   "cases": checked.cases, "quotes": checked.quotes,
                   "sources": len(kb.sources)} if checked.ok and kb is not None else None,
        "problems": [p.as_dict() for p in checked.problems],
    }


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
