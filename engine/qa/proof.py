"""Prove or refute a knowledge base's invariants for every possible case.

Each invariant becomes the question "is there a case that violates it?", asked of z3 over the
exact symbolic encoding of `guidekb.engine.qa.symbolic` (each kind states its own violation:
`guidekb.engine.qa.invariant_kinds`). UNSAT is a proof for all cases, unknown facts
included; SAT gives a concrete case, which is minimised (fewest known facts, so a reviewer
reads only what matters), validated against the vocabulary and replayed through the real
durable_rules engine with the same `guidekb.engine.qa.invariants.check_case` the property tests use. A
replay that does not confirm the violation means the encoding and the compiler disagree: it
is reported as such, never as a proof. See docs/proof.md for the method and its soundness.

Before any proof is trusted, `cross_check` compares the encoding with the engine on random
cases (`guidekb check --prove` does so on every run, for whatever knowledge base it is given).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.qa.casespace import cone_of_influence, sample_cases
from guidekb.engine.qa.counterexamples import Counterexample, counterexample
from guidekb.engine.qa.invariants import Invariant
from guidekb.engine.qa.symbolic import SymbolicKB, check
from guidekb.engine.runtime.evaluation import Engine

Status = Literal["proved", "refuted", "unconfirmed", "unknown"]


@dataclass
class ProofResult:
    invariant: Invariant
    status: Status
    method: str
    solver_calls: int
    seconds: float
    cone: list[str] = field(default_factory=list)  # case facts that can influence it
    counterexample: Counterexample | None = None


# --- solving ----------------------------------------------------------------------------------


class Prover:
    """Answers satisfiability questions over one knowledge base, counting solver calls."""

    def __init__(self, kb: KnowledgeBase, timeout_ms: int = 60_000) -> None:
        self.kb = kb
        self.sym = SymbolicKB(kb)
        self.timeout_ms = timeout_ms
        self.calls = 0

    def check(self, *constraints: Any, domain: list[Any] | None = None) -> z3.CheckSatResult:
        solver = z3.Solver()
        solver.set("timeout", self.timeout_ms)
        solver.add(*(self.sym.domain() if domain is None else domain), *constraints)
        self.calls += 1
        return check(solver)

    def example(self, *constraints: Any, sym: SymbolicKB | None = None,
                domain: list[Any] | None = None) -> dict[str, Any] | None:
        """A case satisfying the constraints with as few known facts as possible (any case
        if minimising times out), or None when there is none or the solver gives up."""
        sym = sym or self.sym
        assertions = [*(self.sym.domain() if domain is None else domain), *constraints]
        opt = z3.Optimize()
        opt.set("timeout", self.timeout_ms)
        opt.add(*assertions)
        for fv in sym.vars.values():
            opt.add_soft(z3.Not(fv.present))
        self.calls += 1
        if check(opt) == z3.sat:
            return sym.case_from(opt.model())
        solver = z3.Solver()
        solver.set("timeout", self.timeout_ms)
        solver.add(*assertions)
        self.calls += 1
        return sym.case_from(solver.model()) if check(solver) == z3.sat else None


def prove(kb: KnowledgeBase, inv: Invariant, prover: Prover | None = None,
          engine: Engine | None = None) -> ProofResult:
    """Prove the invariant for every case, or refute it with a replayed counterexample."""
    prover = prover or Prover(kb)
    start, calls = time.perf_counter(), prover.calls
    goal = inv.definition.violation(inv.spec, prover.sym)
    cone = sorted(cone_of_influence(kb, inv))

    def done(status: Status, found: Counterexample | None = None) -> ProofResult:
        return ProofResult(inv, status, goal.method, prover.calls - calls,
                           time.perf_counter() - start, cone, found)

    if z3.is_false(z3.simplify(goal.formula)):
        goal.method = "static: no rule can produce a violation"
        return done("proved")
    verdict = prover.check(goal.formula, domain=goal.domain)
    if verdict == z3.unsat:
        return done("proved")
    if verdict == z3.unknown:
        return done("unknown")
    case = prover.example(goal.formula, sym=goal.sym, domain=goal.domain)
    if case is None:
        return done("unknown")
    found = counterexample(kb, inv, case, engine)
    return done("refuted" if found.confirmed else "unconfirmed", found)




def cross_check(kb: KnowledgeBase, count: int, seed: int = 1, engine: Engine | None = None,
                sym: SymbolicKB | None = None) -> list[dict[str, Any]]:
    """Random cases on which the symbolic encoding and the engine disagree about a fired
    rule, a recommendation or a prohibition. Proofs mean nothing unless this is empty."""
    engine = engine or Engine.for_kb(kb)
    sym = sym or SymbolicKB(kb)
    rule_ids = [r.id for r in kb.rules]
    codes = list(kb.outcomes)
    exprs = ([sym.fired(r) for r in rule_ids] + [sym.recommended(c) for c in codes]
             + [sym.forbidden(c) for c in codes])
    disagreements: list[dict[str, Any]] = []
    for case in sample_cases(kb, count, seed):
        answer = engine.evaluate(case)
        recommended, forbidden = set(answer.recommended_codes()), set(answer.forbidden_codes())
        actual = ([r in answer.fired for r in rule_ids] + [c in recommended for c in codes]
                  + [c in forbidden for c in codes])
        if sym.evaluate(exprs, case) != actual:
            disagreements.append(case)
    return disagreements
