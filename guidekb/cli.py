"""The `guidekb` command's entry point: every run ends with a documented exit status
(guidekb.exits: 0 success, 1 a finding, 2 invalid input or usage, 3 internal error,
130 interrupted) and never with a traceback.

Only the standard library is imported when this module loads: the commands, and the rule
engine under them, are imported inside `main`, so that Ctrl-C while they load, or an
installation too broken to load them, still ends with one line and an exit status. The Typer
application is `guidekb.app.app`, also reachable here as `guidekb.cli.app` (loaded on first use).
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from guidekb.exits import INTERRUPTED, report


def main() -> None:
    """Run the `guidekb` command and exit with its status."""
    try:
        from guidekb.app import app

        app(prog_name="guidekb")
    except SystemExit as done:
        if done.code == INTERRUPTED:
            _stop_on_next_interrupt()
        raise
    except BaseException as exc:  # outside any command: importing guidekb, or Typer itself
        code = report(exc)
        if code == INTERRUPTED:
            _stop_on_next_interrupt()
        sys.exit(code)


def _stop_on_next_interrupt() -> None:
    """A second Ctrl-C while Python shuts down ends the process at once, without a traceback
    from the interpreter's own clean-up."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def __getattr__(name: str) -> Any:
    """`from guidekb.cli import app` without importing every command when this module loads."""
    if name == "app":
        from guidekb.app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
