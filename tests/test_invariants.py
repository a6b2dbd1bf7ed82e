"""Every invariant of every knowledge base in knowledge/, checked by Hypothesis.

One test per invariant, named `<kb>/<invariant id>`. A failure prints the shrunk
counterexample as a scenario ready to paste into the knowledge base's scenarios/ folder.
`HYPOTHESIS_PROFILE=thorough` searches far longer (see docs/qa-guide.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.invariants import Invariant, load_invariants
from tests.conftest import HSV_KB, knowledge_base_dirs
from tests.propcheck import property_test


@cache
def _kb(path: Path) -> KnowledgeBase:
    return load_knowledge_base(path)


def _params() -> list[object]:
    params: list[object] = []
    for path in knowledge_base_dirs():
        for inv in load_invariants(_kb(path)):
            params.append(pytest.param(path, inv, id=f"{path.name}/{inv.id}"))
    return params


@pytest.mark.parametrize(("kb_dir", "invariant"), _params())
def test_invariant_holds(kb_dir: Path, invariant: Invariant) -> None:
    property_test(_kb(kb_dir), invariant)()


def test_default_knowledge_base_states_the_required_invariants() -> None:
    """The issue's minimum: each required property is stated, over case facts where it can be."""
    invariants = {inv.id: inv for inv in load_invariants(_kb(HSV_KB))}
    kinds = {inv.kind for inv in invariants.values()}
    assert {"never_recommend", "always_forbid", "requires", "monotone", "no_recommendation_forbidden",
            "recommendations_have_provenance"} <= kinds
    confirmed = invariants["no-acyclovir-family-once-resistance-confirmed"]
    assert confirmed.never_recommend is not None
    assert set(confirmed.never_recommend.all_codes) == {"famciclovir", "valacyclovir", "acyclovir"}
    suspected = invariants["no-famciclovir-when-resistance-suspected"]
    assert suspected.always_forbid is not None and suspected.always_forbid.all_codes == ["famciclovir"]
    foscarnet = invariants["foscarnet-requires-renal-monitoring"].requires
    assert foscarnet is not None and (foscarnet.code, foscarnet.also) == ("iv_foscarnet", "monitor_renal_function")
    assert invariants["never-topical-acyclovir"].always_forbid is not None
