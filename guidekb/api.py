"""The few functions of the public API that are more than a re-export (see docs/api.md).

Each takes a case as a plain mapping, as a caller's program holds it, and validates it against
the knowledge base's fact vocabulary before anything runs: a misspelt fact, a value outside a
fact's domain or of the wrong type raises the `CaseError` the command line shows (fact, value,
what is allowed), never an answer to a case nobody meant.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from guidekb.engine.errors import UnknownName
from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.explanation import Explanation
from guidekb.engine.runtime.explanation import explain as _explain

if TYPE_CHECKING:
    from guidekb.engine.qa.invariants import Invariant


def load(path: str | os.PathLike[str]) -> KnowledgeBase:
    """Load and verify the knowledge base in folder `path`; raises KnowledgeBaseError listing
    every problem (file:line:col, hint). The same as `load_knowledge_base`."""
    return load_knowledge_base(os.fspath(path))


def evaluate(kb: KnowledgeBase, case: Mapping[str, Any]) -> Answer:
    """The answer for `case` (fact name -> value; absent or None means unknown), validated
    first: raises CaseError on any invalid fact or value, EvaluationError (no answer) if the
    rule engine fails."""
    return Engine.for_kb(kb).evaluate(case)  # the engine validates unless told the case is


def explain(kb: KnowledgeBase, case: Mapping[str, Any], code: str) -> Explanation:
    """Why `code` was (or was not) recommended or forbidden for `case`, rule by rule, each
    condition true, false or unknown. Raises CaseError for an invalid case and UnknownName
    (a KeyError) for a code the knowledge base does not define."""
    if code not in kb.outcomes:
        raise UnknownName("code", code, did_you_mean(code, kb.outcomes, "codes"))
    return _explain(kb, validate_case(case, kb), code)


def violated_invariants(kb: KnowledgeBase, case: Mapping[str, Any],
                        invariants: Iterable[Invariant] | None = None) -> dict[str, str]:
    """The invariants `case` violates (id -> what went wrong); empty when all hold. Checks
    the knowledge base's own invariants.yaml unless `invariants` are given."""
    # The QA layer is imported here, not above: evaluating a case should not load it.
    from guidekb.engine.qa.invariants import check_case, load_invariants

    validated = validate_case(case, kb)
    engine = Engine.for_kb(kb)
    found: dict[str, str] = {}
    for inv in load_invariants(kb) if invariants is None else invariants:
        problem = check_case(inv, validated, engine.evaluate)
        if problem is not None:
            found[inv.id] = problem
    return found
