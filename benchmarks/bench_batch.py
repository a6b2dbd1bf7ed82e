"""Rows of `make bench` for population runs: `guidekb run --batch` over generated cases, one
process against `--jobs 2`, with the peak memory of the whole process tree.

Cases come from the sampler `guidekb check` uses (engine.qa.casespace): 5,000 distinct cases
repeated with distinct ids up to the size wanted, written as NDJSON. Memory flatness compares
the peak of the same command over the full input and over a fifth of it: 1e5 against 2e4
cases by default, since 1e6 would take about 20 minutes per run on the 2-core machine
(BENCH_BATCH_CASES sets the larger size, e.g. 1000000, when there is time).
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
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


def batch(path: Path, jobs: int) -> tuple[float, float]:
    """(seconds, peak MiB) of `guidekb run --batch` over the file, output discarded."""
    command = [str(VENV_BIN / "guidekb"), "run", "--batch", str(path), "--jobs", str(jobs), "--kb", str(KB),
               "-o", os.devnull]
    seconds, peak, status = run_with_peak_memory(command)
    if status != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {status}")
    return seconds, peak


def batch_rows(count: int = CASES) -> list[Row]:
    small = max(count // 5, 1)
    with tempfile.TemporaryDirectory() as folder:
        full, fifth = Path(folder) / "full.ndjson", Path(folder) / "fifth.ndjson"
        write_cases(full, count)
        write_cases(fifth, small)
        one_s, one_peak = batch(full, 1)
        two_s, two_peak = batch(full, 2)
        _, small_peak = batch(fifth, 1)
    one_rate, two_rate = count / one_s, count / two_s
    return [
        Row(f"batch cases/s, {count:,} cases, --jobs 2 vs 1 process", "cases/s", two_rate, one_rate,
            "the same batch in 1 process", ">= 1.8x",
            note=f"whole command wall time, start-up included: {one_s:.1f} s vs {two_s:.1f} s").judge(
                1.8, higher_is_better=True),
        Row(f"peak memory, 1 process, {count:,} vs {small:,} cases", "MiB", one_peak, small_peak,
            f"the same command over {small:,} cases", "<= 1.1x",
            note="resident memory, sampled every 50 ms").judge(1.1),
        Row(f"peak memory, --jobs 2, {count:,} cases", "MiB", two_peak, one_peak,
            "1 process over the same cases", note="parent and both workers together"),
    ]


if __name__ == "__main__":
    from table import render

    print(render(batch_rows(int(sys.argv[1]) if len(sys.argv) > 1 else CASES)))
