"""Shared fixtures and the Hypothesis profiles.

`ci` is the fast profile run by `make test`; `thorough` (HYPOTHESIS_PROFILE=thorough, or
`make thorough`) searches far longer for the same properties.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.evaluation import Engine

settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
HSV_KB = KNOWLEDGE / "hsv-resistance"


def knowledge_base_dirs() -> list[Path]:
    """Every knowledge base shipped in knowledge/ (each folder with a manifest)."""
    return sorted(p.parent for p in KNOWLEDGE.glob("*/manifest.yaml"))


@pytest.fixture(scope="session")
def hsv_kb() -> KnowledgeBase:
    return load_knowledge_base(HSV_KB)


@pytest.fixture(scope="session")
def hsv_engine(hsv_kb: KnowledgeBase) -> Engine:
    return Engine.for_kb(hsv_kb)
