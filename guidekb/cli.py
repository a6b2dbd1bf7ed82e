"""The `guidekb` command's entry point: every run ends with a documented exit status
(guidekb.exits: 0 success, 1 a finding, 2 invalid input or usage, 3 internal error,
130 interrupted) and never with a traceback.

Loading this module imports nothing but a few built-in modules: everything else, guidekb's own
error handling included, is imported inside `main`, so that Ctrl-C while guidekb starts, or an
installation too broken to load the commands, still ends with one line and an exit status.
The Typer application is `guidekb.app.app`, also reachable here as `guidekb.cli.app` (loaded
on first use).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

INTERRUPTED = 130  # as guidekb.exits.INTERRUPTED, for before that module is loaded


def main() -> None:
    """Run the `guidekb` command and exit with its status."""
    try:
        from guidekb import interrupts
        from guidekb.exits import INVALID, interrupted, report
    except KeyboardInterrupt:  # Ctrl-C while guidekb's own error handling loads
        sys.stderr.write("guidekb: interrupted\n")
        _exit(INTERRUPTED)
    try:
        try:
            interrupts.install()
            _quiet_rule_engine_log()
            from guidekb.app import app

            app(prog_name="guidekb")  # exits (standalone Typer); returning would mean success
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else INVALID)
        except BaseException as exc:  # outside any command: loading guidekb, or Typer itself
            code = report(exc)
    except KeyboardInterrupt:  # Ctrl-C on the way out, after the command's own handling
        code = INTERRUPTED
    _exit(code, lambda status: interrupted() if status == INTERRUPTED or interrupts.pressed() else status)


def _quiet_rule_engine_log() -> None:
    """durable_rules logs every exception inside a rule action, traceback included, through
    Python's last-resort handler onto stderr. The engine already turns such an exception into
    an error, or re-raises Ctrl-C, so the log would only put a traceback on the terminal."""
    import logging

    log = logging.getLogger("durable")
    log.addHandler(logging.NullHandler())
    log.propagate = False


def _exit(code: int, final: Callable[[int], int] | None = None) -> NoReturn:
    """Exit with `final(code)`: main's says 130 (and prints `guidekb: interrupted`, once) if
    Ctrl-C was pressed at any time during the run, else keeps `code`.

    Ctrl-C is ignored from the first statement on, so a late one cannot end the process
    half-way through its ending (by a traceback, or by SIGINT: a caller would see "killed by
    signal 2" instead of a status); one that lands just before counts as an interruption."""
    while True:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            break
        except KeyboardInterrupt:
            code = INTERRUPTED
    if final is not None:
        code = final(code)
    if code != INTERRUPTED:
        sys.exit(code)
    # Interrupted: every `finally` has run on the way here. Exit at once, for two reasons: a
    # KeyboardInterrupt raised inside `exec` (dataclasses and pydantic build classes with it)
    # makes CPython end the process by SIGINT at exit even after it was handled, so a caller
    # would see "killed by a signal" instead of 130; and nothing of the interpreter's own
    # clean-up (waiting for threads, finalizers) should hold an interrupted command up.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(INTERRUPTED)


def __getattr__(name: str) -> Any:
    """`from guidekb.cli import app` without importing every command when this module loads."""
    if name == "app":
        from guidekb.app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
