"""`guidekb validate [--kb KB]`: load and verify everything, report every problem."""

from __future__ import annotations

import typer

from guidekb.console import console, shown
from guidekb.engine.qa.everything import check_everything
from guidekb.options import DEFAULT_KB, KbOption, KbPositional, chosen_kb, how_found, problems_error


def validate(kb: KbOption = DEFAULT_KB, legacy_kb: KbPositional = None) -> None:
    """Load and verify a knowledge base and every other file of it.

    Format, facts, values, codes, cycles and provenance, then invariants, scenarios, the
    cases in cases/, context notes and lint acknowledgements: every problem of every file at
    once. Every .yaml/.yml file in rules/, scenarios/ and cases/ (subfolders too) is read;
    any other file there is reported, never skipped."""
    kb = chosen_kb(kb, legacy_kb)
    checked = check_everything(kb)
    if not checked.ok or checked.kb is None:
        raise problems_error(checked.problems, how_found(kb))
    knowledge = checked.kb
    console.print(
        f"[green]ok[/green] {shown(knowledge.id)} {shown(knowledge.version)}: {len(knowledge.rules)} rules, "
        f"{len(knowledge.facts)} facts, {len(knowledge.outcomes)} codes, "
        f"{len(checked.invariants)} invariants, {checked.scenarios} scenarios, {checked.cases} cases, "
        f"{checked.quotes} source quotes verified in {len(knowledge.sources)} sources",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
