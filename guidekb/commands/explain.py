"""`guidekb explain CASE CODE`: why a code was recommended or forbidden, or why not."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import TypeAdapter
from rich.tree import Tree

from guidekb.console import console, error, shown
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.inert import inert
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.runtime.explanation import ConditionNode, Explanation, RuleTrace, explain
from guidekb.formats import JsonFormat, TextJson, print_json
from guidekb.options import DEFAULT_KB, KbOption, load
from guidekb.render import quote_line

_VALUE = {True: "[green]true[/green]", False: "[red]false[/red]", None: "[yellow]unknown[/yellow]"}


def explain_command(
    case: Annotated[Path, typer.Argument(help="Case file (YAML or JSON).")],
    code: Annotated[str, typer.Argument(help="Recommendation or prohibition code.")],
    kb: KbOption = DEFAULT_KB,
    fmt: JsonFormat = TextJson.text,
) -> None:
    """Why CODE was recommended or forbidden for CASE, or which conditions stopped it."""
    knowledge = load(kb)
    if code not in knowledge.outcomes:
        error(inert(f"unknown code '{code}' in {knowledge.id}; "
                    f"{did_you_mean(code, knowledge.outcomes, 'codes')}"))
        raise typer.Exit(2)
    result = explain(knowledge, load_case(case, knowledge), code)
    if fmt is TextJson.json:  # docs/schema/output/explain.schema.json
        print_json(TypeAdapter(Explanation).dump_python(result, mode="json"))
        return
    print_explanation(result)


def print_explanation(result: Explanation) -> None:
    colour = {"recommended": "green", "not recommended": "yellow"}.get(result.status, "red")
    console.print(f"[bold]{shown(result.code)}[/bold]: [{colour}]{result.status}[/{colour}]")
    if not result.rules:
        console.print("  no rule recommends or forbids this code")
    for trace in result.rules:
        console.print(_rule_tree(trace))
        for passage in trace.provenance:
            console.print("    " + quote_line(passage))


def _rule_tree(trace: RuleTrace) -> Tree:
    verdict = "[green]fired[/green]" if trace.fired else "[yellow]did not fire[/yellow]"
    tree = Tree(f"rule [cyan]{shown(trace.rule)}[/cyan] ({shown(trace.effect)}): {verdict} — "
                f"{shown(trace.title)}")
    _add(tree, trace.condition)
    return tree


def _add(tree: Tree, node: ConditionNode) -> None:
    branch = tree.add(f"{shown(node.text)}: {_VALUE[node.value]}")
    for child in node.children:
        _add(branch, child)
    for trace in node.derived_by:
        sub = branch.add(f"← rule [cyan]{shown(trace.rule)}[/cyan] ({shown(trace.effect)}): "
                         + ("[green]fired[/green]" if trace.fired else "[yellow]did not fire[/yellow]"))
        _add(sub, trace.condition)


def register(app: typer.Typer) -> None:
    app.command("explain")(explain_command)
