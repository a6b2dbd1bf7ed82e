"""Rows of `make bench` on one case at a time: the full answer as JSON against raw firing of
the same compiled ruleset, on the default knowledge base and on a synthetic one; and the
synthetic knowledge base's load + verify + compile time.

Raw firing is the floor guidekb cannot go under: the engine's own compiled ruleset (the same
triggers, the same encoded case) registered again with actions that only assert the
conclusions (so chains still fire), then `assert_fact` + `delete_state`, no answer built.

The synthetic rows run in a child process with a time limit: durable_rules 2.0.28 fails on
large rulesets, measured here on the synthetic knowledge base at growing scale: from about 200
rules, error 303 (ERR_MAX_STACK_SIZE: its alpha-network walk for one asserted fact keeps at
most 64 pending nodes, events.c MAX_STACK_SIZE, and our one case fact matches more); from about
400, heap corruption that kills the process ("free(): invalid pointer"); from about 1,000,
`create_ruleset` never returns. A benchmark must report that, not die of it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import interleaved_medians
from table import Row

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.batch import answer_json
from guidekb.engine.runtime.compiling import DERIVED, encode_case
from guidekb.engine.runtime.evaluation import Engine

HERE = Path(__file__).resolve().parent
CASES = 2000
REPEATS = 7


class RawRuleset:
    """The engine's compiled ruleset, fired bare: no sessions bookkeeping, no answer."""

    def __init__(self, engine: Engine) -> None:
        from durable import engine as durable_engine

        class QuietHost(durable_engine.Host):  # type: ignore[misc]
            def _run(self) -> None:
                return None

        self.kb = engine.kb
        self.host = QuietHost()
        self.missed = durable_engine.MessageNotHandledException
        self.name = f"bench-raw:{engine.ruleset}"
        self.asserted: dict[str, set[str]] = {}
        self.ids = itertools.count()
        derives = {rule.id: tuple(rule.then.derive) for rule in engine.kb.rules}
        definition = {rule_id: {**{k: v for k, v in trigger.items() if k != "run"},
                                "run": self._action(derives.get(rule_id, ()))}
                      for rule_id, trigger in engine.definition.items()}
        self.host.register_rulesets({self.name: definition})

    def _action(self, derives: tuple[str, ...]) -> Callable[[Any], None]:
        asserted = self.asserted

        def run(c: Any) -> None:
            done = asserted[c.s.sid]
            for name in derives:
                if name not in done:
                    done.add(name)
                    c.assert_fact({"_k": DERIVED, "_n": name})

        return run

    def encode(self, case: dict[str, Any]) -> dict[str, Any]:
        return encode_case(self.kb, case)

    def fire(self, fact: dict[str, Any]) -> None:
        sid = f"r{next(self.ids)}"
        self.asserted[sid] = set()
        try:
            self.host.assert_fact(self.name, {**fact, "sid": sid})
        except self.missed:
            pass
        finally:
            self.host.delete_state(self.name, sid)
            del self.asserted[sid]


def answer_rows(kb: KnowledgeBase, cases: list[dict[str, Any]], figure: str, repeats: int = REPEATS,
                target: bool = True) -> Row:
    """Full answer as JSON (validation, firing, assembly, serialisation) vs raw firing."""
    engine = Engine(kb)
    raw = RawRuleset(engine)
    facts = [raw.encode(case) for case in cases]
    # same inputs, paired by index: the baseline gets the case already encoded
    indices = list(range(len(cases)))
    medians = interleaved_medians({
        "raw": lambda i: raw.fire(facts[i]),
        "answer": lambda i: answer_json(engine.evaluate(cases[i])),
    }, indices, repeats)
    row = Row(figure, "µs/case", medians["answer"], medians["raw"],
              "raw firing of the same compiled ruleset (assert_fact + delete_state)",
              "<= 1.3x" if target else "",
              note=f"{len(cases)} sampled cases x {repeats} repeats")
    return row.judge(1.3) if target else row


def default_kb_row() -> Row:
    from guidekb.engine.qa.casespace import sample_cases

    kb = load_knowledge_base(HERE.parent / "knowledge" / "hsv-resistance")
    return answer_rows(kb, list(sample_cases(kb, CASES, seed=11)),
                       f"full answer as JSON, default KB ({len(kb.rules)} rules)")


# --- the synthetic knowledge base, in a child process ------------------------------------------

def _synthetic_child(scale: float, cases: int, repeats: int) -> None:
    """Runs in the child: prints one JSON object with the measured figures."""
    from synthetic import synthetic_cases, write_synthetic_kb

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = write_synthetic_kb(Path(folder) / "kb", scale=scale)
        start = time.perf_counter()
        kb = load_knowledge_base(root)
        loaded = time.perf_counter()
        result.update(rules=len(kb.rules), load_verify=loaded - start)
        print(json.dumps(result), flush=True)
        Engine(kb)
        result["compile"] = time.perf_counter() - loaded
        print(json.dumps(result), flush=True)
        row = answer_rows(kb, synthetic_cases(cases, seed=3), "synthetic", repeats, target=False)
        result.update(answer=row.guidekb, raw=row.baseline)
        print(json.dumps(result), flush=True)


def _yaml_parse_seconds(scale: float) -> float:
    """Baseline for loading: PyYAML's C parser reading the same files, nothing checked."""
    import yaml
    from synthetic import write_synthetic_kb

    with tempfile.TemporaryDirectory() as folder:
        root = write_synthetic_kb(Path(folder) / "kb", scale=scale)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        start = time.perf_counter()
        for path in sorted(root.rglob("*.yaml")):
            yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        return time.perf_counter() - start


def _why_failed(figures: dict[str, Any], status: int, crashed: list[str], timeout: float = 60) -> str:
    """What durable_rules 2.0.28 did, in words (measured here; limits named from reading
    jruizgit/rules src/rules/events.c and rules.h)."""
    last = crashed[0] if crashed else ""
    if "compile" not in figures and "load_verify" in figures:
        return (f"durable_rules create_ruleset did not return within {timeout:.0f} s "
                "(measured: 600 rules register in 0.1 s, 1,000 never return)")
    if last.startswith("no result within"):
        return f"durable_rules did not finish firing the cases ({last})"
    if "error code: 303" in last:
        return ("durable_rules error 303 ERR_MAX_STACK_SIZE: more than 64 alpha nodes pending "
                "for the one case fact (events.c MAX_STACK_SIZE 64)")
    if status < 0 or "free()" in last or "corrupted" in last:
        return f"durable_rules corrupted its heap and killed the process ({last or f'signal {-status}'})"
    return f"durable_rules failed: {last or status}"


def synthetic_rows(scale: float = 1.0, small_scale: float = 0.05, timeout: float = 60) -> list[Row]:
    rows: list[Row] = []
    for which in (scale, small_scale):
        command = [sys.executable, __file__, "--synthetic-child", str(which), "300", "5"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            output, status, crashed = done.stdout, done.returncode, done.stderr.strip().splitlines()[-1:]
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout
            output = out.decode() if isinstance(out, bytes) else (out or "")
            status, crashed = -1, [f"no result within {timeout:.0f} s"]
        lines = [line for line in output.splitlines() if line.startswith("{")]
        figures: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        failure = "" if status == 0 else _why_failed(figures, status, crashed)
        rules = figures.get("rules", "?")
        if which == scale:
            load_row = Row(f"load + verify + compile, synthetic KB ({rules} rules)", "s",
                           (figures["load_verify"] + figures["compile"]) if "compile" in figures else None,
                           _yaml_parse_seconds(which), "PyYAML C parser reading the same files", "< 3 s",
                           note=f"load + verify {figures.get('load_verify', float('nan')):.2f} s; "
                           + (f"compile {figures['compile']:.2f} s" if "compile" in figures else
                              f"compile did not finish ({failure})"))
            if load_row.guidekb is None:
                load_row.target_met = False
            else:
                load_row.judge(3.0, on_ratio=False)
            rows.append(load_row)
        answer = Row(f"full answer as JSON, synthetic KB ({rules} rules)", "µs/case", figures.get("answer"),
                     figures.get("raw"), "raw firing of the same compiled ruleset",
                     note=failure or "300 synthetic cases x 5 repeats")
        if which == scale:
            answer.target = "<= 1.3x"
            answer.judge(1.3)
            if answer.guidekb is None:
                answer.target_met = False
        rows.append(answer)
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--synthetic-child"]:
        _synthetic_child(float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        from table import render

        print(render([default_kb_row(), *synthetic_rows()]))
