"""`--watch` for validate and test: run, then run again after every save under the knowledge
base, until Ctrl-C (exit status 130, as for any interrupted command).

A run that finds problems prints them and waits for the next save: in watch mode a problem is
the thing the author is fixing, not the end of the command. Uses `watchfiles` (Rust notify:
inotify on Linux, FSEvents on macOS), debounced so that an editor's save-as-rename counts once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from guidekb.console import console, shown

DEBOUNCE_MS = 300
WatchOption = Annotated[bool, typer.Option(
    "--watch", help="Run again after every save under the knowledge base, until Ctrl-C.")]


def watch(root: Path, run_once: Callable[[], None]) -> None:
    """Run `run_once` now and after every change of a file under `root`; never returns
    normally (Ctrl-C raises KeyboardInterrupt, which the command turns into status 130)."""
    from watchfiles import watch as changes_under

    _run(run_once)
    for changes in changes_under(root, debounce=DEBOUNCE_MS, raise_interrupt=True):
        names = sorted({Path(path).name for _, path in changes})
        console.print(f"\n[dim]changed: {shown(', '.join(names))}; running again[/dim]",
                      soft_wrap=True)
        _run(run_once)


def _run(run_once: Callable[[], None]) -> None:
    """One run; its problems are printed (as the command would print them) and waited out."""
    from guidekb.engine.errors import GuidekbError
    from guidekb.exits import report

    try:
        run_once()
    except typer.Exit:
        pass  # the run's own status (1: a scenario failed); the watch goes on
    except GuidekbError as exc:
        report(exc)
    console.print("[dim]watching for changes (Ctrl-C stops)[/dim]", soft_wrap=True)


__all__ = ["DEBOUNCE_MS", "WatchOption", "watch"]
