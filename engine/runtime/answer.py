"""The answer to a case, in the JSON shape fixed by the HSV contract (keys may be added).

Answers are immutable and share nothing mutable: every model is frozen and every sequence is a
tuple (JSON arrays all the same), so a caller changing one answer cannot change another, or the
source passages the engine hands to every answer. The mappings (`case`, a step's `facts`, a
recommendation's `details`) are each answer's own copies.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def show_value(value: Any) -> str:
    """A fact's value as YAML would write it: `true`, `[hiv, other]`, `10`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class SourcePassage(_Frozen):
    """A verified passage of a source. One instance per rule is shared by every answer."""

    source: str
    section: str
    quote: str
    refs: tuple[int, ...] = ()


class Step(_Frozen):
    """One rule of a chain: what it read, what it concluded, and why the source says so."""

    rule: str
    title: str
    facts: dict[str, Any] = Field(description="case facts the rule tested that were known")
    uses: tuple[str, ...] = Field(default=(), description="conclusions the rule relied on")
    concludes: tuple[str, ...] = ()
    provenance: tuple[SourcePassage, ...]


class _Verdict(_Frozen):
    """What recommendations and prohibitions share: the code, the rule that produced it, the
    chain back to the case facts and the source passages of that rule."""

    code: str
    text: str
    rule: str
    because: tuple[str, ...] = Field(description="rule ids and case facts that led here, deepest first")
    provenance: tuple[SourcePassage, ...]
    also_by: tuple[str, ...] = Field(default=(), description="other rules with the same verdict")
    chain: tuple[Step, ...] = ()


class Recommendation(_Verdict):
    details: dict[str, str] = Field(default_factory=dict, description="dose, route, frequency, duration")


class Prohibition(_Verdict):
    reason: str


class Derivation(_Frozen):
    fact: str
    value: bool
    rule: str
    because: tuple[str, ...] = ()
    provenance: tuple[SourcePassage, ...] = ()


class Conflict(_Frozen):
    """A code both recommended and forbidden: the prohibition wins, and the clash is shown."""

    code: str
    recommended_by: str
    forbidden_by: str
    resolution: str = "forbidden: a prohibition beats a recommendation of the same code"


class KbRef(_Frozen):
    id: str
    version: str


class Answer(_Frozen):
    kb: KbRef
    case: dict[str, Any]
    recommendations: tuple[Recommendation, ...]
    prohibitions: tuple[Prohibition, ...]
    derived: tuple[Derivation, ...]
    conflicts: tuple[Conflict, ...]
    fired: tuple[str, ...] = Field(default=(), description="every rule that fired, in KB order")

    @field_validator("case")
    @classmethod
    def _own_copy(cls, case: dict[str, Any]) -> dict[str, Any]:
        return cls.own_copy(case)

    @staticmethod
    def own_copy(case: dict[str, Any]) -> dict[str, Any]:
        """The answer's own copy of the case, lists included, so nothing is shared with the
        caller's mapping (also used by answer assembly, which constructs without validating)."""
        return {name: list(value) if isinstance(value, list) else value for name, value in case.items()}

    def recommended_codes(self) -> list[str]:
        return [r.code for r in self.recommendations]

    def forbidden_codes(self) -> list[str]:
        return [p.code for p in self.prohibitions]

    def derived_facts(self) -> list[str]:
        return [d.fact for d in self.derived]

