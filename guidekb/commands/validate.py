"""`guidekb validate [KB]`: load and verify everything, report every problem."""

from __future__ import annotations

import typer

from guidekb.console import console, shown
from guidekb.engine.qa.everything import check_everything
from guidekb.options import DEFAULT_KB, KbArgument, how_found, problems_error


def validate(kb: KbArgument = DEFAULT_KB) -> None:
    """Load and verify a knowledge base and every other file of it.

    Format, facts, values, codes, cycles and provenance, then invariants, scenarios, the
    cases in cases/, context notes and lint acknowledgements: every problem of every file at
    once. Every .yaml/.yml file in rules/, scenarios/ and cases/ (subfolders too) is read;
    any other file there is reported, never skipped."""
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
