"""What the studio's worker processes compute: a knowledge-base folder in, plain data out.

Every function here runs in a worker process (guidekb.studio.lanes), never in the server's own
process: durable_rules is not thread-safe, compiling a knowledge base leaks a little memory
that is never returned, and z3 proofs take seconds. Each takes the knowledge-base folder and
the generation (a counter the server bumps on every save) and returns JSON-able data, so
nothing but dicts and lists crosses the process boundary. The knowledge base loaded for a
generation is kept, so the playground's evaluations reuse one compiled engine until the next
save.

Paths in messages are as the command line prints them (relative to the working directory when
below it); each location also carries `abs`, the absolute path, for editor links.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from guidekb.engine.errors import CaseError, Problem, ProblemsError, relative
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.everything import check_everything
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.parent_watch import exit_with_parent
from guidekb.exits import write_details

PROOF_TIMEOUT_MS = 20_000  # per solver question; a page should not wait minutes
CROSS_CHECK_CASES = 200  # as `guidekb check --prove`

_loaded: dict[str, Any] = {}  # {"key": (root, generation), "kb": KnowledgeBase}


def start_worker(server: int) -> None:
    """Initialiser of a worker process: Ctrl-C in the terminal reaches the whole process group,
    but only the server decides to stop (it ends the workers itself), so the worker leaves the
    group and ignores SIGINT, and no worker (or `dot` it runs) prints anything on Ctrl-C;
    durable_rules' log of exceptions in actions stays off the terminal. Out of the group, a
    worker would outlive a server killed without warning: it ends with the server instead
    (engine/runtime/parent_watch.py)."""
    import logging

    exit_with_parent(server)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the server at start
    os.setpgrp()  # out of the terminal's process group: Ctrl-C reaches neither it nor `dot`
    log = logging.getLogger("durable")
    log.addHandler(logging.NullHandler())
    log.propagate = False


def knowledge_base(root: str, generation: int) -> KnowledgeBase:
    """The knowledge base of this generation, loaded once per generation in this process."""
    key = (root, generation)
    if _loaded.get("key") != key:
        _loaded.clear()
        kb = load_knowledge_base(root)
        _loaded.update(key=key, kb=kb)
    kb_now: KnowledgeBase = _loaded["kb"]
    return kb_now


def absolute(file: str) -> str:
    """The absolute path of a file named in a message (relative names are relative to the
    working directory, which the worker shares with the server)."""
    return os.path.abspath(file)


def problem_data(problem: Problem) -> dict[str, Any]:
    return {**problem.as_dict(), "abs": absolute(problem.file)}


# --- validation, vocabulary ------------------------------------------------------------------


def validate(root: str, generation: int) -> dict[str, Any]:
    """Every problem of every file (as `guidekb validate`), and when there is none the fact
    vocabulary the playground's form is made from."""
    checked = check_everything(Path(root))
    kb = checked.kb
    data: dict[str, Any] = {
        "ok": checked.ok,
        "kb": {"id": kb.id, "version": kb.version, "title": kb.manifest.title} if kb else None,
        "problems": [problem_data(p) for p in checked.problems],
        "counts": None,
        "facts": None,
    }
    if checked.ok and kb is not None:
        _loaded.clear()
        _loaded.update(key=(root, generation), kb=kb)
        data["counts"] = {"rules": len(kb.rules), "facts": len(kb.facts), "codes": len(kb.outcomes),
                          "invariants": len(checked.invariants), "scenarios": checked.scenarios,
                          "cases": checked.cases, "quotes": checked.quotes, "sources": len(kb.sources)}
        data["facts"] = vocabulary(kb)
    return data


def vocabulary(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Each case fact and its domain, in the order of facts.yaml: what the form offers."""
    return [{"name": name, "type": spec.type, "values": spec.values, "min": spec.min, "max": spec.max,
             "unit": spec.unit, "description": spec.description, "question": spec.question}
            for name, spec in kb.case_facts.items()]


# --- scenarios -------------------------------------------------------------------------------


def scenarios(root: str, generation: int) -> dict[str, Any]:
    """Every scenario run, with the differences of each failure (as `guidekb test`)."""
    from guidekb.engine.qa.scenarios import run_scenarios

    kb = knowledge_base(root, generation)
    results = run_scenarios(kb)
    return {"results": [{
        "name": r.name, "file": relative(r.loaded.path), "abs": str(r.loaded.path.resolve()),
        "passed": r.passed, "diff": r.diff(), "description": r.loaded.scenario.description,
    } for r in results]}


# --- the playground --------------------------------------------------------------------------


def evaluate(root: str, generation: int, case: Mapping[str, Any]) -> dict[str, Any]:
    """The answer for a case from the form, exactly as `guidekb run --format json` gives it,
    or the CaseError's problems (an unknown fact or a value outside its domain)."""
    kb = knowledge_base(root, generation)
    try:
        answer = Engine.for_kb(kb).evaluate(case)
    except CaseError as exc:
        return {"error": _case_error(exc)}
    return {"answer": answer.model_dump(mode="json")}


def save_scenario(root: str, generation: int, case: Mapping[str, Any], name: str,
                  description: str) -> dict[str, Any]:
    """Write a new scenario file `scenarios/<name>.yaml` pinning the answer the case gets now.

    The one write into the knowledge base, and never over anything: the file is created
    exclusively (an existing name is refused), and the text is first loaded back with the
    scenario loader from a temporary file outside the knowledge base, so what is written is a
    scenario `guidekb test` accepts and that passes."""
    from guidekb.engine.format.models import Expectations, Scenario
    from guidekb.engine.qa.counterexamples import scenario_yaml
    from guidekb.engine.qa.scenarios import SCENARIO_DIR, load_scenario, run_scenario

    kb = knowledge_base(root, generation)
    engine = Engine.for_kb(kb)
    try:
        answer = engine.evaluate(case)
    except CaseError as exc:
        return {"error": _case_error(exc)}
    expect = Expectations(recommended=answer.recommended_codes(), forbidden=answer.forbidden_codes(),
                          derived=answer.derived_facts())
    text = scenario_yaml(Scenario(description=description, case=dict(answer.case), expect=expect))
    text = "# Saved from the guidekb studio playground.\n" + text
    with tempfile.TemporaryDirectory(prefix="guidekb-studio-") as scratch:
        trial = Path(scratch) / f"{name}.yaml"
        trial.write_text(text, encoding="utf-8")
        try:
            result = run_scenario(engine, load_scenario(trial, kb))
        except ProblemsError as exc:  # a bug of ours: report it, write nothing
            return {"error": {"message": "the scenario would not load; nothing was written",
                              "problems": [p.as_dict() for p in exc.problems]}}
        if not result.passed:
            return {"error": {"message": "the scenario would not pass; nothing was written",
                              "problems": []}}
    folder = Path(root) / SCENARIO_DIR
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return {"error": {"message": f"{relative(folder)} is not a plain folder; nothing was written",
                          "problems": []}, "status": 409}
    folder.mkdir(exist_ok=True)
    target = folder / f"{name}.yaml"
    if any((folder / f"{name}{suffix}").exists() or (folder / f"{name}{suffix}").is_symlink()
           for suffix in (".yaml", ".yml")):
        return {"error": {"message": f"a scenario named '{name}' already exists "
                          f"({relative(target)}); choose another name", "problems": []}, "status": 409}
    try:
        handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except FileExistsError:
        return {"error": {"message": f"a scenario named '{name}' already exists; choose another name",
                          "problems": []}, "status": 409}
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    return {"file": relative(target), "abs": str(target.resolve()), "text": text}


def _case_error(exc: CaseError) -> dict[str, Any]:
    return {"message": "; ".join(p.message + (f" ({p.hint})" if p.hint else "") for p in exc.problems),
            "problems": [{"message": p.message, "hint": p.hint} for p in exc.problems]}


# --- flowcharts ------------------------------------------------------------------------------


def charts(root: str, generation: int) -> dict[str, Any]:
    """The overview chart and each of its stage charts as SVG, or why there are none."""
    from guidekb.visualize.chartbook import chart_book
    from guidekb.visualize.dot import diagram_graph, dot_available, render
    from guidekb.visualize.errors import VisualizeError
    from guidekb.visualize.overview import overview_graph

    if not dot_available():
        return {"available": False, "charts": [],
                "message": "graphviz's `dot` program is not installed, so the flowcharts cannot be "
                           "drawn here: install it (Debian: sudo apt-get install graphviz) and save "
                           "a file"}
    kb = knowledge_base(root, generation)
    try:
        book = chart_book(kb)
        drawn = [{"title": "Clinical pathway overview",
                  "svg": render(overview_graph(book), "svg").decode()}]
        total = len(book.charts)
        for k, chart in enumerate(book.charts):
            graph = diagram_graph(chart.diagram, f"decision chart {k + 1} of {total}", book.next_chart(k))
            drawn.append({"title": f"{k + 1}. {chart.title}", "svg": render(graph, "svg").decode()})
    except VisualizeError as exc:
        return {"available": False, "charts": [], "message": str(exc)}
    return {"available": True, "charts": drawn, "message": ""}


# --- invariants, lint, source coverage --------------------------------------------------------


def proofs(root: str, generation: int) -> dict[str, Any]:
    """Each invariant proved or refuted for every case by z3 (as `guidekb check --prove`), with
    the encoding cross-checked against the engine first."""
    from guidekb.engine.qa.invariants import load_invariants
    from guidekb.engine.qa.proof import Prover, cross_check, prove

    kb = knowledge_base(root, generation)
    invariants = load_invariants(kb)
    start = time.perf_counter()
    engine = Engine.for_kb(kb)
    disagreements = cross_check(kb, CROSS_CHECK_CASES, engine=engine) if invariants else []
    prover = Prover(kb, timeout_ms=PROOF_TIMEOUT_MS)
    results = []
    for inv in invariants:
        result = prove(kb, inv, prover, engine)
        found = result.counterexample
        results.append({"id": inv.id, "kind": inv.kind, "status": result.status, "method": result.method,
                        "seconds": round(result.seconds, 3), "problem": found.problem if found else None,
                        "counterexample": found.scenario_yaml() if found else None})
    return {"invariants": results, "disagreements": len(disagreements),
            "cross_checked": CROSS_CHECK_CASES if invariants else 0,
            "seconds": round(time.perf_counter() - start, 2)}


def lint_report(root: str, generation: int) -> dict[str, Any]:
    """Every lint finding (as `guidekb lint`), acknowledged ones marked."""
    from guidekb.engine.qa.lint import lint

    report = lint(knowledge_base(root, generation))
    return {"findings": [{
        "id": f.id, "kind": f.kind, "message": f.message, "hint": f.hint, "file": f.location.file,
        "abs": absolute(f.location.file), "line": f.location.line, "column": f.location.column,
        "acknowledged": f.acknowledged,
    } for f in report.findings], "open": len(report.unacknowledged)}


def coverage(root: str, generation: int) -> dict[str, Any]:
    """Source coverage (as `guidekb coverage`): counts, and every statement not encoded."""
    from guidekb.engine.qa.source_coverage import measure

    kb = knowledge_base(root, generation)
    report = measure(kb)
    counts = {status: report.count(status) for status in ("encoded", "context", "missing")}
    return {"counts": counts, "total": len(report.statements), "missing": [{
        "source": s.statement.source, "section": s.statement.section, "line": s.statement.line,
        "text": s.statement.text,
    } for s in report.missing]}


def run_safely(task: str, root: str, generation: int, *args: Any) -> dict[str, Any]:
    """Run one of the functions above by name: a knowledge-base problem (an edit between the
    validation and this task) becomes problems, and any other exception a message (its
    traceback written to a file, as `guidekb` does for an internal error), never an exception
    across the process boundary."""
    function = TASKS[task]
    try:
        result: dict[str, Any] = function(root, generation, *args)
    except ProblemsError as exc:
        return {"failed": "problems", "problems": [problem_data(p) for p in exc.problems]}
    except Exception as exc:  # a bug (or an engine fault): said on the page, never a panel stuck
        details = write_details(exc)
        where = f"; details written to {details}" if details else ""
        return {"failed": "error", "message": f"{task} failed: {type(exc).__name__}: {exc}{where}"}
    return result


TASKS: dict[str, Any] = {
    "validate": validate, "scenarios": scenarios, "evaluate": evaluate, "save_scenario": save_scenario,
    "charts": charts, "proofs": proofs, "lint": lint_report, "coverage": coverage,
}

__all__ = ["TASKS", "run_safely", "start_worker"]
