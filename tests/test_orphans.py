"""Worker processes end with the process that started them (engine/runtime/parent_watch.py).

Found after test runs: processes of `guidekb studio` workers still alive an hour after their
server was killed (SIGKILL, as the studio tests' clean-up does; a closed terminal does the
same to a real server, whose workers have left the terminal's process group). A
ProcessPoolExecutor worker holds both ends of its task pipe, so a killed parent never reaches
it. These tests kill the parent alone, without warning, and require every worker gone soon.

Nor may a killed run leave the named semaphores of its pool's queues in /dev/shm (`sem.mp-*`,
there until reboot): found 10 more after every `make test`, the studio's two lanes, whose server
the browser tests' clean-up killed with its whole process group (resource tracker included)."""

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
SHM = Path("/dev/shm")


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


def _semaphores_of(pid: int) -> set[str]:
    """The /dev/shm/sem.mp-* names of the named semaphores process `pid` has open. glibc maps
    each under a temporary name (shown deleted), so they are matched by inode: a name any other
    process (a test running beside this one) created is never counted."""
    inodes = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/dev/shm/sem."):
            inodes.add(int(fields[4]))
    names = set()
    for path in SHM.glob("sem.mp-*"):
        try:
            if path.stat().st_ino in inodes:
                names.add(path.name)
        except FileNotFoundError:  # another process's, unlinked meanwhile
            pass
    return names


def _assert_unlinked(names: set[str], timeout: float = GONE_WITHIN) -> None:
    """Every one of `names` gone from /dev/shm soon (the resource tracker, if it lives, unlinks
    them once the last worker has exited)."""
    deadline = time.monotonic() + timeout
    while (left := {n for n in names if (SHM / n).exists()}) and time.monotonic() < deadline:
        time.sleep(0.2)
    for name in left:  # do not leave them behind either way
        (SHM / name).unlink(missing_ok=True)
    assert not left, f"semaphores left in /dev/shm by the killed run: {sorted(left)}"


def _settled_studio(server: subprocess.Popen[str], url: str) -> tuple[list[psutil.Process], set[str]]:
    """Once the studio has checked everything (both lanes' workers started, each out of the
    server's process group): its workers and the names of its semaphores."""
    import httpx

    from tests.test_studio import wait_for

    wait_for(lambda: all(p["status"] in ("done", "blocked", "failed")
                         for p in httpx.get(url + "api/state").json()["panels"].values()),
             "the studio to finish checking")
    workers = _workers(server.pid, 2)
    wait_for(lambda: all(os.getpgid(w.pid) != server.pid for w in workers),
             "the workers to leave the server's process group")
    names = _semaphores_of(server.pid)
    assert len(names) == 10, f"two lanes, two queues each, 5 semaphores a lane: {sorted(names)}"
    return workers, names


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

    with running_studio(HSV_KB, tmp_path) as (server, url):
        workers, semaphores = _settled_studio(server, url)
        os.kill(server.pid, signal.SIGKILL)  # the server alone: its workers left its group
        server.wait()
        _assert_gone(workers)
    _assert_unlinked(semaphores)  # by the resource tracker, which outlived the server


@pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm: this system keeps named semaphores elsewhere")
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGKILL], ids=["SIGHUP", "SIGKILL"])
def test_a_studio_killed_with_its_process_group_leaves_no_semaphores(tmp_path: Path, signum: int) -> None:
    """A closed terminal (SIGHUP to the process group) or `kill -9 -PGID` (the clean-up of
    tests.test_studio.running_studio) ends the server and its resource tracker at once: the
    workers, out of the group, are the last to know the semaphores' names and must unlink them
    (engine/runtime/parent_watch.py). Without that, 10 left per kill."""
    pytest.importorskip("starlette", reason="the 'studio' extra is not installed")
    from tests.test_studio import running_studio

    with running_studio(HSV_KB, tmp_path) as (server, url):
        workers, semaphores = _settled_studio(server, url)
        os.killpg(server.pid, signum)
        server.wait()
        _assert_gone(workers)
    _assert_unlinked(semaphores)
