"""What `guidekb` exits with, and how anything that stops a command becomes one message.

    0    success
    1    a finding: a check, test, lint or coverage threshold failed
    2    invalid input or usage: a knowledge base, case, option or output path is wrong, and the
         message says what and where
    3    internal error: a bug in guidekb (or a fault inside the rule engine); one line says what
         happened and where the details (the traceback) were written
    130  interrupted (Ctrl-C)
    141  the reader of the output went away (`guidekb run ... | head`): nothing more is written
         and nothing is said, as for any Unix tool killed by SIGPIPE (128 + 13)

CI can tell a crash (3) from a failed check (1) from bad input (2). No traceback ever reaches
the terminal: the details of an internal error go to a file under the user's cache folder
(`$XDG_CACHE_HOME/guidekb/crashes/`, else `~/.cache/guidekb/crashes/`, else the temporary
folder). This module imports only the standard library at load time, so that `main` can report
even a failure to import the rest of guidekb.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import sys
import tempfile
import traceback
from dataclasses import replace
from pathlib import Path

from guidekb import interrupts

OK = 0
FINDING = 1
INVALID = 2
INTERNAL = 3
INTERRUPTED = 130
BROKEN_PIPE = 141

EPILOG = (
    "Exit status: 0 success; 1 a finding (a check, test or lint failed); 2 invalid input or "
    "usage (the message says what and where); 3 internal error (one line says where the "
    "details were written); 130 interrupted; 141 the reader of the output went away. "
    "See docs/reliability.md."
)

_MESSAGE_LIMIT = 300  # characters of an internal error's message on its one line


def report(exc: BaseException) -> int:
    """Print what stopped the command (never a traceback) and return the exit status."""
    if isinstance(exc, KeyboardInterrupt) or interrupts.pressed():
        return interrupted()
    if isinstance(exc, BrokenPipeError):
        return reader_left()
    try:
        from guidekb.engine.errors import EvaluationError, GuidekbError, ProblemsError
    except Exception:  # the engine itself does not import: that is the failure to report
        return internal_error(exc)
    if isinstance(exc, ProblemsError):
        for problem in exc.problems:
            # the message stays on its line (a newline in it is shown as \n); hint lines indented
            _say(replace(problem, file=_inert(problem.file), message=_inert(problem.message),
                         hint=_inert_lines(problem.hint)).render())
        count = len(exc.problems)
        _say(_inert(f"{count} problem{'s' if count != 1 else ''} found in the {exc.what}."))
        return INVALID
    if isinstance(exc, GuidekbError) and not isinstance(exc, EvaluationError):
        _say(error_text(str(exc)))
        return INVALID
    return internal_error(exc)


def reader_left() -> int:
    """stdout's reader closed the pipe (`| head`): the output was not wanted any more, which
    is neither a finding nor a crash. Point stdout at /dev/null, so that the interpreter's
    last flush cannot fail a second time, and exit as a tool killed by SIGPIPE would."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return BROKEN_PIPE


def error_text(message: str) -> str:
    """`error: message` made inert; lines guidekb laid out below it stay, indented."""
    return "error: " + _continued(_inert_lines(message))


def interrupted() -> int:
    """Ctrl-C was pressed: say so (whatever error it surfaced as) and exit 130."""
    if not interrupts.acknowledged():
        interrupts.acknowledge()
        _say("guidekb: interrupted")
    return INTERRUPTED


def internal_error(exc: BaseException) -> int:
    """One line saying what failed, where, and where the traceback was written; exit 3."""
    details = write_details(exc)
    what = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(what) > _MESSAGE_LIMIT:
        what = what[:_MESSAGE_LIMIT] + "..."
    place = _origin(exc)
    line = f"guidekb: internal error: {what}{f' (at {place})' if place else ''}; "
    if details is not None:
        _say(_inert(line + f"details written to {details}"))
    else:
        _say(_inert(line + "the details could not be written to a file, so here they are:"))
        _say(_inert_lines("".join(traceback.format_exception(exc)).rstrip()))
    return INTERNAL


def write_details(exc: BaseException) -> Path | None:
    """Write the traceback and what was running to a new file; its path, or None."""
    now = datetime.datetime.now().astimezone()
    text = (f"guidekb {_version()} internal error, {now.isoformat(timespec='seconds')}\n"
            f"command: {sys.argv!r}\n"
            f"python: {sys.version.split()[0]} on {platform.platform()}\n"
            f"working directory: {os.getcwd()!r}\n\n"
            + "".join(traceback.format_exception(exc)))
    for folder in crash_folders():
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f"crash-{now:%Y%m%d-%H%M%S}-", suffix=".txt",
                                            dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as out:
                out.write(text)
            return Path(name)
        except OSError:
            continue
    return None


def crash_folders() -> list[Path]:
    """Where internal-error details go, in order of preference."""
    folders: list[Path] = []
    cache = os.environ.get("XDG_CACHE_HOME")
    if cache and os.path.isabs(cache):
        folders.append(Path(cache) / "guidekb" / "crashes")
    else:
        with contextlib.suppress(RuntimeError):  # no home folder
            folders.append(Path.home() / ".cache" / "guidekb" / "crashes")
    folders.append(Path(tempfile.gettempdir()))
    return folders


def _origin(exc: BaseException) -> str:
    """`file:line` of the innermost frame that raised: inside an installed package relative to
    site-packages, else relative to the working directory when below it."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    path = Path(frames[-1].filename)
    if "site-packages" in path.parts:
        path = Path(*path.parts[len(path.parts) - path.parts[::-1].index("site-packages"):])
    else:
        with contextlib.suppress(ValueError):
            path = path.relative_to(Path.cwd())
    return f"{path}:{frames[-1].lineno}"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("guidekb")
    except Exception:
        return "(version unknown)"


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _inert(text: str) -> str:
    """guidekb.engine.format.inert, or Python's own escaping when the engine itself cannot be
    imported (the failure being reported)."""
    try:
        from guidekb.engine.format.inert import inert
    except Exception:
        return repr(text)[1:-1]
    return inert(text)


def _inert_lines(text: str) -> str:
    return "\n".join(_inert(line) for line in text.split("\n"))


def _continued(text: str) -> str:
    """Every line after the first indented: a line break inside a message, wherever it came
    from, can never start a line that looks like one of guidekb's own."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(line if line.startswith(" ") else "    " + line for line in rest)])
