"""A loaded, verified knowledge base: what every other part of guidekb works from.

Immutable once built: the containers are tuples and read-only mappings, and the models in them
are frozen pydantic models. `content_hash` is computed from the content itself (never from
file names, dates or object identity), so anything keyed by it -- the compiled rule engine
above all -- can never answer for a knowledge base that has since changed: a copy made with
`dataclasses.replace(kb, rules=...)` is a new knowledge base with a new hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from guidekb.engine.errors import UnknownName
from guidekb.engine.format.models import FactSpec, Manifest, Outcome, Rule, SourceDocument
from guidekb.engine.format.sources import SourceText
from guidekb.engine.format.suggest import did_you_mean


@dataclass(frozen=True)
class Location:
    """Where something was written, for messages that point an author at it."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def _frozen_mapping(items: Mapping[str, Any]) -> Mapping[str, Any]:
    return items if isinstance(items, MappingProxyType) else MappingProxyType(dict(items))


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """The knowledge base as loaded and verified. Build it with `load_knowledge_base`; any
    mapping or sequence given here is copied into a read-only one."""

    root: Path
    manifest: Manifest
    facts: Mapping[str, FactSpec]
    outcomes: Mapping[str, Outcome]
    rules: Sequence[Rule]  # stored as a tuple
    sources: Mapping[str, SourceText]
    rule_locations: Mapping[str, Location] = field(default_factory=dict)
    fact_locations: Mapping[str, Location] = field(default_factory=dict)
    outcome_locations: Mapping[str, Location] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("facts", "outcomes", "sources", "rule_locations", "fact_locations",
                     "outcome_locations"):
            object.__setattr__(self, name, _frozen_mapping(getattr(self, name)))
        object.__setattr__(self, "rules", tuple(self.rules))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Picklable (worker processes, caches) although read-only mappings are not: rebuilt
        from plain copies, the content hash recomputed from them."""
        return (type(self), (self.root, self.manifest, dict(self.facts), dict(self.outcomes),
                             tuple(self.rules), dict(self.sources), dict(self.rule_locations),
                             dict(self.fact_locations), dict(self.outcome_locations)))

    def __repr__(self) -> str:
        return (f"KnowledgeBase({self.id} {self.version}, {len(self.rules)} rules, "
                f"root={str(self.root)!r}, content_hash={self.content_hash[:12]})")

    @cached_property
    def content_hash(self) -> str:
        """A SHA-256 of everything that affects an answer: the manifest (id, version, sources),
        the facts, the outcomes, the rules with their provenance, and the text of every source
        the provenance was verified against. Order matters where answers keep it (rules)."""
        content = {
            "manifest": self.manifest.model_dump(mode="json", by_alias=True),
            "facts": {n: s.model_dump(mode="json", by_alias=True) for n, s in self.facts.items()},
            "outcomes": {c: o.model_dump(mode="json", by_alias=True) for c, o in self.outcomes.items()},
            "rules": [r.model_dump(mode="json", by_alias=True) for r in self.rules],
            "sources": {i: {"sections": list(t.section_titles),
                            "text": hashlib.sha256(t.raw.encode("utf-8")).hexdigest()}
                        for i, t in self.sources.items()},
        }
        encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()

    @property
    def fingerprint(self) -> str:
        """The content hash, under the name older callers used for the files' fingerprint."""
        return self.content_hash

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def version(self) -> str:
        return self.manifest.version

    @cached_property
    def documents(self) -> Mapping[str, SourceDocument]:
        return MappingProxyType({doc.id: doc for doc in self.manifest.sources})

    @cached_property
    def case_facts(self) -> Mapping[str, FactSpec]:
        return MappingProxyType({name: spec for name, spec in self.facts.items() if not spec.derived})

    @cached_property
    def derived_facts(self) -> Mapping[str, FactSpec]:
        return MappingProxyType({name: spec for name, spec in self.facts.items() if spec.derived})

    @cached_property
    def rules_by_id(self) -> Mapping[str, Rule]:
        return MappingProxyType({rule.id: rule for rule in self.rules})

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; UnknownName (a KeyError) with a suggestion if there is none."""
        try:
            return self.rules_by_id[rule_id]
        except KeyError:
            raise UnknownName("rule", rule_id, did_you_mean(rule_id, self.rules_by_id, "rules")) from None
