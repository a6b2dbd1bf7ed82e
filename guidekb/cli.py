"""The `guidekb` command's entry point: every run ends with a documented exit status
(guidekb.exits: 0 success, 1 a finding, 2 invalid input or usage, 3 internal error,
130 interrupted) and never with a traceback.

Only the standard library is imported when this module loads: the commands, and the rule
engine under them, are imported inside `main`, so that Ctrl-C while they load, or an
installation too broken to load them, still ends with one line and an exit status. The Typer
application is `guidekb.app.app`, also reachable here as `guidekb.cli.app` (loaded on first use).
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any, NoReturn

from guidekb import interrupts
from guidekb.exits import INTERRUPTED, INVALID, interrupted, report


def main() -> None:
    """Run the `guidekb` command and exit with its status."""
    interrupts.install()
    _quiet_rule_engine_log()
    try:
        from guidekb.app import app

        app(prog_name="guidekb")  # exits (standalone Typer); returning would mean success
        _exit(interrupted() if interrupts.pressed() else 0)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else INVALID)
        _exit(interrupted() if code == INTERRUPTED or interrupts.pressed() else code)
    except BaseException as exc:  # outside any command: importing guidekb, or Typer itself
        _exit(report(exc))


def _quiet_rule_engine_log() -> None:
    """durable_rules logs every exception inside a rule action, traceback included, through
    Python's last-resort handler onto stderr. The engine already turns such an exception into
    an error, or re-raises Ctrl-C, so the log would only put a traceback on the terminal."""
    log = logging.getLogger("durable")
    log.addHandler(logging.NullHandler())
    log.propagate = False


def _exit(code: int) -> NoReturn:
    if code == INTERRUPTED:  # a late or second Ctrl-C must not interrupt the interpreter's exit
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


def __getattr__(name: str) -> Any:
    """`from guidekb.cli import app` without importing every command when this module loads."""
    if name == "app":
        from guidekb.app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
