"""Rows of `make bench` for population runs: `guidekb run --batch` over generated cases, one
process against `--jobs 2`, with the CPU time and the peak memory of the whole process tree.

Cases come from the sampler `guidekb check` uses (engine.qa.casespace): 5,000 distinct cases
repeated with distinct ids up to the size wanted, written as NDJSON. Three runs:

* 100,000 cases in 1 process and with `--jobs 2` (cases/s, target >= 1.8x), three times each,
  interleaved, the median of each (BENCH_BATCH_REPEATS sets how many): the machine's speed
  drifts by 10-15% over minutes, which made single runs flip the row;
* 1,000,000 cases with `--jobs 2`, whose peak memory is compared with the 100,000-case run's
  (target: within 10%, memory independent of input size). `--jobs 2` to save time; the
  peak is of the parent and both workers together.

On the 2-core machine, quiet, the three should take about 1.5 + 1 + 8 minutes (the 1e6 run is
most of it, estimated from the CPU per case); measured under a load average of 5 to 8 they
took 3 + 4 + 28 minutes. BENCH_BATCH_CASES sets the smaller size (the larger is ten
times it), e.g. 20000 for a quick look.

Why CPU time is measured too. The machine is shared and Linux schedules with autogroups
(/proc/sys/kernel/sched_autogroup_enabled = 1): CPU time is divided fairly between sessions
first, then between the processes of a session. While other sessions keep the cores busy, a
session gets about its share whatever number of processes it runs, so `--jobs 2` can obtain
no more CPU than one process and its wall-clock gain says nothing about guidekb. The notes
give the cores each run obtained (CPU seconds of the process tree / wall seconds) and the CPU
per case, which the load hardly moves: the ratio of CPU per case is what parallelism itself
costs, and bounds the gain on two free cores.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, VENV_BIN, run_with_peak_memory
from table import Row

from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.casespace import sample_cases

KB = ROOT / "knowledge" / "hsv-resistance"
CASES = int(os.environ.get("BENCH_BATCH_CASES", "100000"))
DISTINCT = 5000


def write_cases(path: Path, count: int) -> None:
    kb = load_knowledge_base(KB)
    distinct = [json.dumps(case, separators=(",", ":")) for case in sample_cases(kb, DISTINCT, seed=5)]
    with path.open("w", encoding="utf-8") as out:
        for i, case in zip(range(count), itertools.cycle(distinct), strict=False):
            out.write(f'{{"id":{i},"case":{case}}}\n')


@dataclass(frozen=True)
class TreeRun:
    """One run of a command: wall seconds, CPU seconds of the process and every descendant it
    waited for (its workers), and the peak resident memory of the tree."""

    cases: int
    wall: float
    cpu: float
    peak_mib: float

    @property
    def rate(self) -> float:
        return self.cases / self.wall

    @property
    def cores(self) -> float:
        """Cores the run obtained on average."""
        return self.cpu / self.wall

    @property
    def cpu_micros_per_case(self) -> float:
        return self.cpu / self.cases * 1e6


def run_tree(command: list[str], cases: int, interval: float = 0.05) -> TreeRun:
    """Run `command`, sampling the resident memory of its process tree every `interval`
    seconds (measure.run_with_peak_memory); its CPU time comes from the kernel's accounting
    of waited-for children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, peak_mib, status = run_with_peak_memory(command, interval=interval)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if status != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {status}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return TreeRun(cases, wall, cpu, peak_mib)


def batch(path: Path, cases: int, jobs: int) -> TreeRun:
    """`guidekb run --batch` over the file, output discarded."""
    return run_tree([str(VENV_BIN / "guidekb"), "run", "--batch", str(path), "--jobs", str(jobs),
                     "--kb", str(KB), "-o", os.devnull], cases)


REPEATS = int(os.environ.get("BENCH_BATCH_REPEATS", "3"))


def _rates(runs: list[TreeRun]) -> str:
    return ", ".join(f"{r.rate:,.0f}" for r in runs)


def _median_run(runs: list[TreeRun]) -> TreeRun:
    """The run of median wall time (its CPU and memory with it)."""
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]


def _autogroups() -> str:
    try:
        return "on" if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1" else "off"
    except OSError:
        return "unknown"


def batch_rows(count: int = CASES) -> list[Row]:
    large = count * 10
    with tempfile.TemporaryDirectory() as folder:
        small_file, large_file = Path(folder) / "small.ndjson", Path(folder) / "large.ndjson"
        write_cases(small_file, count)
        load_before = os.getloadavg()[0]
        ones: list[TreeRun] = []
        twos: list[TreeRun] = []
        for _ in range(REPEATS):  # interleaved: the machine's speed drifts by 10-15% over minutes
            ones.append(batch(small_file, count, 1))
            twos.append(batch(small_file, count, 2))
        one, two = _median_run(ones), _median_run(twos)
        load_after = os.getloadavg()[0]
        write_cases(large_file, large)
        small_file.unlink()
        big = batch(large_file, large, 2)
    # on two free cores --jobs 2 would finish in its CPU time over 2 (the parent included)
    free_cores_gain = 2 * one.cpu_micros_per_case / two.cpu_micros_per_case
    return [
        Row(f"batch cases/s, {count:,} cases, --jobs 2 vs 1 process", "cases/s", two.rate, one.rate,
            "the same batch in 1 process", ">= 1.8x",
            note=(f"median of {REPEATS} interleaved runs each (rates {_rates(ones)} vs {_rates(twos)}); "
                  f"whole command wall time, start-up included: {one.wall:.1f} s vs {two.wall:.1f} s; "
                  f"cores obtained {one.cores:.2f} vs {two.cores:.2f} (CPU s of the process tree / wall s; "
                  f"load average {load_before:.1f} before, {load_after:.1f} after, autogroup scheduling "
                  f"{_autogroups()})")).judge(1.8, higher_is_better=True),
        Row("batch CPU per case, --jobs 2 vs 1 process", "µs CPU/case", two.cpu_micros_per_case,
            one.cpu_micros_per_case, "1 process",
            note=(f"parent and workers, start-up included: what parallelism costs; on two free cores "
                  f"--jobs 2 would run {free_cores_gain:.2f}x the cases/s of 1 process")),
        Row(f"peak memory, --jobs 2, {large:,} vs {count:,} cases", "MiB", big.peak_mib, two.peak_mib,
            f"the same command over {count:,} cases", "<= 1.1x",
            note=(f"resident memory of the parent and both workers together, sampled every 50 ms; "
                  f"1 process over {count:,} cases: {one.peak_mib:.1f} MiB; the {large:,}-case run "
                  f"took {big.wall:.0f} s")).judge(1.1),
    ]


if __name__ == "__main__":
    from table import render

    print(render(batch_rows(int(sys.argv[1]) if len(sys.argv) > 1 else CASES)))
