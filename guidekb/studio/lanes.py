"""The studio's worker processes: each lane is one process that runs tasks one at a time.

Why processes and not threads: durable_rules is not thread-safe (every evaluation must be
serialised), and each knowledge base compiled into it leaks about a megabyte that is never
returned (/work/shared/durable-rules-notes.md); a page open all day recompiles on every save.
So engine work runs in a worker process, one task at a time, and the process is replaced after
`RECYCLE_AFTER` generations. Two lanes keep the page responsive: the quick one (validation,
scenarios, the playground) never waits behind the slow one (flowcharts, z3 proofs, lint).

Workers are started with `spawn` (a fork of a process running uvicorn's threads is unsafe)
and ignore Ctrl-C: the server stops them when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from guidekb.studio import work

RECYCLE_AFTER = 40  # generations a worker process serves before it is replaced


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Block SIGINT in this thread while the pool may start a worker: the new process inherits
    the blocked signal, so a Ctrl-C while it is still importing guidekb (before its
    initialiser ignores SIGINT and leaves the terminal's process group) cannot print a
    traceback from it. A Ctrl-C meanwhile is delivered to the server when unblocked."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class WorkerCrashed(Exception):
    """A worker process died in the middle of a task (it is replaced for the next one)."""


class Lane:
    """One worker process, created on first use, replaced when old or broken."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._executor: ProcessPoolExecutor | None = None
        self._first_generation = 0

    def _pool(self, generation: int) -> ProcessPoolExecutor:
        if self._executor is not None and generation - self._first_generation >= RECYCLE_AFTER:
            self.close()
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=work.start_worker, initargs=(os.getpid(),))
            self._first_generation = generation
        return self._executor

    async def run(self, task: str, root: str, generation: int, *args: Any) -> dict[str, Any]:
        """Run `work.TASKS[task]` in this lane's process and return its data."""
        loop = asyncio.get_running_loop()
        pool = self._pool(generation)
        try:
            with _interrupts_held():  # a worker started here begins with Ctrl-C blocked
                pending = loop.run_in_executor(pool, work.run_safely, task, root, generation, *args)
            return await pending
        except BrokenProcessPool as exc:
            if self._executor is pool:
                self.close()
            raise WorkerCrashed(f"the {self.name} worker process stopped during '{task}'") from exc

    def close(self) -> None:
        """Stop the worker now, even in the middle of a task (a proof may run for seconds).

        Then wait for the executor's own thread and let its queues go: their semaphores are
        registered with multiprocessing's resource tracker, which would otherwise warn about
        "leaked semaphore objects" on the terminal when `guidekb` exits after Ctrl-C."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
        executor.shutdown(wait=True)
        del executor
        gc.collect()


__all__ = ["RECYCLE_AFTER", "Lane", "WorkerCrashed"]
