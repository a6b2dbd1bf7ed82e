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
        interrupts.install()
        _quiet_rule_engine_log()
        from guidekb.app import app

        app(prog_name="guidekb")  # exits (standalone Typer); returning would mean success
        code = interrupted() if interrupts.pressed() else 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else INVALID)
        if code == INTERRUPTED or interrupts.pressed():
            code = interrupted()
    except BaseException as exc:  # outside any command: loading guidekb, or Typer itself
        code = report(exc)
    _exit(code)


def _quiet_rule_engine_log() -> None:
    """durable_rules logs every exception inside a rule action, traceback included, through
    Python's last-resort handler onto stderr. The engine already turns such an exception into
    an error, or re-raises Ctrl-C, so the log would only put a traceback on the terminal."""
    import logging

    log = logging.getLogger("durable")
    log.addHandler(logging.NullHandler())
    log.propagate = False


def _exit(code: int) -> NoReturn:
    if code != INTERRUPTED:
        sys.exit(code)
    # Interrupted: every `finally` has run on the way here. Exit at once, for two reasons: a
    # KeyboardInterrupt raised inside `exec` (dataclasses and pydantic build classes with it)
    # makes CPython end the process by SIGINT at exit even after it was handled, so a caller
    # would see "killed by a signal" instead of 130; and nothing of the interpreter's own
    # clean-up (waiting for threads, finalizers) should hold an interrupted command up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
