"""Rows of `make bench` measured as whole processes, the way a user waits for them:
`guidekb run CASE --json` against the import floor, `guidekb check --prove` and
`guidekb flowchart --all`.

The import floor is `python -c "import durable.lang, pydantic, networkx"`: the libraries a run
cannot avoid today. "Cold" means no knowledge-base cache (none is wired into loading yet, so
the warm row of `guidekb run` itself says "not measured"); the operating system's file cache is warm
in both, as the medians of repeated runs are. benchmarks/run_cached.py shows what the warm
row would be with the cache prototype (engine/format/kbcache.py) and only the imports a run
needs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, VENV_BIN, interleaved_wall, wall_seconds
from table import Row

KB = ROOT / "knowledge" / "hsv-resistance"
CASE = KB / "cases" / "confirmed-resistance.yaml"
GUIDEKB = str(VENV_BIN / "guidekb")
REPEATS = 7


def run_rows(repeats: int = REPEATS) -> list[Row]:
    cached = [sys.executable, str(Path(__file__).resolve().parent / "run_cached.py"), str(KB), str(CASE)]
    wall_seconds(cached)  # fills the cache
    medians = interleaved_wall({
        "floor": [sys.executable, "-c", "import durable.lang, pydantic, networkx"],
        "run": [GUIDEKB, "run", str(CASE), "--json", "--kb", str(KB)],
        "cached": cached,
    }, repeats)
    cold = Row("guidekb run CASE --json, whole process, cold", "s", medians["run"], medians["floor"],
               "python -c 'import durable.lang, pydantic, networkx'", "<= 2x",
               note=f"median of {repeats} runs each, interleaved").judge(2.0)
    warm = Row("guidekb run CASE --json, whole process, warm cache", "s", None, medians["floor"],
               "the same import floor", "<= 1.5x", False,
               note="not measured: no knowledge-base cache is wired into `guidekb run` yet")
    prototype = Row("the run's steps with the KB cache warm (prototype)", "s", medians["cached"],
                    medians["floor"], "the same import floor", "<= 1.5x",
                    note="benchmarks/run_cached.py: load_cached (engine/format/kbcache.py), compile, "
                    "evaluate, print JSON; imports only what those steps need").judge(1.5)
    return [cold, warm, prototype]


def command_rows() -> list[Row]:
    prove = wall_seconds([GUIDEKB, "check", str(KB), "--prove"])
    with tempfile.TemporaryDirectory() as folder:
        output = str(Path(folder) / "charts")
        charts = wall_seconds([GUIDEKB, "flowchart", "--all", "--kb", str(KB), "-o", output])
    return [Row("guidekb check --prove, wall time", "s", prove, note="one run"),
            Row("guidekb flowchart --all, wall time", "s", charts,
                note="one run, every view in every format")]


if __name__ == "__main__":
    from table import render

    print(render([*run_rows(), *command_rows()]))
