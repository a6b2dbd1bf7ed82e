"""Refuse to load on a Python the rule engine cannot run on, with one sentence saying why.

durable-rules 2.0.28 (the forward-chaining engine every answer comes from) builds and runs on
Python 3.11 and 3.12, but its C extension calls `PyEval_CallObject`, which Python 3.13 removed:
there the import fails with a linker error (`undefined symbol: PyEval_CallObject`) that names
neither guidekb nor the fix. pip already refuses to install guidekb there (requires-python in
pyproject.toml); this guard covers a checkout put on sys.path. It is imported first by
`guidekb/__init__.py`, and imports nothing but the standard library, so it runs before anything
touches durable-rules.
"""

from __future__ import annotations

import sys

OLDEST = (3, 11)
NEWEST = (3, 12)


class UnsupportedPythonError(ImportError):
    """guidekb was imported on a Python version its rule engine does not run on."""


def unsupported_reason(version: tuple[int, ...]) -> str | None:
    """The one sentence explaining why `version` cannot run guidekb, or None if it can."""
    running = ".".join(str(part) for part in version[:3])
    if tuple(version[:2]) > NEWEST:
        return (f"guidekb needs Python 3.11 or 3.12, not {running}: its rule engine durable-rules "
                "2.0.28 uses a C function (PyEval_CallObject) that Python 3.13 removed.")
    if tuple(version[:2]) < OLDEST:
        return f"guidekb needs Python 3.11 or 3.12, not {running}."
    return None


def check(version: tuple[int, ...] = sys.version_info[:3]) -> None:
    """Raise UnsupportedPythonError with the one sentence if `version` cannot run guidekb."""
    reason = unsupported_reason(version)
    if reason is not None:
        raise UnsupportedPythonError(reason)


check()
