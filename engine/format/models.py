"""The knowledge-base format as pydantic v2 models: the single definition of what is valid.

The JSON Schema that editors use (`guidekb schema`) is exported from these same models, so the
schema and the loader cannot disagree. Cross-references (a rule naming a fact, a code or a
source) are checked after parsing, in `guidekb.engine.format.checking`, where every file is known.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    model_validator,
)

NAME_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"

Name = Annotated[str, Field(pattern=NAME_PATTERN, description="snake_case identifier")]
Scalar = StrictBool | StrictInt | StrictStr


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt key must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- sources and manifest -------------------------------------------------------------------


class Reference(Strict):
    """One entry of a source document's own numbered reference list."""

    title: str | None = None
    kind: str | None = Field(None, description="e.g. Guideline, Research")
    publisher: str | None = None
    year: int | None = None
    listed: bool = Field(
        True,
        description="false when the article cites this number but its published reference "
        "list has no entry for it; the number is then valid but flagged",
    )
    note: str | None = None


class SourceDocument(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: str
    publisher: str
    date: dt.date = Field(description="date of the version cited (last updated)")
    file: str = Field(description="path of the verbatim text, relative to the knowledge base")
    url: str | None = None
    sections: list[str] = Field(
        min_length=1,
        description="section headings in document order; each must appear as a line of the text",
    )
    references: dict[int, Reference] = Field(default_factory=dict)


class FlowchartSettings(Strict):
    question_order: list[str] = Field(
        default_factory=list, description="facts asked first in the decision flowchart, in order"
    )


class PathwayStage(Strict):
    """One stage of the clinical pathway the flowcharts follow (`pathway.stages`): a conclusion
    the rules draw, or a named group of them, and the questions asked in it, in order."""

    stage: Name = Field(
        description="a conclusion the rules draw (a derived fact), or the name of a group of "
        "conclusions listed under 'conclusions'"
    )
    title: str | None = Field(
        None, description="the stage's heading on the charts (default: its name in words)"
    )
    conclusions: list[Name] | None = Field(
        None,
        description="for a named group: the conclusions it gathers; an empty list is the stage "
        "before any conclusion (the first assessment)",
    )
    questions: list[Name] = Field(
        default_factory=list, description="case facts asked in this stage, in the order to ask them"
    )


class Pathway(Strict):
    """The clinical pathway as the author states it: its stages in order. Without it the
    flowcharts derive one from the rule graph."""

    stages: list[PathwayStage] = Field(
        min_length=1, description="the stages, in the order a clinician reasons"
    )


class Manifest(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: str
    version: str
    description: str | None = None
    authors: list[str] = Field(min_length=1)
    sources: list[SourceDocument] = Field(min_length=1)
    flowchart: FlowchartSettings = Field(default_factory=FlowchartSettings)
    pathway: Pathway | None = Field(None, description="the clinical pathway the flowcharts follow")


# --- fact vocabulary ------------------------------------------------------------------------


class FactSpec(Strict):
    """A case fact (input) or a derived conclusion (set by rules only, always boolean)."""

    type: Literal["boolean", "enum", "integer", "enum_list"]
    description: str
    values: list[str] | None = Field(None, description="domain of enum and enum_list facts")
    min: int | None = None
    max: int | None = None
    unit: str | None = None
    question: str | None = Field(None, description="how the flowchart asks for this fact")
    derived: bool = Field(False, description="set by rules, never by a case")

    @model_validator(mode="after")
    def _domain_matches_type(self) -> FactSpec:
        if self.type in ("enum", "enum_list"):
            if not self.values:
                raise ValueError(f"a fact of type {self.type} needs a non-empty 'values' list")
            if len(set(self.values)) != len(self.values):
                raise ValueError("'values' lists the same value twice")
        elif self.values is not None:
            raise ValueError(f"'values' is only for enum and enum_list facts, not {self.type}")
        if self.type == "integer":
            if self.min is None or self.max is None:
                raise ValueError("an integer fact needs both 'min' and 'max'")
            if self.min > self.max:
                raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max})")
        elif self.min is not None or self.max is not None or self.unit is not None:
            raise ValueError("'min', 'max' and 'unit' are only for integer facts")
        if self.derived and self.type != "boolean":
            raise ValueError("a derived fact is a conclusion and must be of type boolean")
        return self


class FactsFile(Strict):
    facts: dict[Name, FactSpec]


# --- outcome catalogue ----------------------------------------------------------------------


class Outcome(Strict):
    """A code a rule can recommend or forbid, with the details the source gives."""

    text: str
    dose: str | None = None
    route: str | None = None
    frequency: str | None = None
    duration: str | None = None


class OutcomesFile(Strict):
    outcomes: dict[Name, Outcome]


# --- conditions -----------------------------------------------------------------------------


class AllOf(Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Strict):
    any: list[Condition] = Field(min_length=1)


class Not(Strict):
    not_: Condition = Field(alias="not")


class Known(Strict):
    known: str


class Always(Strict):
    """A condition that always holds: for statements that apply to every case."""

    always: Literal[True]


class Unknown(Strict):
    unknown: str


COMPARISON_OPERATORS = ("equals", "in", "lt", "le", "gt", "ge", "contains")

# The fact types each operator may test (the loader rejects the rest); what each operator
# means is defined once in guidekb.engine.semantics.operators.
OPERATOR_FACT_TYPES: dict[str, tuple[str, ...]] = {
    "equals": ("boolean", "enum", "integer"),
    "in": ("boolean", "enum", "integer"),
    "lt": ("integer",),
    "le": ("integer",),
    "gt": ("integer",),
    "ge": ("integer",),
    "contains": ("enum_list",),
}


class Compare(Strict):
    """A test of one fact. It is true or false only when the fact is known."""

    fact: str
    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(None, alias="in", min_length=1)
    lt: StrictInt | None = None
    le: StrictInt | None = None
    gt: StrictInt | None = None
    ge: StrictInt | None = None
    contains: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_operator(cls, data: Any) -> Any:
        if isinstance(data, dict):
            used = [op for op in COMPARISON_OPERATORS if op in data]
            if len(used) != 1:
                got = ", ".join(used) if used else "none"
                raise ValueError(
                    f"a test of fact '{data.get('fact')}' needs exactly one of "
                    f"{', '.join(COMPARISON_OPERATORS)} (got {got})"
                )
            if data[used[0]] is None:  # `equals: null` tests nothing (and broke `operator`)
                raise ValueError(
                    f"a test of fact '{data.get('fact')}' compares with null; to test that the "
                    f"fact is not given, write 'unknown: {data.get('fact')}'"
                )
        return data

    @property
    def operator(self) -> str:
        for op in COMPARISON_OPERATORS:
            if getattr(self, "in_" if op == "in" else op) is not None:
                return op
        raise AssertionError("validated Compare has an operator")

    @property
    def operand(self) -> Any:
        op = self.operator
        return getattr(self, "in_" if op == "in" else op)


CONDITION_TAGS = ("all", "any", "not", "known", "unknown", "fact", "always")


def _condition_tag(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in CONDITION_TAGS:
            if key in data:
                return key
        return None
    if isinstance(data, BaseModel):
        return {AllOf: "all", AnyOf: "any", Not: "not", Known: "known", Unknown: "unknown",
                Compare: "fact", Always: "always"}.get(type(data))
    return None


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Known, Tag("known")]
    | Annotated[Unknown, Tag("unknown")]
    | Annotated[Compare, Tag("fact")]
    | Annotated[Always, Tag("always")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition needs one of the keys all, any, not, known, unknown, "
        "fact or always",
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


# --- rules ----------------------------------------------------------------------------------


class Provenance(Strict):
    source: str
    section: str
    quote: str = Field(min_length=1, description="verbatim text of the source (whitespace and "
                       "typographic quotes/dashes may differ)")
    refs: list[int] = Field(default_factory=list, description="the article's own reference numbers")


class Prohibition(Strict):
    code: str
    reason: str


class Then(Strict):
    derive: list[str] = Field(default_factory=list, description="derived facts this rule sets true")
    recommend: list[str] = Field(default_factory=list)
    forbid: list[Prohibition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _does_something(self) -> Then:
        if not (self.derive or self.recommend or self.forbid):
            raise ValueError("'then' must derive, recommend or forbid something")
        return self


class Rule(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: str
    when: Condition
    then: Then
    provenance: list[Provenance] = Field(min_length=1)
    interpretation: str | None = Field(
        None, description="how the rule reads the source where the source leaves a point open"
    )


class RulesFile(Strict):
    rules: list[Rule]


# --- scenarios ------------------------------------------------------------------------------


class Expectations(Strict):
    recommended: list[str] = Field(default_factory=list)
    not_recommended: list[str] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    not_forbidden: list[str] = Field(default_factory=list)
    derived: list[str] = Field(default_factory=list)
    not_derived: list[str] = Field(default_factory=list)


class Scenario(Strict):
    """A case and what the knowledge base must answer for it."""

    description: str
    case: dict[str, Any] = Field(default_factory=dict)
    expect: Expectations


# Models whose keys an author writes, for did-you-mean on unknown keys.
FORMAT_MODELS: tuple[type[BaseModel], ...] = (
    Reference, SourceDocument, FlowchartSettings, Manifest, FactSpec, FactsFile, Outcome,
    OutcomesFile, AllOf, AnyOf, Not, Known, Unknown, Always, Compare, Provenance, Prohibition, Then, Rule,
    RulesFile, Expectations, Scenario,
)
