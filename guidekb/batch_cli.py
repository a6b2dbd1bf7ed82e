"""`guidekb run --batch FILE|-`: a knowledge base over a population of cases, NDJSON in and out.

The line formats are described in guidekb.engine.runtime.batch (and docs/batch.md). Here:
where the lines come from and go, the progress bar, the population report and the exit
status:

* 0 when every non-blank line was answered;
* 1 when some lines failed: the output is still complete, a failed line carries an `error`
  object instead of an `answer`, and one line on stderr says how many failed and where;
* 2 when the run could not be done: the input file is missing, the knowledge base does not
  load, options contradict each other, or a worker died;
* 141 (as for `yes | head`) when the reader of stdout went away before the end.

Results go to stdout, or to `--output FILE`, written as every file guidekb writes (atomically,
never over a file guidekb did not write unless `--force`). `--summary` prints the population report on
stdout instead of the answers, or after writing them to `--output`. A progress bar is drawn
on stderr only when stderr is a terminal: piped, a successful run writes nothing but its
output. With `--scheduler` (tcp://host:8786, or `local` for a cluster of worker processes on
this machine) the batch runs on Dask and `--output` is a folder of parts (see docs/batch.md).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.progress import Progress

    from guidekb.engine.format.knowledge import KnowledgeBase
    from guidekb.engine.runtime.batch import PopulationSummary

CLUSTER_INSTALL = "pip install 'guidekb[cluster]'"
BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`


class SummaryFormat(StrEnum):
    text = "text"
    json = "json"


BatchOption = Annotated[str | None, typer.Option(
    "--batch", metavar="FILE|-", help="Run every case of an NDJSON file (one JSON object per line; "
    "- reads stdin) and print one NDJSON result per line, in input order. See docs/batch.md.")]
JobsOption = Annotated[int, typer.Option(
    "--jobs", "-j", min=0, help="With --batch: worker processes (0: one per core); with "
    "--scheduler local: Dask workers.")]
OutputOption = Annotated[str | None, typer.Option(
    "--output", "-o", help="With --batch: write the results to this file instead of stdout; with "
    "--scheduler: the folder (local path or fsspec URL) the workers write their parts to.")]
SummaryOption = Annotated[bool, typer.Option(
    "--summary", help="With --batch: print the population report (per recommendation and "
    "prohibition: how many cases, which rules) instead of the answers, or after --output.")]
FormatOption = Annotated[SummaryFormat, typer.Option(
    "--format", help="text or json: of the answers (guidekb run CASE...), or of the --summary "
    "report (with --batch).")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", help="With --batch: run on Dask, at this scheduler address (tcp://host:8786) or "
    "'local' (a cluster of --jobs worker processes here). Input may be a file, a glob or a folder "
    f"of parts, local or any fsspec URL. Needs {CLUSTER_INSTALL}.")]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="With --batch -o FILE: overwrite FILE even if guidekb did not write it.")]
BlocksizeOption = Annotated[int | None, typer.Option(
    "--blocksize", min=1, help="With --scheduler: bytes of input per task (files are cut at line ends).")]


def fail(message: str, hint: str = "") -> int:
    """Print why the run cannot be done; the exit status for it."""
    from guidekb.console import err_console  # here: rich is not needed by a run that succeeds

    err_console.print(f"error: {message}", markup=False, highlight=False)
    if hint:
        err_console.print(f"    {hint}", markup=False, highlight=False)
    return 2


def run_batch_command(source: str | None, kb_path: Path, *, cases: list[Path] | None = None, jobs: int = 1,
                      output: str | None = None, summary: bool = False,
                      fmt: SummaryFormat = SummaryFormat.text, scheduler: str | None = None,
                      blocksize: int | None = None, use_cache: bool = True, force: bool = False) -> int:
    """`guidekb run --batch`; returns the exit status. `cases` are the case files also given on
    the command line, which --batch excludes."""
    from guidekb.options import load

    if source is None:
        return fail("no cases given", "give case files (guidekb run CASE...) or an NDJSON file "
                    "(guidekb run --batch FILE|-)")
    if cases:
        return fail("give either case files or --batch, not both")
    jobs = jobs or os.cpu_count() or 1
    if scheduler is None and source != "-" and not Path(source).is_file():
        return fail(f"{source}: no such file", "give an NDJSON file, or - to read stdin")
    kb = load(kb_path, use_cache=use_cache)
    if scheduler is not None:
        totals = _run_on_dask(source, kb, scheduler, jobs, output, blocksize)
    else:
        totals = _run_here(source, kb, jobs, output, write_answers=output is not None or not summary,
                           force=force, use_cache=use_cache)
    if isinstance(totals, int):
        return totals
    if summary:
        typer.echo(render_summary(totals, fmt), nl=False)
    if not totals.ok:
        where = ", ".join(map(str, totals.first_failures))
        from guidekb.console import err_console

        err_console.print(f"{totals.failed} of {totals.cases} cases failed (first at line {where}); "
                          "their error objects are in the output", markup=False, highlight=False)
        return 1
    return 0


def _run_here(source: str, kb: KnowledgeBase, jobs: int, output: str | None,
              write_answers: bool, force: bool = False, use_cache: bool = True) -> PopulationSummary | int:
    from guidekb.engine.runtime.batch import BatchAborted, PopulationSummary, run_batch_chunks

    totals = PopulationSummary.for_kb(kb)
    try:
        with ExitStack() as stack:
            stream: IO[bytes] = sys.stdin.buffer if source == "-" else stack.enter_context(open(source, "rb"))
            size = None if source == "-" else Path(source).stat().st_size
            out: IO[bytes] | None = None
            if write_answers and output is not None:
                out = stack.enter_context(_output_file(output, force))
            elif write_answers:
                out = sys.stdout.buffer
            bar = stack.enter_context(_Bar(size))
            try:
                chunks = run_batch_chunks(bar.reading(stream), kb, jobs=jobs, spool=True, use_cache=use_cache)
                for chunk in chunks:
                    totals.merge(chunk.summary)
                    bar.done(chunk.lines)
                    chunk.write_to(out)
                if out is not None:
                    out.flush()
            except BrokenPipeError:  # the reader left (`| head`): stop quietly, as `cat` does
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return BROKEN_PIPE
    except BatchAborted as exc:  # raised through the output file, which is then discarded
        return fail(str(exc))
    return totals


def _output_file(output: str, force: bool) -> AbstractContextManager[IO[bytes]]:
    """`--output FILE` as every file guidekb writes (guidekb.visualize.output_files): written
    to a temporary file and renamed over FILE only when the whole batch is written, so a
    failed or interrupted run leaves any previous FILE as it was; never over a file guidekb
    did not write unless --force; never through a symbolic link. Imported here, not at the
    top: the module's package draws charts, which a run without -o does not need.

    A character device or a named pipe (`-o /dev/null`, `-o /dev/stdout`, a FIFO a consumer
    reads) is written as it is: it holds no file to lose or to replace."""
    try:
        kind = os.stat(output).st_mode
    except OSError:
        kind = 0
    if stat.S_ISCHR(kind) or stat.S_ISFIFO(kind):
        return open(output, "wb")  # closed by the caller's ExitStack
    from guidekb.visualize.output_files import open_output

    return open_output(Path(output), force=force)


def _run_on_dask(source: str, kb: KnowledgeBase, scheduler: str, jobs: int, output: str | None,
                 blocksize: int | None) -> PopulationSummary | int:
    if output is None:
        return fail("--scheduler needs --output FOLDER", "the workers write their parts there "
                    "(a local path or an fsspec URL such as s3://bucket/results/)")
    if source == "-":
        return fail("--scheduler reads files, not stdin", "give a file, a glob or a folder of parts")
    try:
        from distributed import Client

        from guidekb.engine.runtime import cluster
    except ImportError as exc:
        return fail(f"the Dask batch needs packages that are not installed ({exc.name})",
                    f"install them with: {CLUSTER_INSTALL}")
    with ExitStack() as stack:
        if scheduler == "local":
            local = stack.enter_context(cluster.local_cluster(jobs))
            client = stack.enter_context(Client(local))  # type: ignore[no-untyped-call]
        else:
            client = stack.enter_context(Client(scheduler, timeout=30))  # type: ignore[no-untyped-call]
        bar = stack.enter_context(_Bar(None))
        try:
            return cluster.run_on_cluster(client, kb, source, output,
                                          blocksize=blocksize or cluster.DEFAULT_BLOCKSIZE,
                                          on_part_done=bar.done)
        except cluster.ClusterRunError as exc:
            return fail(str(exc))


class _Bar:
    """The progress bar on stderr: bytes of input read (when the size is known) and cases done.
    Draws nothing at all when stderr is not a terminal."""

    def __init__(self, total_bytes: int | None) -> None:
        from guidekb.console import err_console

        self.progress: Progress | None = None
        self.cases = 0
        if err_console.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("batch"), BarColumn(),
                                     TextColumn("{task.fields[cases]} cases"), TimeElapsedColumn(),
                                     console=err_console, transient=True)
            self.task = self.progress.add_task("batch", total=total_bytes, cases=0)

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def reading(self, stream: Iterable[bytes]) -> Iterator[bytes]:
        if self.progress is None:
            yield from stream
            return
        for line in stream:
            self.progress.advance(self.task, len(line))
            yield line

    def done(self, cases: int) -> None:
        self.cases += cases
        if self.progress is not None:
            self.progress.update(self.task, cases=self.cases)



def render_summary(summary: PopulationSummary, fmt: SummaryFormat) -> str:
    """The population report: JSON (the summary's own dict) or a plain-text table."""
    if fmt is SummaryFormat.json:
        import json

        return json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "\n"
    data = summary.to_json()
    lines = [f"{summary.kb_id} {summary.kb_version}: {summary.cases} cases, {summary.answered} answered, "
             f"{summary.failed} failed, {summary.blank} blank line{'' if summary.blank == 1 else 's'}"]
    if summary.failed:
        errors = ", ".join(f"{code} {n}" for code, n in data["errors"].items())
        lines.append(f"failed: {errors}; first at lines {', '.join(map(str, summary.first_failures))}")
    for title, table in (("RECOMMENDED", data["recommended"]), ("DO NOT", data["forbidden"])):
        lines += ["", f"{title:40} {'cases':>8} {'share':>7}  rules (cases)"]
        if not table:
            lines.append("  (none)")
        for code, count in table.items():
            share = count["cases"] / summary.answered if summary.answered else 0.0
            rules = ", ".join(f"{rule} {n}" for rule, n in
                              sorted(count["rules"].items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(f"  {code:38} {count['cases']:8} {share:7.1%}  {rules}")
    if data["conflicts"]:
        lines += ["", "CONFLICTS (recommended and forbidden: the prohibition won)"]
        lines += [f"  {code:38} {n:8}" for code, n in data["conflicts"].items()]
    return "\n".join(lines) + "\n"
