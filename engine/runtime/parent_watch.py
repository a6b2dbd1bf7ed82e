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
parent). The thread only reads the parent id: it touches nothing durable_rules or the task
uses, which matters because durable_rules is not thread-safe.
"""

from __future__ import annotations

import os
import shutil
import threading
import time

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
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="guidekb-parent-watch", daemon=True).start()


__all__ = ["POLL_SECONDS", "exit_with_parent"]
