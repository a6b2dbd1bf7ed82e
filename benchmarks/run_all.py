"""`make bench`: every figure of issue 12 in one table, and benchmarks/results.json.

Each row compares guidekb with a baseline measured in the same run (medians, interleaved where
the figure is per case), so a busy machine slows both alike; absolute numbers still move with
the machine's load, recorded at the start and the end in results.json. Rows and where they
are measured:

* bench_engine.py   fire on the frozen 11-rule KB vs the same rules hand-written;
* bench_answer.py   full answer as JSON vs raw firing, default and synthetic KB; synthetic
                    load + verify + compile;
* bench_process.py  `guidekb run CASE --json` vs the import floor; check --prove; flowchart --all;
* bench_batch.py    `run --batch` cases/s, 1 process vs --jobs 2, peak memory.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_answer import default_kb_row, synthetic_rows
from bench_batch import batch_rows
from bench_engine import handwritten_row
from bench_process import command_rows, run_rows
from table import Row, machine, render, write_results

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> int:
    started, start = machine(), time.perf_counter()
    steps: list[tuple[str, Callable[[], Row | list[Row]]]] = [
        ("fire vs hand-written durable_rules", handwritten_row),
        ("full answer vs raw firing, default KB", default_kb_row),
        ("synthetic knowledge base", synthetic_rows),
        ("whole-process run vs import floor", run_rows),
        ("batch, 1 process and --jobs 2", batch_rows),
        ("check --prove and flowchart --all", command_rows),
    ]
    rows: list[Row] = []
    for title, step in steps:
        print(f"measuring: {title} ...", file=sys.stderr, flush=True)
        result = step()
        rows += result if isinstance(result, list) else [result]
    seconds = time.perf_counter() - start
    load = started["load_average"]
    print(f"guidekb benchmarks, {started['date']}, Python {started['python']}, {started['cpus']} cores, "
          f"load average at start {load[0]:.1f} (figures are noisy on a shared machine); {seconds:.0f} s")
    print(render(rows))
    write_results(rows, RESULTS, started, seconds)
    print(f"\nwritten: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
