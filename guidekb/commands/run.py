"""`guidekb run CASE...|-`: the answer for each case, with rule chains and source quotes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from guidekb.batch_cli import (
    BatchOption,
    BlocksizeOption,
    ForceOption,
    FormatOption,
    JobsOption,
    OutputOption,
    SchedulerOption,
    SummaryFormat,
    SummaryOption,
    run_batch_command,
)
from guidekb.engine.errors import UNREADABLE_FILE, CaseError, Problem
from guidekb.engine.format.cases import load_case, parse_case
from guidekb.engine.format.inert import json_inert
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.yamlsource import CASE_LIMITS
from guidekb.engine.runtime.answer_json import evaluate_json
from guidekb.engine.runtime.evaluation import Engine
from guidekb.options import DEFAULT_KB, KbOption, load


def run(
    cases: Annotated[list[Path] | None, typer.Argument(
        help="Case files (YAML or JSON), a mapping of facts each; - reads one case from stdin.")] = None,
    kb: KbOption = DEFAULT_KB,
    fmt: FormatOption = SummaryFormat.text,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Same as --format json (kept for scripts written before --format).")] = False,
    batch: BatchOption = None,
    jobs: JobsOption = 1,
    output: OutputOption = None,
    summary: SummaryOption = False,
    scheduler: SchedulerOption = None,
    blocksize: BlocksizeOption = None,
    force: ForceOption = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Load and verify the knowledge base from its files even if this "
        "content was verified before (also GUIDEKB_NO_CACHE=1).")] = False,
) -> None:
    """Evaluate cases and print each answer: recommendations, prohibitions, chains and quotes.

    --format json prints one list, whatever the number of cases: an object per case, in the
    order given, `{"file": ..., "answer": {...}}` or `{"file": ..., "error": {"problems":
    [...]}}` (docs/schema/output/run.json). A case that does not validate never hides the
    answers of the others; the exit status is then 2 (invalid input), its problems on stderr."""
    if as_json:
        fmt = SummaryFormat.json
    if batch is not None or not cases:  # guidekb/batch_cli.py: population runs
        raise typer.Exit(run_batch_command(batch, kb, cases=cases, jobs=jobs, output=output, summary=summary,
                                           fmt=fmt, scheduler=scheduler, blocksize=blocksize,
                                           use_cache=not no_cache, force=force))
    if sum(1 for path in cases if str(path) == STDIN) > 1:
        raise typer.BadParameter("- (stdin) can be given once", param_hint="CASES")
    knowledge = load(kb, use_cache=not no_cache)
    engine = Engine.for_kb(knowledge)
    problems: list[Problem] = []
    results: list[dict[str, Any]] = []
    for path in cases:
        name = STDIN_NAME if str(path) == STDIN else str(path)
        try:
            case = _read_stdin(knowledge) if str(path) == STDIN else load_case(path, knowledge)
        except CaseError as exc:
            problems += exc.problems
            results.append({"file": name, "error": {"problems": [p.as_dict() for p in exc.problems]}})
            continue
        if fmt is SummaryFormat.json:  # the answer's JSON without its models (answer_json.py)
            results.append({"file": name, "answer": orjson.loads(evaluate_json(engine, case).json)})
        else:
            from guidekb.console import console  # rich: only for text (it costs a JSON run a tenth)
            from guidekb.render import print_answer

            print_answer(console, engine.evaluate(case), name)
    if fmt is SummaryFormat.json:
        document = json.dumps(results, indent=2, ensure_ascii=False)
        typer.echo(json_inert(document))  # the same values; no bidi or invisible character raw
    if problems:
        raise CaseError(problems)


STDIN = "-"
STDIN_NAME = "<stdin>"


def _read_stdin(knowledge: KnowledgeBase) -> dict[str, Any]:
    """One case from standard input, within the size limit of a case file."""
    data = sys.stdin.buffer.read(CASE_LIMITS.max_bytes + 1)  # one byte more: too large is refused
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError([Problem(STDIN_NAME, 1, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                                 "save the case as UTF-8", code=UNREADABLE_FILE)]) from None
    return parse_case(text, knowledge, STDIN_NAME)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
