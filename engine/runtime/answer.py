"""The answer to a case, in the JSON shape fixed by the HSV contract (keys may be added)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def show_value(value: Any) -> str:
    """A fact's value as YAML would write it: `true`, `[hiv, other]`, `10`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


class SourcePassage(BaseModel):
    """A verified passage of a source. Frozen: one instance per rule is shared by every answer."""

    model_config = ConfigDict(frozen=True)

    source: str
    section: str
    quote: str
    refs: list[int] = Field(default_factory=list)


class Step(BaseModel):
    """One rule of a chain: what it read, what it concluded, and why the source says so."""

    rule: str
    title: str
    facts: dict[str, Any] = Field(description="case facts the rule tested that were known")
    uses: list[str] = Field(default_factory=list, description="conclusions the rule relied on")
    concludes: list[str] = Field(default_factory=list)
    provenance: list[SourcePassage]


class _Verdict(BaseModel):
    """What recommendations and prohibitions share: the code, the rule that produced it, the
    chain back to the case facts and the source passages of that rule."""

    code: str
    text: str
    rule: str
    because: list[str] = Field(description="rule ids and case facts that led here, deepest first")
    provenance: list[SourcePassage]
    also_by: list[str] = Field(default_factory=list, description="other rules with the same verdict")
    chain: list[Step] = Field(default_factory=list)


class Recommendation(_Verdict):
    details: dict[str, str] = Field(default_factory=dict, description="dose, route, frequency, duration")


class Prohibition(_Verdict):
    reason: str


class Derivation(BaseModel):
    fact: str
    value: bool
    rule: str
    because: list[str] = Field(default_factory=list)
    provenance: list[SourcePassage] = Field(default_factory=list)


class Conflict(BaseModel):
    """A code both recommended and forbidden: the prohibition wins, and the clash is shown."""

    code: str
    recommended_by: str
    forbidden_by: str
    resolution: str = "forbidden: a prohibition beats a recommendation of the same code"


class KbRef(BaseModel):
    id: str
    version: str


class Answer(BaseModel):
    kb: KbRef
    case: dict[str, Any]
    recommendations: list[Recommendation]
    prohibitions: list[Prohibition]
    derived: list[Derivation]
    conflicts: list[Conflict]
    fired: list[str] = Field(default_factory=list, description="every rule that fired, in KB order")

    def recommended_codes(self) -> list[str]:
        return [r.code for r in self.recommendations]

    def forbidden_codes(self) -> list[str]:
        return [p.code for p in self.prohibitions]

    def derived_facts(self) -> list[str]:
        return [d.fact for d in self.derived]
