"""Worker processes end with the process that started them (engine/runtime/parent_watch.py).

Found after test runs: processes of `guidekb studio` workers still alive an hour after their
server was killed (SIGKILL, as the studio tests' clean-up does; a closed terminal does the
same to a real server, whose workers have left the terminal's process group). A
ProcessPoolExecutor worker holds both ends of its task pipe, so a killed parent never reaches
it. These tests kill the parent alone, without warning, and require every worker gone soon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guidekb.engine.runtime.batch import SPOOL_ENV
from guidekb.engine.runtime.parent_watch import POLL_SECONDS
from tests.conftest import HSV_KB

psutil = pytest.importorskip("psutil", reason="psutil (a Dask dependency) lists child processes")

GUIDEKB = [sys.executable, "-m", "guidekb"]
GONE_WITHIN = 10 * POLL_SECONDS + 10  # seconds: polling, then the interpreter's exit


def _workers(parent: int, count: int, timeout: float = 120) -> list[psutil.Process]:
    """The `count` worker processes of `parent`, once they are running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [p for p in psutil.Process(parent).children(recursive=True)
                   if "multiprocessing" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())]
        if len(workers) >= count:
            return workers
        time.sleep(0.2)
    raise AssertionError(f"{count} workers of process {parent} never started")


def _assert_gone(workers: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(workers, timeout=GONE_WITHIN)
    for process in alive:  # do not leave them behind either way
        process.kill()
    assert alive == [], f"workers outlived their killed parent: {[p.pid for p in alive]}"


def test_batch_workers_end_when_the_run_is_killed(tmp_path: Path) -> None:
    """... and remove the folder the killed run spooled its chunks' output to."""
    spool = tmp_path / "spool"
    spool.mkdir()
    run = subprocess.Popen([*GUIDEKB, "run", "--batch", "-", "--jobs", "2", "--kb", str(HSV_KB)],
                           cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env={**os.environ, SPOOL_ENV: str(spool)})
    try:
        assert run.stdin is not None
        run.stdin.write(b'{"adherent": true}\n' * 1200)  # chunks for both workers; stdin stays open
        run.stdin.flush()
        workers = _workers(run.pid, 2)
        assert [p.name[:14] for p in spool.iterdir()] == ["guidekb-batch-"]
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        _assert_gone(workers)
        assert list(spool.iterdir()) == [], "the spool folder outlived the run"
    finally:
        if run.poll() is None:
            run.kill()


def test_studio_workers_end_when_the_server_is_killed(tmp_path: Path) -> None:
    pytest.importorskip("starlette", reason="the 'studio' extra is not installed")
    from tests.test_studio import running_studio

    with running_studio(HSV_KB, tmp_path) as (server, _url):
        workers = _workers(server.pid, 1)  # the first validation starts a lane's worker
        os.kill(server.pid, signal.SIGKILL)  # the server alone: its workers left its group
        server.wait()
        _assert_gone(workers)
