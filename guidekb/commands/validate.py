"""`guidekb validate [KB]`: load and verify everything, report every problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from guidekb.console import console, shown
from guidekb.engine.errors import KnowledgeBaseError, Problem, ProblemsError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.invariants import load_invariants
from guidekb.engine.qa.lint import load_acknowledgements
from guidekb.engine.qa.scenarios import load_scenarios
from guidekb.engine.qa.source_coverage import load_context
from guidekb.options import DEFAULT_KB, KbArgument, load


def validate(kb: KbArgument = DEFAULT_KB) -> None:
    """Load and verify a knowledge base and every other file of it.

    Format, facts, values, codes, cycles and provenance, then invariants,
    scenarios, context notes and lint acknowledgements: every problem at once."""
    knowledge = load(kb)
    problems: list[Problem] = []

    def collect(loader: Callable[[KnowledgeBase], Any]) -> Any:
        try:
            return loader(knowledge)
        except ProblemsError as exc:
            problems.extend(exc.problems)
            return []

    invariants = collect(load_invariants)
    scenarios = collect(load_scenarios)
    collect(load_context)
    collect(load_acknowledgements)
    if problems:
        raise KnowledgeBaseError(problems)
    quotes = sum(len(rule.provenance) for rule in knowledge.rules)
    quotes += sum(len(inv.provenance) for inv in invariants)
    console.print(
        f"[green]ok[/green] {shown(knowledge.id)} {shown(knowledge.version)}: {len(knowledge.rules)} rules, "
        f"{len(knowledge.facts)} facts, {len(knowledge.outcomes)} codes, "
        f"{len(invariants)} invariants, {len(scenarios)} scenarios, "
        f"{quotes} source quotes verified in {len(knowledge.sources)} sources",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
