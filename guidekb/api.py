"""The few functions of the public API that are more than a re-export (see docs/api.md).

Each takes a case as a plain mapping, as a caller's program holds it, and validates it against
the knowledge base's fact vocabulary before anything runs: a misspelt fact, a value outside a
fact's domain or of the wrong type raises the `CaseError` the command line shows (fact, value,
what is allowed), never an answer to a case nobody meant.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from guidekb.engine.errors import GuidekbError
from guidekb.engine.format.cases import validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.qa.invariants import Invariant, check_case, load_invariants
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.explanation import Explanation
from guidekb.engine.runtime.explanation import explain as _explain


def load(path: str | os.PathLike[str]) -> KnowledgeBase:
    """Load and verify the knowledge base in folder `path`; raises KnowledgeBaseError listing
    every problem (file:line:col, hint). The same as `load_knowledge_base`."""
    return load_knowledge_base(os.fspath(path))


def evaluate(kb: KnowledgeBase, case: Mapping[str, Any]) -> Answer:
    """The answer for `case` (fact name -> value; absent or None means unknown), validated
    first: raises CaseError on any invalid fact or value."""
    return Engine.for_kb(kb).evaluate(validate_case(case, kb))


def explain(kb: KnowledgeBase, case: Mapping[str, Any], code: str) -> Explanation:
    """Why `code` was (or was not) recommended or forbidden for `case`, rule by rule, each
    condition true, false or unknown. Raises CaseError for an invalid case and
    UnknownCodeError for a code the knowledge base does not define."""
    if code not in kb.outcomes:
        raise UnknownCodeError(code, kb)
    return _explain(kb, validate_case(case, kb), code)


class UnknownCodeError(GuidekbError, KeyError):
    """A recommendation or prohibition code the knowledge base does not define. A KeyError
    too, so callers that looked codes up in a mapping keep working."""

    def __init__(self, code: str, kb: KnowledgeBase) -> None:
        self.code = code
        super().__init__(f"unknown code '{code}' in {kb.id}; "
                         f"{did_you_mean(code, kb.outcomes, 'codes')}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def violated_invariants(kb: KnowledgeBase, case: Mapping[str, Any],
                        invariants: Iterable[Invariant] | None = None) -> dict[str, str]:
    """The invariants `case` violates (id -> what went wrong); empty when all hold. Checks
    the knowledge base's own invariants.yaml unless `invariants` are given."""
    validated = validate_case(case, kb)
    engine = Engine.for_kb(kb)
    found: dict[str, str] = {}
    for inv in load_invariants(kb) if invariants is None else invariants:
        problem = check_case(inv, validated, engine.evaluate)
        if problem is not None:
            found[inv.id] = problem
    return found
