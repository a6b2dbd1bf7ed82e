"""Issue 10, item 6: `--watch` on validate and test re-runs on every save and ends on Ctrl-C
with status 130. Run as a user runs it: the real command in a subprocess, files edited on
disk, SIGINT sent."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.minikb import edit

pytest.importorskip("watchfiles")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a subprocess")


class Watched:
    """`guidekb ARGS --watch` running, its merged output read line by line."""

    def __init__(self, *args: str, cwd: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
        self.process = subprocess.Popen([sys.executable, "-m", "guidekb", *args, "--watch"],
                                        cwd=cwd, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 90, save: Path | None = None) -> None:
        """Wait until a line holds `text`; meanwhile save `save` again every two seconds (the
        watcher may start watching just after a first save: an editor saves again too)."""
        end = time.monotonic() + timeout
        next_save = time.monotonic() + 2
        while time.monotonic() < end:
            if save is not None and time.monotonic() > next_save:
                save.write_bytes(save.read_bytes())
                next_save = time.monotonic() + 2
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return
        raise AssertionError(f"never printed {text!r}; printed:\n{''.join(self.seen)}")

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_validate_watch_reruns_on_save_and_ctrl_c_exits_130(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    assert subprocess.run([sys.executable, "-m", "guidekb", "init", str(kb)], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True).returncode == 0
    watched = Watched("validate", "--kb", str(kb), cwd=tmp_path)
    try:
        watched.wait_for("ok kb 0.1.0")
        watched.wait_for("watching for changes")
        edit(kb / "rules" / "main.yaml", "fact: systolic_bp", "fact: systolic_bpp")
        watched.wait_for("undeclared fact 'systolic_bpp'", save=kb / "rules" / "main.yaml")
        watched.wait_for("watching for changes")
        edit(kb / "rules" / "main.yaml", "fact: systolic_bpp", "fact: systolic_bp")
        watched.wait_for("ok kb 0.1.0", save=kb / "rules" / "main.yaml")
        assert watched.interrupt() == 130
    finally:
        watched.kill()


def test_test_watch_reruns_scenarios(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    assert subprocess.run([sys.executable, "-m", "guidekb", "init", str(kb)], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True).returncode == 0
    watched = Watched("test", "--kb", str(kb), "--no-timing", cwd=tmp_path)
    try:
        watched.wait_for("1 passed, 0 failed")
        edit(kb / "scenarios" / "severe-reading.yaml", "systolic_bp: 185", "systolic_bp: 120")
        watched.wait_for("0 passed, 1 failed", save=kb / "scenarios" / "severe-reading.yaml")
        assert watched.interrupt() == 130
    finally:
        watched.kill()
