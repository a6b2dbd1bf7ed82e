"""`guidekb check [--kb KB] [--prove]`: check the knowledge base's invariants.

Without `--prove`, a quick sampled check: random cases (seeded, so runs repeat) through the
real engine. With `--prove`, a proof over every possible case by z3 (docs/proof.md): each
invariant is PROVED, or REFUTED with a counterexample replayed through the engine and
printed as a scenario to paste into a scenario file. Exit 1 when any invariant fails or
cannot be decided, 2 when the knowledge base (or its invariants.yaml) has errors.
"""

from __future__ import annotations

import json
import math
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from guidekb.console import console, counted, err_console
from guidekb.console import shown as escape  # data is made inert, not only markup-escaped
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.casespace import sample_cases, space_size
from guidekb.engine.qa.counterexamples import Counterexample, counterexample, shrink
from guidekb.engine.qa.invariants import Invariant, check_case, load_invariants
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.evaluation import Engine
from guidekb.formats import JunitCase, JunitFormat, TextJsonJunit, junit_xml, print_json
from guidekb.options import DEFAULT_KB, KbOption, KbPositional, chosen_kb, load

if TYPE_CHECKING:
    from guidekb.engine.qa.proof import ProofResult

CROSS_CHECK_CASES = 200


def check(
    kb: KbOption = DEFAULT_KB,
    legacy_kb: KbPositional = None,
    prove: Annotated[bool, typer.Option("--prove", help="Prove every invariant for every "
                                        "possible case (z3), instead of sampling.")] = False,
    samples: Annotated[int, typer.Option(help="Random cases for the sampled check.", min=1)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the sampled check (runs repeat).")] = 0,
    timeout: Annotated[int, typer.Option(help="Solver time limit per question, in seconds.",
                                         min=1)] = 60,
    fmt: JunitFormat = TextJsonJunit.text,
) -> None:
    """Check the invariants of a knowledge base: sampled, or proved for every case (--prove)."""
    kb = chosen_kb(kb, legacy_kb)
    knowledge = load(kb)
    invariants = load_invariants(knowledge)
    records: list[dict[str, Any]] = []
    token = _MACHINE.set(fmt is not TextJsonJunit.text)
    try:
        if not invariants:
            _say(f"{escape(knowledge.id)}: no invariants to check (no invariants.yaml)")
            failed = False
        else:
            failed = (_prove_all(knowledge, invariants, timeout, records) if prove
                      else _sample_all(knowledge, invariants, samples, seed, records))
    finally:
        _MACHINE.reset(token)
    if fmt is TextJsonJunit.json:
        print_json({"method": "proof" if prove else "sample", "failed": failed,
                    "invariants": records})
    elif fmt is TextJsonJunit.junit:
        typer.echo(junit_xml(f"guidekb check {knowledge.id}", [
            JunitCase(r["id"], f"invariants.{knowledge.id}", r["seconds"],
                      None if r["status"] in ("proved", "held") else
                      f"{r['status']}: {r['detail']}\n{r['counterexample'] or ''}".rstrip())
            for r in records]), nl=False)
    if failed:
        raise typer.Exit(1)


# Set while a machine-readable format is printed: the text report and progress stay silent.
_MACHINE: ContextVar[bool] = ContextVar("guidekb_check_machine", default=False)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True, disable=_MACHINE.get())


# --- proof ------------------------------------------------------------------------------------


def _prove_all(kb: KnowledgeBase, invariants: list[Invariant], timeout: int,
               records: list[dict[str, Any]]) -> bool:
    try:
        from guidekb.engine.qa.proof import Prover, cross_check, prove
    except ImportError as exc:  # z3-solver is needed for proofs only
        err_console.print(f"error: --prove needs the z3-solver package ({exc}); "
                          "install it with: pip install z3-solver")
        raise typer.Exit(2) from exc
    start = time.perf_counter()
    engine = Engine.for_kb(kb)
    space = space_size(kb)
    _say(f"Proving {counted(len(invariants), 'invariant')} of [bold]{escape(kb.id)}[/bold] "
         f"{escape(kb.version)} for every case: {counted(len(kb.case_facts), 'case fact')}, "
         f"{counted(len(kb.rules), 'rule')}, about {_cases(space)} "
         "(unknowns included).")
    disagreements = cross_check(kb, CROSS_CHECK_CASES, engine=engine)
    for case in disagreements:
        err_console.print(f"[red]encoding disagrees with the engine[/red] on {escape(str(case))}")
    prover = Prover(kb, timeout_ms=timeout * 1000)
    results: list[ProofResult] = []
    with _progress() as progress:
        task = progress.add_task("proving", total=len(invariants))
        for inv in invariants:
            progress.update(task, description=f"proving {inv.id}")
            results.append(prove(kb, inv, prover, engine))
            progress.advance(task)
    for result in results:
        _print_result(kb, result)
        found = result.counterexample
        records.append({"id": result.invariant.id, "kind": result.invariant.kind,
                        "status": result.status, "detail": result.method,
                        "seconds": result.seconds, "solver_calls": result.solver_calls,
                        "counterexample": found.scenario_yaml() if found else None})
    if disagreements:  # the encoding itself is wrong: no proof stands
        records.append({"id": "encoding-cross-check", "kind": "cross-check", "status": "failed",
                        "detail": f"the encoding disagrees with the engine on {len(disagreements)} "
                        "random cases", "seconds": 0.0, "solver_calls": 0,
                        "counterexample": None})
    counts = {s: sum(r.status == s for r in results) for s in ("proved", "refuted", "unconfirmed",
                                                              "unknown")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n or s in ("proved", "refuted"))
    agreement = (f"[red]{len(disagreements)} disagreements[/red]" if disagreements else "agrees")
    _say(f"\n{summary} in {time.perf_counter() - start:.2f} s; {prover.calls} solver "
         f"calls. Encoding cross-checked against the engine on {CROSS_CHECK_CASES} "
         f"random cases: {agreement}.")
    _say("[dim]Method and soundness argument: docs/proof.md[/dim]")
    return bool(disagreements) or counts["proved"] != len(results)


def _print_result(kb: KnowledgeBase, result: ProofResult) -> None:
    inv = result.invariant
    label = {"proved": "[green]PROVED[/green]     ", "refuted": "[red]REFUTED[/red]    ",
             "unconfirmed": "[red]UNCONFIRMED[/red]", "unknown": "[yellow]UNKNOWN[/yellow]    "}
    calls = f"{result.solver_calls} solver call{'s' if result.solver_calls != 1 else ''}"
    _say(f"{label[result.status]} {escape(inv.id)}")
    cone = (f"cone of influence {len(result.cone)}/{len(kb.case_facts)} case facts "
            f"({_cases(space_size(kb, set(result.cone)))})")
    _say(f"            [dim]{inv.kind} · {escape(result.method)} · {calls} · {cone} · "
         f"{result.seconds * 1000:.0f} ms[/dim]")
    if result.status == "unknown":
        _say("            the solver gave up within the time limit; raise --timeout")
    if result.counterexample is not None:
        _print_counterexample(result.counterexample, result.status == "unconfirmed")


def _print_counterexample(found: Counterexample, unconfirmed: bool) -> None:
    if unconfirmed:
        _say("            [red]replayed through the engine, this case does NOT violate "
             "the invariant: the symbolic encoding and the durable_rules compiler "
             "disagree (a bug to report). The case:[/red]")
    else:
        _say(f"            {escape(found.problem or '')}; confirmed by the engine. "
             "As a scenario:")
    for line in found.scenario_yaml().splitlines():
        _say(f"    {escape(line)}")


def _cases(n: int) -> str:
    """A count of abstract cases, as a power of ten once it is large."""
    count = f"10^{math.log10(n):.1f}" if n >= 10_000 else str(n)
    return f"{count} abstract case{'' if n == 1 else 's'}"


# --- sampled check ------------------------------------------------------------------------------


def _sample_all(kb: KnowledgeBase, invariants: list[Invariant], samples: int, seed: int,
                records: list[dict[str, Any]]) -> bool:
    start = time.perf_counter()
    engine = Engine.for_kb(kb)
    first: dict[str, dict[str, Any]] = {}
    with _progress() as progress:
        task = progress.add_task("sampling", total=samples)
        for case in sample_cases(kb, samples, seed, [c for i in invariants if (c := i.condition)]):
            answers: dict[str, Answer] = {}  # one evaluation per case (and per monotone variant)

            def evaluate(c: dict[str, Any], answers: dict[str, Answer] = answers) -> Answer:
                key = json.dumps(c, sort_keys=True)
                if key not in answers:
                    answers[key] = engine.evaluate(c)
                return answers[key]

            for inv in invariants:
                if inv.id not in first and check_case(inv, case, evaluate) is not None:
                    first[inv.id] = case
            progress.advance(task)
    for inv in invariants:
        if inv.id in first:
            _say(f"[red]FAILED[/red] {escape(inv.id)}")

            def fails(case: dict[str, Any], inv: Invariant = inv) -> bool:
                return check_case(inv, case, engine.evaluate) is not None

            small = shrink(first[inv.id], fails)
            found = counterexample(kb, inv, small, engine)
            _print_counterexample(found, False)
            records.append({"id": inv.id, "kind": inv.kind, "status": "failed",
                            "detail": found.problem or "", "seconds": 0.0, "solver_calls": 0,
                            "counterexample": found.scenario_yaml()})
        else:
            _say(f"[green]ok[/green]     {escape(inv.id)}  [dim]{inv.kind}[/dim]")
            records.append({"id": inv.id, "kind": inv.kind, "status": "held",
                            "detail": f"held on {samples} random cases (seed {seed})",
                            "seconds": 0.0, "solver_calls": 0, "counterexample": None})
    _say(f"\n{len(invariants) - len(first)} held, {len(first)} failed on {samples} random "
         f"cases (seed {seed}) in {time.perf_counter() - start:.2f} s. A sample is not a "
         "proof: run [bold]guidekb check --prove[/bold] for every case.")
    return bool(first)


def _say(text: str) -> None:
    """Print without wrapping (file:line:col and scenario YAML must stay intact when piped)
    and without emoji codes (a location like ':100:' is not an emoji). Silent while a
    machine-readable format is printed."""
    if _MACHINE.get():
        return
    console.print(text, soft_wrap=True, emoji=False)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
