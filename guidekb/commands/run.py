"""`guidekb run CASE...`: the answer for each case, with rule chains and source quotes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from guidekb.batch_cli import (
    BatchOption,
    BlocksizeOption,
    FormatOption,
    JobsOption,
    OutputOption,
    SchedulerOption,
    SummaryFormat,
    SummaryOption,
    run_batch_command,
)
from guidekb.console import console
from guidekb.engine.errors import CaseError, Problem
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.inert import json_inert
from guidekb.engine.runtime.evaluation import Engine
from guidekb.options import DEFAULT_KB, KbOption, load
from guidekb.render import print_answer


def run(
    cases: Annotated[list[Path] | None, typer.Argument(
        help="Case files (YAML or JSON), a mapping of facts each.")] = None,
    kb: KbOption = DEFAULT_KB,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    batch: BatchOption = None,
    jobs: JobsOption = 1,
    output: OutputOption = None,
    summary: SummaryOption = False,
    summary_format: FormatOption = SummaryFormat.text,
    scheduler: SchedulerOption = None,
    blocksize: BlocksizeOption = None,
) -> None:
    """Evaluate cases and print each answer: recommendations, prohibitions, chains and quotes."""
    if batch is not None or not cases:  # guidekb/batch_cli.py: population runs
        raise typer.Exit(run_batch_command(batch, kb, cases=cases, jobs=jobs, output=output, summary=summary,
                                           fmt=summary_format, scheduler=scheduler, blocksize=blocksize))
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
