"""Timing and memory helpers shared by the benchmark rows."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def per_case_micros(run: Callable[[Any], object], cases: Sequence[Any]) -> float:
    start = time.perf_counter()
    for case in cases:
        run(case)
    return (time.perf_counter() - start) / len(cases) * 1e6


def interleaved_medians(variants: dict[str, Callable[[Any], object]], cases: Sequence[Any],
                        repeats: int) -> dict[str, float]:
    """Median µs per case of each variant; repeats interleaved so machine noise hits all alike."""
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            runs[name].append(per_case_micros(run, cases))
    return {name: statistics.median(values) for name, values in runs.items()}


def wall_seconds(command: Sequence[str], cwd: Path = ROOT, env: Mapping[str, str] | None = None) -> float:
    """Wall time of one run of a command (its output discarded); raises if it fails."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env=None if env is None else dict(env))
    return time.perf_counter() - start


def interleaved_wall(commands: dict[str, Sequence[str]], repeats: int,
                     envs: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, float]:
    """Median wall time of each command, runs interleaved; `envs` gives a command its own
    environment (by name)."""
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(wall_seconds(command, env=(envs or {}).get(name)))
    return {name: statistics.median(values) for name, values in runs.items()}


def run_with_peak_memory(command: Sequence[str], cwd: Path = ROOT,
                         interval: float = 0.05) -> tuple[float, float, int]:
    """(wall seconds, peak resident MiB of the process and all its children together, exit
    status), sampling the process tree every `interval` seconds."""
    start = time.perf_counter()
    process = psutil.Popen(list(command), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(interval)
    wall = time.perf_counter() - start
    return wall, peak / 2**20, process.returncode or 0
