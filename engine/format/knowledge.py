"""A loaded, verified knowledge base: what every other part of guidekb works from."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from guidekb.engine.format.models import FactSpec, Manifest, Outcome, Rule, SourceDocument
from guidekb.engine.format.sources import SourceText


@dataclass(frozen=True)
class Location:
    """Where something was written, for messages that point an author at it."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class KnowledgeBase:
    root: Path
    manifest: Manifest
    facts: dict[str, FactSpec]
    outcomes: dict[str, Outcome]
    rules: list[Rule]
    sources: dict[str, SourceText]
    rule_locations: dict[str, Location] = field(default_factory=dict)
    fact_locations: dict[str, Location] = field(default_factory=dict)
    outcome_locations: dict[str, Location] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def version(self) -> str:
        return self.manifest.version

    @cached_property
    def documents(self) -> dict[str, SourceDocument]:
        return {doc.id: doc for doc in self.manifest.sources}

    @cached_property
    def case_facts(self) -> dict[str, FactSpec]:
        return {name: spec for name, spec in self.facts.items() if not spec.derived}

    @cached_property
    def derived_facts(self) -> dict[str, FactSpec]:
        return {name: spec for name, spec in self.facts.items() if spec.derived}

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def rule(self, rule_id: str) -> Rule:
        return self.rules_by_id[rule_id]
