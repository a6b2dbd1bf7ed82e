"""Rows of `make bench` measured as whole processes, the way a user waits for them:
`guidekb run CASE --json` against the import floor, cold and with the knowledge-base cache
warm; `guidekb check --prove` and `guidekb flowchart --all`.

The import floor is the issue's: `python -c "import durable.lang, pydantic, networkx"`, the
libraries a run could not avoid when the issue was written (a run no longer imports networkx,
so the floor now holds one library more than a run imports).
"Cold" runs with `GUIDEKB_NO_CACHE=1`: the knowledge base is loaded and verified from its files
(YAML, cross-checks, every quote) as on a first run. "Warm" runs with the cache of verified
knowledge bases (engine/format/kbcache.py) filled by a run before, in a cache folder of its
own. The operating system's file cache is warm in both, as the medians of repeated runs are.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import ROOT, VENV_BIN, interleaved_wall, wall_seconds
from table import Row

KB = ROOT / "knowledge" / "hsv-resistance"
CASE = KB / "cases" / "confirmed-resistance.yaml"
GUIDEKB = str(VENV_BIN / "guidekb")
REPEATS = 9
FLOOR = [sys.executable, "-c", "import durable.lang, pydantic, networkx"]


def run_rows(repeats: int = REPEATS) -> list[Row]:
    run = [GUIDEKB, "run", str(CASE), "--json", "--kb", str(KB)]
    with tempfile.TemporaryDirectory() as cache:
        warm_env = {**os.environ, "XDG_CACHE_HOME": cache}
        warm_env.pop("GUIDEKB_NO_CACHE", None)
        cold_env = {**os.environ, "GUIDEKB_NO_CACHE": "1"}
        wall_seconds(run, env=warm_env)  # fills the cache
        medians = interleaved_wall({"floor": FLOOR, "cold": run, "warm": run}, repeats,
                                   envs={"cold": cold_env, "warm": warm_env})
    cold = Row("guidekb run CASE --json, whole process, cold", "s", medians["cold"], medians["floor"],
               "python -c 'import durable.lang, pydantic, networkx'", "<= 2x",
               note=f"GUIDEKB_NO_CACHE=1; median of {repeats} runs each, interleaved").judge(2.0)
    warm = Row("guidekb run CASE --json, whole process, warm cache", "s", medians["warm"], medians["floor"],
               "the same import floor", "<= 1.5x",
               note=f"the verified knowledge base from the cache; median of {repeats} runs").judge(1.5)
    return [cold, warm]


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
