"""Human-readable answers for the terminal. All knowledge-base text is escaped for rich
markup: a rule title holding "[bold]" or "[1, 5]" prints as written."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from guidekb.engine.format.models import Provenance
from guidekb.engine.runtime.answer import Answer, SourcePassage, Step, show_value


def quote_line(p: SourcePassage | Provenance) -> str:
    refs = f" [{', '.join(map(str, p.refs))}]" if p.refs else ""
    where = f"{p.source}, {p.section}{refs}"
    return f"[italic]“{escape(p.quote)}”[/italic] [dim]— {escape(where)}[/dim]"


def chain_line(steps: list[Step]) -> str:
    parts: list[str] = []
    for step in steps:
        facts = ", ".join(f"{k}={show_value(v)}" for k, v in step.facts.items())
        parts.append((f"({escape(facts)}) " if facts else "") + f"[cyan]{escape(step.rule)}[/cyan]")
    return " → ".join(parts)


def print_answer(console: Console, answer: Answer, title: str) -> None:
    """The answer as a clinician reads it: conclusions once with their sources, then each
    recommendation and prohibition with its chain and the quotes of its own rule."""
    kb = f"({answer.kb.id} {answer.kb.version})"
    console.print(f"[bold]{escape(title)}[/bold]  [dim]{escape(kb)}[/dim]")
    facts = ", ".join(f"{k}={show_value(v)}" for k, v in answer.case.items())
    console.print(f"  case: {escape(facts) if facts else '(no facts known)'}")
    if answer.derived:
        console.print("\n  [bold]CONCLUSIONS[/bold]")
        for derivation in answer.derived:
            console.print(f"  • {escape(derivation.fact)} [dim]by[/dim] "
                          f"[cyan]{escape(derivation.rule)}[/cyan]")
            for passage in derivation.provenance:
                console.print(f"      {quote_line(passage)}")
    if answer.recommendations:
        console.print("\n  [bold green]RECOMMENDED[/bold green]")
        for rec in answer.recommendations:
            console.print(f"  [green]✓ {escape(rec.code)}[/green] — {escape(rec.text)}")
            _print_support(console, rec.chain, rec.provenance, rec.also_by)
    else:
        console.print("\n  [bold]RECOMMENDED[/bold]: nothing for these facts")
    if answer.prohibitions:
        console.print("\n  [bold red]DO NOT[/bold red]")
        for pro in answer.prohibitions:
            console.print(f"  [red]✗ {escape(pro.code)}[/red] — {escape(pro.text)} {escape(pro.reason)}")
            _print_support(console, pro.chain, pro.provenance, pro.also_by)
    if answer.conflicts:
        console.print("\n  [bold yellow]CONFLICTS[/bold yellow] (the prohibition wins)")
        for conflict in answer.conflicts:
            console.print(f"  [yellow]! {escape(conflict.code)}[/yellow]: recommended by "
                          f"{escape(conflict.recommended_by)}, forbidden by {escape(conflict.forbidden_by)}")
    console.print()


def _print_support(console: Console, chain: list[Step], provenance: list[SourcePassage],
                   also_by: list[str]) -> None:
    console.print(f"      [dim]because[/dim] {chain_line(chain)}")
    for passage in provenance:
        console.print(f"      {quote_line(passage)}")
    if also_by:
        console.print(f"      [dim]also by {escape(', '.join(also_by))}[/dim]")
