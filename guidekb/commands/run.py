"""`guidekb run CASE...`: the answer for each case, with rule chains and source quotes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from guidekb.console import console
from guidekb.engine.errors import CaseError, Problem
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.inert import json_inert
from guidekb.engine.runtime.evaluation import Engine
from guidekb.options import DEFAULT_KB, KbOption, load
from guidekb.render import print_answer


def run(
    cases: Annotated[list[Path], typer.Argument(help="Case files (YAML or JSON), a mapping of facts each.")],
    kb: KbOption = DEFAULT_KB,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Evaluate cases and print each answer: recommendations, prohibitions, chains and quotes."""
    knowledge = load(kb)
    engine = Engine.for_kb(knowledge)
    problems: list[Problem] = []
    answers = []
    for path in cases:
        try:
            answers.append((path, engine.evaluate(load_case(path, knowledge))))
        except CaseError as exc:
            problems += exc.problems
    if problems:
        raise CaseError(problems)
    if as_json:
        payload = [a.model_dump(mode="json") for _, a in answers]
        document = json.dumps(payload[0] if len(payload) == 1 else payload, indent=2, ensure_ascii=False)
        typer.echo(json_inert(document))  # the same values; no bidi or invisible character raw
        return
    for path, answer in answers:
        print_answer(console, answer, str(path))


def register(app: typer.Typer) -> None:
    app.command("run")(run)
