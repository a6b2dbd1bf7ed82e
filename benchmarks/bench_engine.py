"""One row of `make bench`: guidekb's compiled rules against the same rules written by hand for
durable_rules, on the same generated cases, in the same run (python benchmarks/bench_engine.py
prints it alone).

Both run the frozen benchmark knowledge base in benchmarks/kb (the starter HSV rules), so the
baseline stays comparable as the shipped knowledge base grows. Before timing, every case is
checked to fire exactly the same rules in both, or the benchmark refuses to report. The cases
come from the sampler `guidekb check` uses: each fact unknown a third of the time, integers
mostly at and around the thresholds the rules test.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from handwritten import HandWritten
from measure import interleaved_medians
from table import Row, render

from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.casespace import sample_cases
from guidekb.engine.runtime.evaluation import Engine

CASES = 2000
REPEATS = 7


def handwritten_row(cases_count: int = CASES, repeats: int = REPEATS) -> Row:
    """guidekb's compiled rules (fire only) against the same 11 rules written by hand."""
    kb = load_knowledge_base(Path(__file__).resolve().parent / "kb")
    engine = Engine.for_kb(kb)
    hand = HandWritten()
    cases = list(sample_cases(kb, cases_count, seed=7))
    disagreements = [c for c in cases if sorted(engine.fire(c).fired) != sorted(hand.fire(c))]
    if disagreements:
        return Row("fire, frozen 11-rule KB", "µs/case", None, note=(
            f"benchmark invalid: {len(disagreements)} cases fire different rules, e.g. {disagreements[0]}"))
    medians = interleaved_medians({"hand": hand.fire, "guidekb": engine.fire}, cases, repeats)
    return Row("fire, frozen 11-rule KB", "µs/case", medians["guidekb"], medians["hand"],
               "the same rules hand-written for durable_rules", "<= 1.5x",
               note=f"{cases_count} sampled cases x {repeats} repeats; every case fires the same rules "
               "in both").judge(1.5)


def main() -> int:
    row = handwritten_row()
    print(render([row]))
    return 0 if row.guidekb is not None else 1


if __name__ == "__main__":
    sys.exit(main())
