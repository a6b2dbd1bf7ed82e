"""`guidekb run --batch`: NDJSON in, answers or per-line errors out, in input order, on one or
two processes, streaming; compared case by case with Engine.evaluate and `guidekb run --json`."""

from __future__ import annotations

import io
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guidekb.engine.format.cases import load_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.scenarios import load_scenarios
from guidekb.engine.runtime.batch import (
    EVALUATION_FAILED,
    INVALID_CASE,
    INVALID_ID,
    INVALID_JSON,
    NOT_AN_OBJECT,
    SPOOL_ENV,
    LineResult,
    PopulationSummary,
    answer_json,
    run_batch,
    run_batch_chunks,
    summarize,
)
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB, ROOT

GUIDEKB = [sys.executable, "-m", "guidekb"]

# Every kind of bad line, with the error code it must give. Blank lines give no output.
BAD_LINES: list[tuple[bytes, str]] = [
    (b'{"immune_status": "immunocompromised",', INVALID_JSON),
    (b'{"adherent": true, "adherent": false}', INVALID_JSON),
    (b'{"recurrences_per_year": NaN}', INVALID_JSON),
    (b'{"hsv_site": "or\xffolabial"}', INVALID_JSON),
    (b'[{"adherent": true}]', NOT_AN_OBJECT),
    (b'"adherent"', NOT_AN_OBJECT),
    (b'{"id": "x", "case": [1]}', NOT_AN_OBJECT),
    (b'{"id": {"nested": 1}, "adherent": true}', INVALID_ID),
    (b'{"id": true, "adherent": true}', INVALID_ID),
    (b'{"id": 18446744073709551616, "adherent": true}', INVALID_ID),  # 2**64: orjson cannot write it
    (b'{"id": -9223372036854775809, "adherent": true}', INVALID_ID),
    (b'{"immune_statuss": "immunocompromised"}', INVALID_CASE),
    (b'{"immune_status": "weak"}', INVALID_CASE),
    (b'{"recurrences_per_year": 4.0}', INVALID_CASE),
    (b'{"resistance_confirmed": true}', INVALID_CASE),
    (b'{"id": 1, "case": {}, "extra": 2}', INVALID_CASE),
]


def hsv_cases(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Every scenario case and every bundled case file of the HSV knowledge base."""
    cases = [s.case for s in load_scenarios(kb)]
    cases += [load_case(path, kb) for path in sorted((HSV_KB / "cases").glob("*.yaml"))]
    assert len(cases) > 40
    return cases


def ndjson(items: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(item).encode() + b"\n" for item in items]


def mixed_input(kb: KnowledgeBase) -> tuple[list[bytes], list[dict[str, Any]]]:
    """Good cases in both accepted forms, with every bad line and blank lines in between."""
    cases = hsv_cases(kb)
    lines: list[bytes] = []
    for i, case in enumerate(cases):
        form = i % 3
        if form == 0:
            lines.append(json.dumps({"id": f"c{i}", **case}).encode() + b"\n")
        elif form == 1:
            lines.append(json.dumps({"id": i, "case": case}).encode() + b"\r\n")
        else:
            lines.append(json.dumps(case).encode() + b"\n")
        if i < len(BAD_LINES):
            lines.append(BAD_LINES[i][0] + b"\n")
        if i % 10 == 5:
            lines.append(b"   \n")
    return lines, cases


def outputs(results: list[LineResult]) -> list[dict[str, Any]]:
    return [json.loads(r.output) for r in results if not r.blank]


@pytest.fixture(scope="module")
def mixed(hsv_kb: KnowledgeBase) -> tuple[list[bytes], list[dict[str, Any]]]:
    return mixed_input(hsv_kb)


@pytest.fixture(scope="module")
def single(hsv_kb: KnowledgeBase, mixed: tuple[list[bytes], list[dict[str, Any]]]) -> list[LineResult]:
    return list(run_batch(mixed[0], hsv_kb))


def test_every_case_answers_as_engine_evaluate(hsv_engine: Engine, single: list[LineResult],
                                               mixed: tuple[list[bytes], list[dict[str, Any]]]) -> None:
    answered = [o for o in outputs(single) if "answer" in o]
    assert [o["answer"] for o in answered] == [hsv_engine.evaluate(c).model_dump(mode="json")
                                               for c in mixed[1]]
    assert [o["id"] for o in answered[:3]] == ["c0", 1, None]  # bare with id, envelope, bare


def test_every_bad_line_is_reported_with_its_line_number_and_the_run_goes_on(
        single: list[LineResult], mixed: tuple[list[bytes], list[dict[str, Any]]]) -> None:
    lines = mixed[0]
    by_line = {o["line"]: o for o in outputs(single)}
    for bad, code in BAD_LINES:
        number = lines.index(bad + b"\n") + 1
        error = by_line[number]["error"]
        assert error["code"] == code, bad
        assert error["message"] and error["problems"][0]["line"] == number
    unknown = by_line[lines.index(b'{"immune_statuss": "immunocompromised"}\n') + 1]["error"]
    assert "immune_statuss" in unknown["message"] and "immune_status" in unknown["problems"][0]["hint"]
    broken = by_line[lines.index(BAD_LINES[0][0] + b"\n") + 1]["error"]["problems"][0]
    assert broken["column"] > 1  # where the JSON breaks off


def test_blank_lines_give_no_output_and_lines_are_numbered_as_in_an_editor(
        single: list[LineResult], mixed: tuple[list[bytes], list[dict[str, Any]]]) -> None:
    lines = mixed[0]
    blank = [i + 1 for i, line in enumerate(lines) if not line.strip()]
    assert blank and all(r.blank for r in single if r.line in blank)
    numbers = [o["line"] for o in outputs(single)]
    assert numbers == [i + 1 for i, line in enumerate(lines) if line.strip()]


def test_two_processes_give_the_same_bytes_in_input_order(
        hsv_kb: KnowledgeBase, single: list[LineResult],
        mixed: tuple[list[bytes], list[dict[str, Any]]]) -> None:
    two = list(run_batch(mixed[0], hsv_kb, jobs=2, chunk_lines=3, window=3))
    assert [r.output for r in two] == [r.output for r in single]
    assert [r.line for r in two] == list(range(1, len(mixed[0]) + 1))


@pytest.mark.parametrize(("jobs", "chunk"), [(1, 5), (2, 3), (2, 64)])
def test_chunks_give_the_bytes_and_the_summary_of_the_lines(
        hsv_kb: KnowledgeBase, single: list[LineResult], mixed: tuple[list[bytes], list[dict[str, Any]]],
        jobs: int, chunk: int) -> None:
    """What the command line writes and counts (`run_batch_chunks`, a summary per chunk made in
    the worker and merged here) is what the per-line results and `summarize` give."""
    expected = PopulationSummary.for_kb(hsv_kb)
    for _ in summarize(iter(single), expected):
        pass
    merged = PopulationSummary.for_kb(hsv_kb)
    chunks = list(run_batch_chunks(mixed[0], hsv_kb, jobs=jobs, chunk_lines=chunk))
    for part in chunks:
        merged.merge(part.summary)
    assert b"".join(c.output for c in chunks) == b"".join(r.output + b"\n" for r in single if not r.blank)
    assert sum(c.lines for c in chunks) == len(mixed[0])
    assert merged.to_json() == expected.to_json() and merged.first_failures == expected.first_failures
    assert expected.failed and expected.blank  # the input has failures and blank lines to count


@pytest.mark.parametrize("to_file", [True, False])
def test_spooled_chunks_write_the_same_bytes_and_leave_nothing(
        hsv_kb: KnowledgeBase, single: list[LineResult], mixed: tuple[list[bytes], list[dict[str, Any]]],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, to_file: bool) -> None:
    """Workers spool each chunk's output to a file (sendfile(2) to a real file, read and
    written to anything else); every spool file and the folder are gone afterwards, also when
    the consumer stops early."""
    monkeypatch.setenv(SPOOL_ENV, str(tmp_path))
    expected = b"".join(r.output + b"\n" for r in single if not r.blank)
    out: Any = (tmp_path / "out.ndjson").open("wb") if to_file else io.BytesIO()
    for chunk in run_batch_chunks(mixed[0], hsv_kb, jobs=2, chunk_lines=3, spool=True):
        assert chunk.spool and not chunk.output
        chunk.write_to(out)
    written = (out.close(), (tmp_path / "out.ndjson").read_bytes())[1] if to_file else out.getvalue()
    assert written == expected
    early = run_batch_chunks(mixed[0], hsv_kb, jobs=2, chunk_lines=3, spool=True)
    next(early).write_to(None)
    early.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.ndjson"] if to_file else [])


def test_the_answer_is_the_one_guidekb_run_json_prints(hsv_kb: KnowledgeBase, tmp_path: Path) -> None:
    files = sorted((HSV_KB / "cases").glob("*.yaml"))
    printed = [item["answer"] for item in json.loads(subprocess.run(
        [*GUIDEKB, "run", *map(str, files), "--json", "--kb", str(HSV_KB)],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout)]
    lines = ndjson([load_case(f, hsv_kb) for f in files])
    batch = outputs(list(run_batch(lines, hsv_kb)))
    assert [o["answer"] for o in batch] == printed
    engine = Engine.for_kb(hsv_kb)
    assert json.loads(answer_json(engine.evaluate(load_case(files[0], hsv_kb)))) == printed[0]


class Pulled:
    """An input that counts how many lines were taken from it."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self.lines, self.count = lines, 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.lines:
            self.count += 1
            yield line


@pytest.mark.parametrize(("jobs", "chunk", "window"), [(1, 128, 1), (2, 16, 4)])
def test_input_is_read_lazily_within_the_window(hsv_kb: KnowledgeBase, jobs: int, chunk: int,
                                                window: int) -> None:
    cases = itertools.cycle(ndjson(hsv_cases(hsv_kb)))
    source = Pulled(itertools.islice(cases, 20_000))
    results = run_batch(source, hsv_kb, jobs=jobs, chunk_lines=chunk, window=window)
    ahead = chunk * window if jobs > 1 else 1
    for done, result in enumerate(itertools.islice(results, 400), 1):
        assert result.line == done
        assert source.count - done <= ahead, "read beyond the window"
    results.close()  # stops the workers
    assert source.count <= 400 + ahead


def test_summary_counts_codes_and_rules_and_parts_merge_exactly(
        hsv_kb: KnowledgeBase, hsv_engine: Engine, single: list[LineResult],
        mixed: tuple[list[bytes], list[dict[str, Any]]]) -> None:
    summary = PopulationSummary.for_kb(hsv_kb)
    for result in single:
        summary.add(result)
    answers = [hsv_engine.evaluate(c) for c in mixed[1]]
    data = summary.to_json()
    assert data["answered"] == len(answers) and data["failed"] == len(BAD_LINES)
    assert data["blank"] == sum(1 for line in mixed[0] if not line.strip())
    assert not summary.ok and sum(data["errors"].values()) == len(BAD_LINES)
    for code in {r.code for a in answers for r in a.recommendations}:
        holders = [a for a in answers if code in a.recommended_codes()]
        assert data["recommended"][code]["cases"] == len(holders)
        rules = {r.rule for a in holders for r in a.recommendations if r.code == code}
        assert rules <= set(data["recommended"][code]["rules"])
    forbidden = data["forbidden"]["topical_acyclovir"]
    assert forbidden["cases"] == len(answers)  # forbidden always, for this indication
    halves = PopulationSummary.for_kb(hsv_kb), PopulationSummary.for_kb(hsv_kb)
    for i, result in enumerate(single):
        halves[i * 2 >= len(single)].add(result)
    halves[0].merge(halves[1])
    assert halves[0].to_json() == data
    assert PopulationSummary.from_json(json.loads(json.dumps(data))).to_json() == data


def test_an_engine_failure_is_a_line_error_and_the_run_goes_on(hsv_kb: KnowledgeBase,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from guidekb.engine.errors import ACTION_FAILED, EvaluationError

    def refuse(self: Engine, case: dict[str, Any], **options: Any) -> Any:
        if case.get("adherent") is False:
            raise EvaluationError("a rule's action failed: the answer would be incomplete", ACTION_FAILED)
        return original(self, case, **options)

    original = Engine.fire  # what both the models and the fast answer JSON fire the rules with
    monkeypatch.setattr(Engine, "fire", refuse)
    results = outputs(list(run_batch([b'{"adherent": false}\n', b'{"adherent": true}\n'], hsv_kb)))
    assert results[0]["error"]["code"] == EVALUATION_FAILED and "incomplete" in results[0]["error"]["message"]
    assert "answer" in results[1]


# --- the command line ------------------------------------------------------------------------

def guidekb(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*GUIDEKB, *args], input=stdin, capture_output=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "200"})


def test_cli_batch_from_stdin_to_stdout_exit_1_when_lines_failed(
        single: list[LineResult], mixed: tuple[list[bytes], list[dict[str, Any]]]) -> None:
    result = guidekb("run", "--batch", "-", "--kb", str(HSV_KB), stdin=b"".join(mixed[0]))
    assert result.returncode == 1
    assert result.stdout == b"".join(r.output + b"\n" for r in single if not r.blank)
    err = result.stderr.decode()
    assert f"{len(BAD_LINES)} of " in err and "failed" in err and len(err.splitlines()) == 1


def test_cli_piped_success_writes_nothing_but_the_output(hsv_kb: KnowledgeBase, tmp_path: Path) -> None:
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"".join(ndjson(hsv_cases(hsv_kb)[:8])))
    out = tmp_path / "answers.ndjson"
    result = guidekb("run", "--batch", str(source), "--kb", str(HSV_KB), "--jobs", "2", "-o", str(out))
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")  # no progress bar
    assert [json.loads(line)["line"] for line in out.read_bytes().splitlines()] == list(range(1, 9))



def test_cli_output_file_is_never_a_users_file_and_is_written_whole(hsv_kb: KnowledgeBase,
                                                                    tmp_path: Path) -> None:
    """-o FILE goes through guidekb.visualize.output_files: a file guidekb did not write is
    refused (exit 2, untouched) unless --force; a file it wrote is replaced; no temporary
    file is left."""
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"".join(ndjson(hsv_cases(hsv_kb)[:3])))
    out = tmp_path / "answers.ndjson"
    out.write_bytes(b"the user's own notes\n")
    refused = guidekb("run", "--batch", str(source), "--kb", str(HSV_KB), "-o", str(out))
    assert refused.returncode == 2 and b"--force" in refused.stderr
    assert out.read_bytes() == b"the user's own notes\n"
    forced = guidekb("run", "--batch", str(source), "--kb", str(HSV_KB), "-o", str(out), "--force")
    assert forced.returncode == 0
    first = out.read_bytes()
    assert [json.loads(line)["line"] for line in first.splitlines()] == [1, 2, 3]
    again = guidekb("run", "--batch", str(source), "--kb", str(HSV_KB), "-o", str(out))  # ours now
    assert again.returncode == 0 and out.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") and "tmp" in p.name) == []
    to_null = guidekb("run", "--batch", str(source), "--kb", str(HSV_KB), "-o", os.devnull, "--summary")
    assert to_null.returncode == 0 and b"RECOMMENDED" in to_null.stdout  # a device is written as it is

def test_cli_summary_as_json_and_text(mixed: tuple[list[bytes], list[dict[str, Any]]],
                                      single: list[LineResult], hsv_kb: KnowledgeBase) -> None:
    expected = PopulationSummary.for_kb(hsv_kb)
    for _ in summarize(iter(single), expected):
        pass
    as_json = guidekb("run", "--batch", "-", "--kb", str(HSV_KB), "--summary", "--format", "json",
                      stdin=b"".join(mixed[0]))
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == expected.to_json()  # the summary instead of the answers
    text = guidekb("run", "--batch", "-", "--kb", str(HSV_KB), "--summary", stdin=b"".join(mixed[0]))
    shown = text.stdout.decode()
    assert "RECOMMENDED" in shown and "DO NOT" in shown
    assert "topical_acyclovir" in shown and "never-topical-acyclovir" in shown
    assert f"{len(BAD_LINES)} failed" in shown


def test_cli_unusable_input_exits_2() -> None:
    missing = guidekb("run", "--batch", "no/such/file.ndjson", "--kb", str(HSV_KB))
    assert missing.returncode == 2 and b"no such file" in missing.stderr and missing.stdout == b""
    both = guidekb("run", str(HSV_KB / "cases" / "confirmed-resistance.yaml"), "--batch", "-",
                   "--kb", str(HSV_KB), stdin=b"")
    assert both.returncode == 2 and b"not both" in both.stderr
    nothing = guidekb("run", "--kb", str(HSV_KB))
    assert nothing.returncode == 2 and b"--batch" in nothing.stderr


def test_cli_progress_bar_only_on_a_terminal(hsv_kb: KnowledgeBase, tmp_path: Path) -> None:
    """stderr a terminal (a pty): the bar is drawn there; the answers on stdout are unchanged."""
    pty = pytest.importorskip("pty")
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"".join(ndjson(hsv_cases(hsv_kb)[:40])))
    leader, follower = pty.openpty()
    try:
        result = subprocess.run([*GUIDEKB, "run", "--batch", str(source), "--kb", str(HSV_KB)],
                                stdout=subprocess.PIPE, stderr=follower, timeout=120, cwd=ROOT,
                                env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
        os.set_blocking(leader, False)
        drawn = b""
        with_data = True
        while with_data:
            try:
                chunk = os.read(leader, 65536)
            except (BlockingIOError, OSError):
                chunk = b""
            drawn += chunk
            with_data = bool(chunk)
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 40
    assert b"batch" in drawn and b"cases" in drawn
