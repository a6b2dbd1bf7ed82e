"""Rows of `make bench` on one case at a time: the full answer as JSON against raw firing of
the same compiled ruleset(s), on the default knowledge base and on a synthetic one; and the
synthetic knowledge base's load + verify + compile time, split into load + verify and compile.

Raw firing, the issue's baseline: the engine's own compiled rulesets (the same triggers, the
same encoded case) registered again with bare actions that only note the conclusions, then
durable_rules' `assert_fact` + `delete_state`, no answer built. guidekb no longer fires through
durable_rules' Python dispatch but calls its C engine itself (guidekb.engine.runtime.evaluation),
which costs less than that dispatch; so a second row compares the answer with the same bare
rules fired through guidekb's own dispatch -- the floor guidekb cannot go under, and what the
answer itself costs on top of firing. For a knowledge base that runs as one ruleset (the
default one) the bare actions assert the conclusions other rules read, so chains still fire.
For one that runs in strata of chunks (the 2,000-rule synthetic one: durable_rules 2.0.28
cannot hold it in one ruleset, see guidekb.engine.runtime.alpha_network) the baselines fire the
same chunks in the same order, give each the same projected case fact with the conclusions
drawn so far (`partition.project`) and skip the same chunks (`Chunk.may_fire`): what they leave
out is only guidekb's bookkeeping, completeness checks, validation and the answer.

The synthetic rows run in a child process with a time limit, so that a durable_rules failure
(it can corrupt its heap and kill the process) is reported as a row, not the end of the run.
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

import durable_rules_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import interleaved_medians
from table import Row

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.answer_json import evaluate_json
from guidekb.engine.runtime.compiling import DERIVED, encode_case
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.partition import project

HERE = Path(__file__).resolve().parent
CASES = 2000
REPEATS = 7


class RawRulesets:
    """The engine's compiled ruleset(s), fired bare: no sessions bookkeeping, no answer.

    Two ways, both rows of the table: through durable_rules' own Python API (`fire`: the
    issue's baseline, what a program written on durable_rules pays), and through the same
    calls into durable_rules' C engine that guidekb's dispatch makes (`fire_lean`: guidekb's
    true floor, see guidekb.engine.runtime.evaluation).
    """

    def __init__(self, engine: Engine) -> None:
        from durable import engine as durable_engine

        class QuietHost(durable_engine.Host):  # type: ignore[misc]
            def _run(self) -> None:
                return None

        self.kb = engine.kb
        self.host = QuietHost()
        self.missed = durable_engine.MessageNotHandledException
        self.drawn: dict[str, dict[str, bool]] = {}
        self.ids = itertools.count()
        self.chunks = engine.plan.chunks  # empty: one ruleset, native chaining
        read = {name for rule in engine.kb.rules for name in facts_read(rule.when)
                if name in engine.kb.derived_facts}
        asserts = {rule.id: tuple(n for n in rule.then.derive if n in read and not self.chunks)
                   for rule in engine.kb.rules}
        derives = {rule.id: tuple(rule.then.derive) for rule in engine.kb.rules}
        self.names: list[str] = []
        self.handles: list[int] = []
        self.lean: list[dict[str, Callable[[int, str], None]]] = []
        for name, definition in engine.rulesets:
            bare = {rule_id: {**{k: v for k, v in trigger.items() if k != "run"},
                              "run": self._action(derives.get(rule_id, ()), asserts.get(rule_id, ()))}
                    for rule_id, trigger in definition.items()}
            self.lean.append({rule_id: self._lean_action(derives.get(rule_id, ()), asserts.get(rule_id, ()))
                              for rule_id in definition})
            self.names.append(f"bench-raw:{name}")
            self.host.register_rulesets({self.names[-1]: bare})
            self.handles.append(self.host.get_ruleset(self.names[-1])._handle)

    def _action(self, derives: tuple[str, ...], asserts: tuple[str, ...]) -> Callable[[Any], None]:
        drawn_of = self.drawn

        def run(c: Any) -> None:
            drawn = drawn_of[c.s.sid]
            for name in derives:
                if name not in drawn:
                    drawn[name] = True
                    if name in asserts:
                        c.assert_fact({"_k": DERIVED, "_n": name})

        return run

    def _lean_action(self, derives: tuple[str, ...], asserts: tuple[str, ...]) -> Callable[[int, str], None]:
        drawn_of = self.drawn

        def run(handle: int, sid: str) -> None:
            drawn = drawn_of[sid]
            for name in derives:
                if name not in drawn:
                    drawn[name] = True
                    if name in asserts:
                        durable_rules_engine.assert_fact(handle, json.dumps(
                            {"_k": DERIVED, "_n": name, "sid": sid}, ensure_ascii=False))

        return run

    def encode(self, case: dict[str, Any]) -> dict[str, Any]:
        return encode_case(self.kb, case)

    def _one(self, which: int, fact: dict[str, Any]) -> None:
        name = self.names[which]
        try:
            self.host.assert_fact(name, fact)
        except self.missed:
            pass
        finally:
            self.host.delete_state(name, fact["sid"])

    def _one_lean(self, which: int, fact: dict[str, Any]) -> None:
        handle, actions, sid = self.handles[which], self.lean[which], fact["sid"]
        try:
            code, state = durable_rules_engine.assert_fact(handle, json.dumps(fact, ensure_ascii=False))
            if code == 0:
                started = durable_rules_engine.start_action_for_state(handle, state)
                message = None if started is None else started[1]
                while message is not None:
                    actions[message[2:message.find('"', 2)]](handle, sid)
                    message = durable_rules_engine.complete_and_start_action(handle, state)
        finally:
            durable_rules_engine.delete_state(handle, sid)

    def fire(self, fact: dict[str, Any], lean: bool = False) -> None:
        one = self._one_lean if lean else self._one
        sid = f"r{next(self.ids)}"
        drawn = self.drawn[sid] = {}
        try:
            if not self.chunks:
                one(0, {**fact, "sid": sid})
            for which, chunk in enumerate(self.chunks):
                if chunk.may_fire(drawn):
                    one(which, {**project(chunk, fact, drawn), "sid": sid})
        finally:
            del self.drawn[sid]


def answer_rows(kb: KnowledgeBase, cases: list[dict[str, Any]], figure: str, repeats: int = REPEATS,
                target: bool = True) -> list[Row]:
    """Full answer as JSON (validation, firing, assembly, serialisation) vs raw firing through
    durable_rules' Python API (the issue's baseline, with its target) and vs the same bare
    rules fired through guidekb's own dispatch on the C engine (guidekb's floor)."""
    engine = Engine(kb)
    raw = RawRulesets(engine)
    facts = [raw.encode(case) for case in cases]
    # same inputs, paired by index: the baselines get the case already encoded
    indices = list(range(len(cases)))
    medians = interleaved_medians({
        "raw": lambda i: raw.fire(facts[i]),
        "lean": lambda i: raw.fire(facts[i], lean=True),
        "answer": lambda i: evaluate_json(engine, cases[i]).json,
    }, indices, repeats)
    note = f"{len(cases)} sampled cases x {repeats} repeats"
    row = Row(figure, "µs/case", medians["answer"], medians["raw"],
              "raw firing of the same compiled ruleset(s) (assert_fact + delete_state)",
              "<= 1.3x" if target else "", note=note)
    floor = Row(f"{figure}, vs guidekb's dispatch", "µs/case", medians["answer"], medians["lean"],
                "the same bare rules fired through guidekb's dispatch on the C engine",
                note=note + "; no target: the answer's own cost over firing")
    return [row.judge(1.3) if target else row, floor]


def default_kb_row() -> list[Row]:
    from guidekb.engine.qa.casespace import sample_cases

    kb = load_knowledge_base(HERE.parent / "knowledge" / "hsv-resistance")
    return answer_rows(kb, list(sample_cases(kb, CASES, seed=11)),
                       f"full answer as JSON, default KB ({len(kb.rules)} rules)")


# --- the synthetic knowledge base, in a child process ------------------------------------------

def _synthetic_child(scale: float, cases: int, repeats: int) -> None:
    """Runs in the child: prints one JSON object with the measured figures (again after each
    step, so that a failure still reports what was measured before it)."""
    from synthetic import synthetic_cases, write_synthetic_kb

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = write_synthetic_kb(Path(folder) / "kb", scale=scale)
        start = time.perf_counter()
        kb = load_knowledge_base(root)
        loaded = time.perf_counter()
        result.update(rules=len(kb.rules), load_verify=loaded - start)
        print(json.dumps(result), flush=True)
        engine = Engine(kb)
        result.update(compile=time.perf_counter() - loaded, rulesets=len(engine.rulesets))
        print(json.dumps(result), flush=True)
        row, floor = answer_rows(kb, synthetic_cases(cases, seed=3), "synthetic", repeats, target=False)
        result.update(answer=row.guidekb, raw=row.baseline, lean=floor.baseline)
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


def _why_failed(figures: dict[str, Any], status: int, crashed: list[str], timeout: float) -> str:
    """What went wrong in the child, in words."""
    last = crashed[0] if crashed else ""
    if last.startswith("no result within"):
        step = ("loading" if "load_verify" not in figures else
                "compiling" if "compile" not in figures else "firing")
        return f"{step} did not finish within {timeout:.0f} s"
    if status < 0:
        return f"the child process was killed ({last or f'signal {-status}'})"
    return f"failed: {last or status}"


SYNTHETIC_CASES, SYNTHETIC_REPEATS = 40, 3  # about 60 ms per case each way at 2,000 rules


def synthetic_rows(scale: float = 1.0, small_scale: float = 0.05, timeout: float = 300) -> list[Row]:
    rows: list[Row] = []
    for which in (scale, small_scale):
        command = [sys.executable, __file__, "--synthetic-child", str(which), str(SYNTHETIC_CASES),
                   str(SYNTHETIC_REPEATS)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            output, status, crashed = done.stdout, done.returncode, done.stderr.strip().splitlines()[-1:]
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout
            output = out.decode() if isinstance(out, bytes) else (out or "")
            status, crashed = -1, [f"no result within {timeout:.0f} s"]
        lines = [line for line in output.splitlines() if line.startswith("{")]
        figures: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        failure = "" if status == 0 else _why_failed(figures, status, crashed, timeout)
        rules = figures.get("rules", "?")
        rulesets = figures.get("rulesets")
        run_as = (f"{rulesets} rulesets in strata" if rulesets and rulesets > 1 else
                  "one ruleset" if rulesets else "")
        if which == scale:
            load_row = Row(f"load + verify + compile, synthetic KB ({rules} rules)", "s",
                           (figures["load_verify"] + figures["compile"]) if "compile" in figures else None,
                           _yaml_parse_seconds(which), "PyYAML C parser reading the same files", "< 3 s",
                           note=f"load + verify {figures.get('load_verify', float('nan')):.2f} s; "
                           + (f"compile {figures['compile']:.2f} s ({run_as})" if "compile" in figures else
                              f"compile did not finish ({failure})"))
            if load_row.guidekb is None:
                load_row.target_met = False
            else:
                load_row.judge(3.0, on_ratio=False)
            rows.append(load_row)
        answer = Row(f"full answer as JSON, synthetic KB ({rules} rules)", "µs/case", figures.get("answer"),
                     figures.get("raw"), "raw firing of the same compiled rulesets, same chunks skipped",
                     note=failure or f"{run_as}; {SYNTHETIC_CASES} cases x {SYNTHETIC_REPEATS} repeats")
        if which == scale:
            answer.target = "<= 1.3x"
            answer.judge(1.3)
            if answer.guidekb is None:
                answer.target_met = False
        rows.append(answer)
        if which == scale:
            rows.append(Row(f"full answer as JSON, synthetic KB ({rules} rules), vs guidekb's dispatch",
                            "µs/case", figures.get("answer"), figures.get("lean"),
                            "the same bare rules fired through guidekb's dispatch on the C engine",
                            note=failure or "no target: the answer's own cost over firing"))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--synthetic-child"]:
        _synthetic_child(float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        from table import render

        print(render([*default_kb_row(), *synthetic_rows()]))
