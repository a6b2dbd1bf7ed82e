"""Population runs: a knowledge base over many cases, NDJSON in, NDJSON out, in input order.

Input: UTF-8, one JSON object per line. A line is either

* a bare case, the mapping of facts a case file holds, with an optional ``"id"`` key that is
  not a fact: ``{"id": "p-17", "immune_status": "immunocompromised"}``; or
* an envelope: ``{"id": "p-17", "case": {...}}`` (exactly the keys ``case`` and, optionally,
  ``id``). A line holding a ``"case"`` key is always read as an envelope; a knowledge base that
  declares a fact called ``id`` or ``case`` needs the envelope form.

An ``id`` is a string or an integer and is echoed back; without one the output says
``"id": null`` and the line number identifies the case. Blank lines (only whitespace) are
skipped: they produce no output and are counted as blank in the summary. Lines are numbered
from 1 as a text editor numbers them, blank lines included.

Output: one compact JSON line per non-blank input line, in input order, keys in this order::

    {"id": ..., "line": 3, "answer": {<the Answer, as `guidekb run CASE --json` prints it>}}
    {"id": ..., "line": 4, "error": {"code": "invalid_case", "message": "...",
                                     "problems": [{"line": 4, "column": 1, "message": "...",
                                                   "hint": "..."}]}}

Error codes: ``invalid_json`` (not UTF-8, not JSON, a duplicate key, NaN/Infinity),
``not_an_object``, ``invalid_id``, ``invalid_case`` (a fact or value outside the vocabulary:
the case-file checks) and ``evaluation_failed`` (the engine refused to answer). A bad line
never stops the run; a fault guidekb does not know (a bug) does: fail closed.

Memory stays flat whatever the input size: lines are read lazily and at most a fixed window
of them is in flight. With ``jobs > 1`` the cases run in worker processes started with
'spawn' (durable_rules is not thread-safe and keeps per-process state); each worker loads,
verifies and compiles the knowledge base once, receives lines in chunks and sends back each
chunk's finished output (the command line has it spooled to a file: `run_batch_chunks`) and
summary, which are re-ordered here.
"""

from __future__ import annotations

import errno
import itertools
import json
import multiprocessing
import os
import shutil
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson

from guidekb.engine.errors import CaseError, EvaluationError, GuidekbError, ProblemsError
from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.kbcache import load_cached
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.answer_json import evaluate_json
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.parent_watch import exit_with_parent

# error codes of an output line
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
INVALID_ID = "invalid_id"
INVALID_CASE = "invalid_case"
EVALUATION_FAILED = "evaluation_failed"

# Lines sent to a worker at once, and chunks in flight per worker (one running, two queued, so a
# worker never waits for the parent). 256 lines are about 50 ms of work on the HSV KB: with 64,
# the parent's per-chunk work (futures, pickling, the executor's threads) took 3.0 s of CPU over
# 100,000 cases against 1.2 s, and the workers of --jobs 2 waited for it (20.5 vs 17.1-19.9 s).
# Results wait in this process until written: the command line spools their output to files
# (`run_batch_chunks`), so only their summaries are held here; the library's in-memory results
# hold up to 3 x 256 answers of about 11 KB per worker.
CHUNK_LINES = 256
CHUNKS_PER_WORKER = 3
MAX_FIRST_FAILURES = 10  # line numbers of the first failures kept in a summary


class BatchAborted(GuidekbError):
    """The run could not go on (a worker process died): nothing after the lines already
    written is known, so the run stops instead of reporting a partial population."""


def answer_json(answer: Answer) -> bytes:
    """The answer as compact JSON: the same object `guidekb run CASE --json` prints."""
    return answer.__pydantic_serializer__.to_json(answer)  # pydantic-core straight to bytes: the
    # same bytes as orjson.dumps(answer.model_dump(mode="json")), in two thirds of the time


# --- one line --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LineResult:
    """What one input line gave: its output line and what the summary counts of it."""

    line: int
    output: bytes  # the NDJSON line without its newline; empty for a blank input line
    error: str | None = None  # the error code, None when the line was answered (or blank)
    recommended: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (code, rules that recommend it)
    forbidden: tuple[tuple[str, tuple[str, ...]], ...] = ()
    conflicts: tuple[str, ...] = ()

    @property
    def blank(self) -> bool:
        return not self.output


class _LineError(Exception):
    def __init__(self, code: str, message: str, column: int = 1, hint: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.column, self.hint = code, message, column, hint


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice (`"adherent": true, ..., "adherent": false`) is ambiguous: reject it
    rather than silently keep the last value, as most JSON readers do."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _LineError(INVALID_JSON, f"the key '{key}' is given twice", hint="give each fact once")
            seen.add(key)
    return obj


def _reject_constant(name: str) -> Any:
    raise _LineError(INVALID_JSON, f"{name} is not a JSON value", hint="facts are integers, "
                     "booleans, strings or lists of strings")


def _parse(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _LineError(INVALID_JSON, "the line is not UTF-8 text", exc.start + 1) from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _LineError(INVALID_JSON, f"not valid JSON: {exc.msg}", exc.colno,
                         "one JSON object per line, e.g. {\"id\": \"p1\", \"adherent\": true}") from None


def _split(data: Any) -> tuple[Any, Any]:
    """(id, facts) of a parsed line, in either of the two accepted forms."""
    if not isinstance(data, dict):
        raise _LineError(NOT_AN_OBJECT, f"a case is a JSON object, not {type(data).__name__}",
                         hint="one object of facts per line, e.g. {\"adherent\": true}")
    if "case" in data:
        extra = sorted(set(data) - {"id", "case"})
        if extra:
            raise _LineError(INVALID_CASE, f"unexpected key '{extra[0]}' beside 'case'",
                             hint="an envelope holds only 'id' and 'case'; put facts inside 'case'")
        facts = data["case"]
        if not isinstance(facts, dict):
            raise _LineError(NOT_AN_OBJECT, "'case' must be a JSON object of facts")
        return data.get("id"), facts
    facts = dict(data)
    return facts.pop("id", None), facts


def _check_id(case_id: Any) -> None:
    if case_id is not None and (isinstance(case_id, bool) or not isinstance(case_id, str | int)):
        raise _LineError(INVALID_ID, f"an id is a string or an integer, not {case_id!r}")
    if isinstance(case_id, int) and not -(2**63) <= case_id < 2**64:
        # the output line is written by orjson, which holds integers in 64 bits: a larger id
        # stopped the whole run with a traceback
        raise _LineError(INVALID_ID, f"an integer id must fit in 64 bits, not {case_id}",
                         hint="give a long id as a string")


class LineEvaluator:
    """Turns one raw input line into its output line. The only place lines are interpreted:
    the single-process run, the worker processes and the Dask workers all use it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.kb = engine.kb

    def __call__(self, number: int, raw: bytes) -> LineResult:
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            return LineResult(number, b"")
        case_id: Any = None
        try:
            data = _parse(raw)
            case_id, facts = _split(data)
            _check_id(case_id)
            answer = evaluate_json(self.engine, validate_case(facts, self.kb), validated=True)
        except _LineError as exc:
            return self._error(number, case_id if exc.code != INVALID_ID else None, exc.code,
                               exc.message, [(exc.column, exc.message, exc.hint)])
        except CaseError as exc:
            return self._problems(number, case_id, INVALID_CASE, exc)
        except EvaluationError as exc:  # the engine failed closed on this case: no partial answer
            return self._error(number, case_id, EVALUATION_FAILED, str(exc), [(1, str(exc), "")])
        # the answer's bytes are `answer_json(engine.evaluate(...))`'s (tests/test_answer_json.py)
        line = orjson.dumps({"id": case_id, "line": number, "answer": orjson.Fragment(answer.json)})
        return LineResult(number, line, recommended=answer.recommended, forbidden=answer.forbidden,
                          conflicts=answer.conflicts)

    def _problems(self, number: int, case_id: Any, code: str, exc: ProblemsError) -> LineResult:
        problems = [(1, p.message, p.hint) for p in exc.problems]
        first = exc.problems[0].message if exc.problems else str(exc)
        more = len(exc.problems) - 1
        message = first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else "")
        return self._error(number, case_id, code, message, problems)

    @staticmethod
    def _error(number: int, case_id: Any, code: str, message: str,
               problems: list[tuple[int, str, str]]) -> LineResult:
        error = {"code": code, "message": message,
                 "problems": [{"line": number, "column": column, "message": text, "hint": hint}
                              for column, text, hint in problems]}
        return LineResult(number, orjson.dumps({"id": case_id, "line": number, "error": error}), error=code)


# --- the population summary ---------------------------------------------------------------

@dataclass
class CodeCount:
    """How many cases got one code, and which rules gave it to them."""

    cases: int = 0
    rules: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "rules": dict(sorted(self.rules.items()))}


@dataclass
class PopulationSummary:
    """What a population got: per recommendation and prohibition code, how many cases and
    which rules; plus how many lines failed and why. Summaries of parts merge exactly."""

    kb_id: str
    kb_version: str
    cases: int = 0  # non-blank lines
    answered: int = 0
    blank: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    first_failures: list[int] = field(default_factory=list)
    recommended: dict[str, CodeCount] = field(default_factory=dict)
    forbidden: dict[str, CodeCount] = field(default_factory=dict)
    conflicts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def for_kb(cls, kb: KnowledgeBase) -> PopulationSummary:
        return cls(kb.id, kb.version)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def ok(self) -> bool:
        """True when every non-blank line was answered."""
        return self.failed == 0

    def add(self, result: LineResult) -> None:
        if result.blank:
            self.blank += 1
            return
        self.cases += 1
        if result.error is not None:
            self.errors[result.error] += 1
            if len(self.first_failures) < MAX_FIRST_FAILURES:
                self.first_failures.append(result.line)
            return
        self.answered += 1
        # Once per line, in the parent of a `--jobs` run while its workers keep both cores busy:
        # no CodeCount made only to be thrown away by setdefault and no Counter.update (its type
        # checks), which made this 59 µs a line, the parent's largest cost (cProfile, 20,000 lines).
        for table, verdicts in ((self.recommended, result.recommended), (self.forbidden, result.forbidden)):
            for code, rules in verdicts:
                count = table.get(code)
                if count is None:
                    count = table[code] = CodeCount()
                count.cases += 1
                tally = count.rules
                for rule in rules:
                    tally[rule] += 1
        for code in result.conflicts:
            self.conflicts[code] += 1

    def merge(self, other: PopulationSummary) -> None:
        """Add another part's summary (parts in input order keep `first_failures` right)."""
        if (other.kb_id, other.kb_version) != (self.kb_id, self.kb_version):
            raise ValueError("summaries of different knowledge bases do not merge")
        self.cases += other.cases
        self.answered += other.answered
        self.blank += other.blank
        self.errors.update(other.errors)
        self.first_failures = (self.first_failures + other.first_failures)[:MAX_FIRST_FAILURES]
        for mine, theirs in ((self.recommended, other.recommended), (self.forbidden, other.forbidden)):
            for code, count in theirs.items():
                total = mine.setdefault(code, CodeCount())
                total.cases += count.cases
                total.rules.update(count.rules)
        self.conflicts.update(other.conflicts)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; codes sorted by how many cases got them, then by name."""
        def table(counts: dict[str, CodeCount]) -> dict[str, Any]:
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1].cases, kv[0]))
            return {code: count.to_json() for code, count in ordered}

        return {
            "kb": {"id": self.kb_id, "version": self.kb_version},
            "cases": self.cases, "answered": self.answered, "failed": self.failed, "blank": self.blank,
            "errors": dict(sorted(self.errors.items())), "first_failures": list(self.first_failures),
            "recommended": table(self.recommended), "forbidden": table(self.forbidden),
            "conflicts": dict(sorted(self.conflicts.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PopulationSummary:
        def table(raw: dict[str, Any]) -> dict[str, CodeCount]:
            return {code: CodeCount(v["cases"], Counter(v["rules"])) for code, v in raw.items()}

        return cls(kb_id=data["kb"]["id"], kb_version=data["kb"]["version"], cases=data["cases"],
                   answered=data["answered"], blank=data["blank"], errors=Counter(data["errors"]),
                   first_failures=list(data["first_failures"]), recommended=table(data["recommended"]),
                   forbidden=table(data["forbidden"]), conflicts=Counter(data["conflicts"]))


# --- reading and running ----------------------------------------------------------------------

def read_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of a binary stream, lazily, newline included (stripped by the evaluator)."""
    yield from stream


def number_lines(lines: Iterable[bytes], first: int = 1) -> Iterator[tuple[int, bytes]]:
    return zip(itertools.count(first), lines)


def run_batch(lines: Iterable[bytes], kb: KnowledgeBase, *, jobs: int = 1, first_line: int = 1,
              chunk_lines: int = CHUNK_LINES, window: int | None = None) -> Generator[LineResult, None, None]:
    """Evaluate every line, yielding results in input order as soon as they are ready.

    `lines` is consumed lazily: at most `window` chunks of `chunk_lines` lines (default
    CHUNKS_PER_WORKER per worker) are read ahead of the results yielded, so memory does not grow
    with the input. `jobs=1` evaluates in this process; `jobs>1` in that many worker processes.
    """
    numbered = number_lines(lines, first_line)
    if jobs <= 1:
        evaluate = LineEvaluator(Engine.for_kb(kb))
        for number, raw in numbered:
            yield evaluate(number, raw)
        return
    ahead = window or CHUNKS_PER_WORKER * jobs
    for results in _run_pool(numbered, kb, jobs, chunk_lines, ahead, _worker_run):
        yield from results


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What a chunk of consecutive input lines gave: their output lines, joined and
    newline-terminated, and the summary of just these lines. The output is in `output`, or,
    from a worker run with a spool folder, in the file `spool` until `write_to` is called."""

    lines: int  # input lines, blank ones included
    output: bytes
    summary: PopulationSummary
    spool: str = ""

    def write_to(self, out: IO[bytes] | None) -> None:
        """Append the output to `out` (None: discard it); a spool file is removed afterwards."""
        if not self.spool:
            if out is not None:
                out.write(self.output)
            return
        try:
            if out is not None:
                _append_file(self.spool, out)
        finally:
            os.unlink(self.spool)


def _append_file(path: str, out: IO[bytes]) -> None:
    """Append a file to `out`: by sendfile(2), the kernel copying, where `out` is a file
    descriptor that takes it; else read and written."""
    with open(path, "rb") as source:
        size, offset = os.fstat(source.fileno()).st_size, 0
        try:
            target = out.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            target = -1
        if target >= 0:
            out.flush()
            try:
                while offset < size:
                    sent = os.sendfile(target, source.fileno(), offset, size - offset)
                    if not sent:
                        break
                    offset += sent
            except OSError as exc:
                if offset or exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                    raise  # EPIPE (the reader left) among them: the caller stops quietly
        if offset < size:
            source.seek(offset)
            shutil.copyfileobj(source, out)


def run_batch_chunks(lines: Iterable[bytes], kb: KnowledgeBase, *, jobs: int = 1, first_line: int = 1,
                     chunk_lines: int = CHUNK_LINES, window: int | None = None,
                     spool: bool = False, use_cache: bool = True) -> Iterator[ChunkResult]:
    """`run_batch` by chunks, in input order: what the command line writes and counts.

    Why. With `jobs > 1`, a worker sends back one joined output and one summary per chunk,
    so this process -- which also reads the input, writes the output and shares the cores with
    the workers -- does per chunk what it otherwise did per line: unpickle a result object,
    add it to the summary, write it. The bytes and the merged summary are those of
    `run_batch` and `summarize` (tests/test_batch.py).

    `spool=True` (with `jobs > 1`): workers write each chunk's output to a file of their own in
    a private folder (in /dev/shm where there is one) instead of sending it through the pool's
    pipe; the caller must `write_to` every chunk in order. An answer is about 11 KB on the HSV
    knowledge base, so 100,000 cases sent 1.1 GB through pipes in 64 KB pieces: measured, it
    cost the workers a quarter of their time waiting on the parent (--jobs 2: 23 s against
    19 s with no output). The folder and anything left in it are removed when the run ends.

    `use_cache=False`: workers load and verify the knowledge base themselves rather than take
    it from the cache of verified knowledge bases (`guidekb run --no-cache`).
    """
    numbered = number_lines(lines, first_line)
    if jobs <= 1:
        evaluate = LineEvaluator(Engine.for_kb(kb))
        for chunk in _chunks(numbered, chunk_lines):
            yield _evaluate_chunk(evaluate, chunk)
        return
    ahead = window or CHUNKS_PER_WORKER * jobs
    if not spool:
        yield from _run_pool(numbered, kb, jobs, chunk_lines, ahead, _worker_run_chunk, use_cache=use_cache)
        return
    folder = tempfile.mkdtemp(prefix="guidekb-batch-", dir=_spool_parent())
    try:
        yield from _run_pool(numbered, kb, jobs, chunk_lines, ahead, _worker_run_spooled, spool=folder,
                             use_cache=use_cache)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_SHM = "/dev/shm"  # memory-backed on Linux: spooled chunks never reach a disk
SPOOL_ENV = "GUIDEKB_SPOOL_DIR"


def _spool_parent() -> str | None:
    """Where a run's spool folder is made: $GUIDEKB_SPOOL_DIR if set, else /dev/shm if
    writable, else the temporary folder. It holds a few chunks' output at a time (a few MB)."""
    chosen = os.environ.get(SPOOL_ENV)
    if chosen:
        return chosen
    return _SHM if os.access(_SHM, os.W_OK) else None


def _evaluate_chunk(evaluate: LineEvaluator, chunk: list[tuple[int, bytes]]) -> ChunkResult:
    summary = PopulationSummary(evaluate.kb.id, evaluate.kb.version)
    out: list[bytes] = []
    for number, raw in chunk:
        result = evaluate(number, raw)
        summary.add(result)
        if result.output:
            out += (result.output, b"\n")
    return ChunkResult(len(chunk), b"".join(out), summary)


def _chunks(numbered: Iterator[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    while chunk := list(islice(numbered, size)):
        yield chunk


_Task = TypeVar("_Task")


def _run_pool(numbered: Iterator[tuple[int, bytes]], kb: KnowledgeBase, jobs: int, chunk_lines: int,
              window: int, task: Callable[[list[tuple[int, bytes]]], _Task],
              spool: str = "", use_cache: bool = True) -> Iterator[_Task]:
    """`task(chunk)` for every chunk in `jobs` worker processes, results in input order;
    `spool` is the folder spooled outputs go to (`_worker_run_spooled`)."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_start,
                               initargs=(str(kb.root.resolve()), kb.fingerprint, os.getpid(), spool,
                                         use_cache))
    pending: deque[Future[_Task]] = deque()
    finished = False
    try:
        for chunk in _chunks(numbered, chunk_lines):
            pending.append(pool.submit(task, chunk))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        finished = True
    except GeneratorExit:
        # The consumer stopped early (`| head`): let the chunks running now end, so that no
        # worker writes into the spool folder after it is removed.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    except BrokenProcessPool as exc:
        raise BatchAborted("a worker process died or could not load the knowledge base; the run "
                           "stopped after the lines already written") from exc
    finally:
        pool.shutdown(wait=finished, cancel_futures=not finished)


_worker_evaluator: LineEvaluator | None = None
_worker_spool = ""  # the run's spool folder, if it has one


def _worker_start(root: str, fingerprint: str, parent: int, spool: str = "", use_cache: bool = True) -> None:
    """Worker initializer: end with the run's process (engine/runtime/parent_watch.py, which
    also removes the spool folder a killed parent left), then load (from the cache of verified
    knowledge bases, as the command line does), verify and compile the knowledge base once per
    process; it must be the run's own (its fingerprint)."""
    global _worker_evaluator, _worker_spool
    _worker_spool = spool
    exit_with_parent(parent, left_behind=spool)
    kb = load_cached(Path(root), use_cache=use_cache)
    if kb.fingerprint != fingerprint:
        raise BatchAborted(f"the knowledge base in {root} changed while the run started")
    _worker_evaluator = LineEvaluator(Engine.for_kb(kb))


def _worker_run(chunk: list[tuple[int, bytes]]) -> list[LineResult]:
    assert _worker_evaluator is not None, "worker started without its knowledge base"
    return [_worker_evaluator(number, raw) for number, raw in chunk]


def _worker_run_chunk(chunk: list[tuple[int, bytes]]) -> ChunkResult:
    assert _worker_evaluator is not None, "worker started without its knowledge base"
    return _evaluate_chunk(_worker_evaluator, chunk)


def _worker_run_spooled(chunk: list[tuple[int, bytes]]) -> ChunkResult:
    """A chunk whose output goes to a file in the run's spool folder, named by its first line."""
    result = _worker_run_chunk(chunk)
    path = os.path.join(_worker_spool, f"{chunk[0][0]}.ndjson")
    with open(path, "xb") as spooled:
        spooled.write(result.output)
    return ChunkResult(result.lines, b"", result.summary, spool=path)


def summarize(results: Iterable[LineResult], summary: PopulationSummary) -> Iterator[LineResult]:
    """Pass results through, adding each to `summary` on the way."""
    for result in results:
        summary.add(result)
        yield result


def write_results(results: Iterable[LineResult], out: IO[bytes]) -> None:
    """Write the output lines, one per non-blank input line, newline-terminated."""
    for result in results:
        if result.output:
            out.write(result.output + b"\n")


__all__ = [
    "EVALUATION_FAILED", "INVALID_CASE", "INVALID_ID", "INVALID_JSON", "NOT_AN_OBJECT",
    "BatchAborted", "ChunkResult", "CodeCount", "LineEvaluator", "LineResult", "PopulationSummary",
    "answer_json", "number_lines", "read_lines", "run_batch", "run_batch_chunks", "summarize",
    "write_results",
]
