"""`guidekb validate [KB]`: load and verify everything, report every problem."""

from __future__ import annotations

import typer

from guidekb.console import console
from guidekb.options import DEFAULT_KB, KbArgument, load


def validate(kb: KbArgument = DEFAULT_KB) -> None:
    """Load and verify a knowledge base: format, facts, values, codes, cycles, provenance."""
    knowledge = load(kb)
    quotes = sum(len(rule.provenance) for rule in knowledge.rules)
    console.print(
        f"[green]ok[/green] {knowledge.id} {knowledge.version}: {len(knowledge.rules)} rules, "
        f"{len(knowledge.facts)} facts, {len(knowledge.outcomes)} codes, "
        f"{quotes} source quotes verified in {len(knowledge.sources)} sources"
    )


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
