"""Running the real `guidekb` command in a subprocess, as a user or a CI job does: through
`guidekb.cli.main`, with this checkout first on the path, stdout and stderr piped (not a
terminal), and the internal-error details written under the test's own folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

GUIDEKB = [sys.executable, "-m", "guidekb"]
# Control, bidi and zero-width characters that must never reach a terminal raw.
RAW_UNSAFE = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u200b", "\ufeff", "\u2028")


def guidekb(*args: str, home: Path, cwd: Path = ROOT, columns: str | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`guidekb ARGS...`, piped; `home` holds HOME and the crash-details cache."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
           "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run([*GUIDEKB, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, errors="surrogateescape")


def assert_inert(*texts: str) -> None:
    """No unsafe character in any of `texts` (each is stdout or stderr of a run)."""
    for text in texts:
        found = [f"U+{ord(c):04X}" for c in RAW_UNSAFE if c in text]
        assert not found, f"raw {', '.join(found)} reached the output: {text[:400]!r}"
