"""Human-readable answers for the terminal. All knowledge-base and case text goes through
`shown` (guidekb.console): a rule title holding "[bold]" or "[1, 5]" prints as written, and
one holding an escape sequence, a newline or a bidi override prints it as an escape."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from guidekb.console import shown
from guidekb.engine.format.models import Provenance
from guidekb.engine.runtime.answer import Answer, SourcePassage, Step, show_value


def quote_line(p: SourcePassage | Provenance) -> str:
    refs = f" [{', '.join(map(str, p.refs))}]" if p.refs else ""
    where = f"{p.source}, {p.section}{refs}"
    return f"[italic]“{shown(p.quote)}”[/italic] [dim]— {shown(where)}[/dim]"


def chain_line(steps: Sequence[Step]) -> str:
    parts: list[str] = []
    for step in steps:
        facts = ", ".join(f"{k}={show_value(v)}" for k, v in step.facts.items())
        parts.append((f"({shown(facts)}) " if facts else "") + f"[cyan]{shown(step.rule)}[/cyan]")
    return " → ".join(parts)


def print_answer(console: Console, answer: Answer, title: str) -> None:
    """The answer as a clinician reads it: conclusions once with their sources, then each
    recommendation and prohibition with its chain and the quotes of its own rule."""
    kb = f"({answer.kb.id} {answer.kb.version})"
    console.print(f"[bold]{shown(title)}[/bold]  [dim]{shown(kb)}[/dim]")
    facts = ", ".join(f"{k}={show_value(v)}" for k, v in answer.case.items())
    console.print(f"  case: {shown(facts) if facts else '(no facts known)'}")
    if answer.derived:
        console.print("\n  [bold]CONCLUSIONS[/bold]")
        for derivation in answer.derived:
            console.print(f"  • {shown(derivation.fact)} [dim]by[/dim] "
                          f"[cyan]{shown(derivation.rule)}[/cyan]")
            for passage in derivation.provenance:
                console.print(f"      {quote_line(passage)}")
    if answer.recommendations:
        console.print("\n  [bold green]RECOMMENDED[/bold green]")
        for rec in answer.recommendations:
            console.print(f"  [green]✓ {shown(rec.code)}[/green] — {shown(rec.text)}")
            _print_support(console, rec.chain, rec.provenance, rec.also_by)
    else:
        console.print("\n  [bold]RECOMMENDED[/bold]: nothing for these facts")
    if answer.prohibitions:
        console.print("\n  [bold red]DO NOT[/bold red]")
        for pro in answer.prohibitions:
            console.print(f"  [red]✗ {shown(pro.code)}[/red] — {shown(pro.text)} {shown(pro.reason)}")
            _print_support(console, pro.chain, pro.provenance, pro.also_by)
    if answer.conflicts:
        console.print("\n  [bold yellow]CONFLICTS[/bold yellow] (the prohibition wins)")
        for conflict in answer.conflicts:
            console.print(f"  [yellow]! {shown(conflict.code)}[/yellow]: recommended by "
                          f"{shown(conflict.recommended_by)}, forbidden by {shown(conflict.forbidden_by)}")
    console.print()


def _print_support(console: Console, chain: Sequence[Step], provenance: Sequence[SourcePassage],
                   also_by: Sequence[str]) -> None:
    console.print(f"      [dim]because[/dim] {chain_line(chain)}")
    for passage in provenance:
        console.print(f"      {quote_line(passage)}")
    if also_by:
        console.print(f"      [dim]also by {shown(', '.join(also_by))}[/dim]")
