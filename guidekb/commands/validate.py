"""`guidekb validate [KB]`: load and verify everything, report every problem."""

from __future__ import annotations

import typer

from engine.invariants import load_invariants
from guidekb.console import console
from guidekb.options import DEFAULT_KB, KbArgument, load


def validate(kb: KbArgument = DEFAULT_KB) -> None:
    """Load and verify a knowledge base: format, facts, values, codes, cycles, provenance,
    and its invariants (invariants.yaml) if it has any."""
    knowledge = load(kb)
    invariants = load_invariants(knowledge)
    quotes = sum(len(rule.provenance) for rule in knowledge.rules)
    quotes += sum(len(inv.provenance) for inv in invariants)
    console.print(
        f"[green]ok[/green] {knowledge.id} {knowledge.version}: {len(knowledge.rules)} rules, "
        f"{len(knowledge.facts)} facts, {len(knowledge.outcomes)} codes, "
        f"{len(invariants)} invariants, "
        f"{quotes} source quotes verified in {len(knowledge.sources)} sources"
    )


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
