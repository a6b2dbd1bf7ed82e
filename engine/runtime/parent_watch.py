"""Worker processes that end when the process that started them is gone.

Why. guidekb's worker processes (`guidekb run --batch --jobs N`, the studio's two lanes) are
ProcessPoolExecutor workers. Such a worker waits for its next task on a pipe it also holds the
writing end of, so when its parent is killed without the chance to stop it (SIGKILL, an
out-of-memory kill, a closed terminal's SIGHUP to a studio whose workers left the terminal's
process group) it never reads end-of-file and lives on, holding a compiled knowledge base:
measured, orphans of killed studios still alive, about 100 MB each, an hour later.

A daemon thread in the worker looks at its parent process id once a second; when the worker
has been handed to another parent, the one that started it is gone and nothing can ever be
asked of it again, so it exits at once with `os._exit` (a pool's orderly shutdown needs the
parent). The thread reads the parent id and, at the end, the names of the pool's semaphores:
it touches nothing durable_rules or the task uses, which matters because durable_rules is not
thread-safe.

The pool's queues hold named POSIX semaphores (/dev/shm/sem.mp-*, with the `spawn` start
method), which outlive every process until someone unlinks them. The parent does at its
orderly end; killed, its resource tracker does once the parent and the workers are gone. But
a closed terminal's SIGHUP, or `kill -9` of the process group, ends the tracker with the
parent (it is in the parent's group; a studio's workers left it): then the orphaned worker is
the last process that knows the names, and unlinks them before exiting. Found as 10
`sem.mp-*` left in /dev/shm by every test run (the studio's two lanes, 5 each, its process
group killed by the tests' clean-up); measured the same after a SIGHUP to the group.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import shutil
import threading
import time
from multiprocessing import resource_tracker, synchronize

POLL_SECONDS = 1.0
ORPHANED_EXIT = 0  # nothing failed that anyone could be told about: the parent is gone


def exit_with_parent(parent: int, poll_seconds: float = POLL_SECONDS,
                     left_behind: str = "") -> None:
    """Exit this process soon after process `parent` (the one that started it) has ended.

    `parent` is passed by the starting process (its `os.getpid()`), not read here, so a parent
    that died before this worker even started is noticed too. `left_behind` names a folder the
    parent would have removed at its end (a batch run's spool folder): the worker removes it
    before exiting, since nobody else will."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        if left_behind:
            shutil.rmtree(left_behind, ignore_errors=True)
        if not _tracker_alive():
            release_semaphores()
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="guidekb-parent-watch", daemon=True).start()


def _tracker_alive() -> bool:
    """Whether multiprocessing's resource tracker, which this worker shares with its parent,
    still reads its pipe (it then unlinks the parent's semaphores itself, once this process
    exits). The pipe is only polled, never written: nothing can start a new tracker here."""
    fd = getattr(getattr(resource_tracker, "_resource_tracker", None), "_fd", None)
    if not isinstance(fd, int):
        return False
    poller = select.poll()
    try:
        poller.register(fd, 0)  # a pipe without a reader reports POLLERR; a closed fd POLLNVAL
        events = poller.poll(0)
    except (OSError, ValueError):
        return False
    return not any(event & (select.POLLERR | select.POLLNVAL) for _, event in events)


def semaphore_names() -> set[str]:
    """The names of the named semaphores this process holds (a pool's task and result queues)."""
    names = set()
    for found in gc.get_objects():
        if isinstance(found, synchronize.SemLock):
            name = getattr(getattr(found, "_semlock", None), "name", None)
            if isinstance(name, str):
                names.add(name)
    return names


def release_semaphores() -> None:
    """Unlink the named semaphores this process holds: open handles keep working, the names
    leave /dev/shm. Only for a process whose parent and resource tracker are gone."""
    unlink = getattr(synchronize, "sem_unlink", None)
    if unlink is None:  # a platform without named semaphores
        return
    for name in semaphore_names():
        with contextlib.suppress(OSError):
            unlink(name)


__all__ = ["POLL_SECONDS", "exit_with_parent", "release_semaphores", "semaphore_names"]
