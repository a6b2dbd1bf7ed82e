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

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


# --- sources and manifest -------------------------------------------------------------------


class Reference(Strict):
    """One entry of a source document's own numbered reference list."""

    title: str | None = Field(None, description="the cited work's title",
                              examples=["Treatment for Recurrent Genital Herpes"])
    kind: str | None = Field(None, description="what sort of work it is", examples=["Guideline"])
    publisher: str | None = Field(None, description="who published the cited work", examples=["CDC"])
    year: StrictInt | None = Field(None, description="year of publication", examples=[2021])
    listed: StrictBool = Field(
        True,
        description="false when the article cites this number but its published reference "
        "list has no entry for it; the number is then valid but flagged",
        examples=[False],
    )
    note: str | None = Field(None, description="anything a reader should know about this entry",
                             examples=["cited in the text; the published list stops at 3"])


class SourceDocument(Strict):
    """A source document the rules quote: its verbatim text lives in `file`."""

    id: str = Field(pattern=ID_PATTERN, description="the id rules cite as `source:`",
                    examples=["cold-sores-next-step"])
    title: str = Field(description="the document's title", examples=["Persistent cold sores"])
    publisher: str = Field(description="who published it", examples=["Example medical board"])
    date: dt.date = Field(description="date of the version cited (last updated)",
                          examples=["2025-12-11"])
    file: str = Field(description="path of the verbatim text, relative to the knowledge base",
                      examples=["sources/cold-sores.txt"])
    url: str | None = Field(None, description="where the document is published",
                            examples=["https://example.org/cold-sores"])
    sections: list[str] = Field(
        min_length=1,
        description="section headings in document order; each must appear as a line of the text",
        examples=[["Recommendations", "Cautions"]],
    )
    references: dict[int, Reference] = Field(
        default_factory=dict, description="the document's own numbered reference list, by "
        "number; provenance `refs` cite these numbers", examples=[{1: {"title": "Guideline"}}])


class FlowchartSettings(Strict):
    question_order: list[str] = Field(
        default_factory=list, description="facts asked first in the decision flowchart, in order",
        examples=[["immune_status", "days_on_therapy"]],
    )


class PathwayStage(Strict):
    """One stage of the clinical pathway the flowcharts follow (`pathway.stages`): a conclusion
    the rules draw, or a named group of them, and the questions asked in it, in order."""

    stage: Name = Field(
        description="a conclusion the rules draw (a derived fact), or the name of a group of "
        "conclusions listed under 'conclusions'",
        examples=["resistance_suspected"],
    )
    title: str | None = Field(
        None, description="the stage's heading on the charts (default: its name in words)",
        examples=["Treatment failure"],
    )
    conclusions: list[Name] | None = Field(
        None,
        description="for a named group: the conclusions it gathers; an empty list is the stage "
        "before any conclusion (the first assessment)",
        examples=[["resistance_suspected", "resistance_confirmed"]],
    )
    questions: list[Name] = Field(
        default_factory=list, description="case facts asked in this stage, in the order to ask them",
        examples=[["on_foscarnet", "renal_impairment"]],
    )


class Pathway(Strict):
    """The clinical pathway as the author states it: its stages in order. Without it the
    flowcharts derive one from the rule graph."""

    stages: list[PathwayStage] = Field(
        min_length=1, description="the stages, in the order a clinician reasons"
    )


class Manifest(Strict):
    """The knowledge base: its id, version, authors and the source documents its rules cite."""

    id: str = Field(pattern=ID_PATTERN, description="the knowledge base's id, shown with every "
                    "answer", examples=["hsv-resistance"])
    title: str = Field(description="what the knowledge base covers",
                       examples=["Antiviral-resistant herpes simplex"])
    version: str = Field(description="its version, shown with every answer", examples=["0.1.0"])
    description: str | None = Field(None, description="a paragraph on scope and intended use",
                                    examples=["Encodes two articles on suspected resistance."])
    authors: list[str] = Field(min_length=1, description="who wrote the rules",
                               examples=[["A. Author"]])
    sources: list[SourceDocument] = Field(min_length=1, description="the documents the rules "
                                          "quote, each with its verbatim text and headings")
    flowchart: FlowchartSettings = Field(default_factory=FlowchartSettings,
                                         description="how the flowcharts are drawn")
    pathway: Pathway | None = Field(None, description="the clinical pathway the flowcharts follow")


# --- fact vocabulary ------------------------------------------------------------------------


class FactSpec(Strict):
    """A case fact (input) or a derived conclusion (set by rules only, always boolean)."""

    type: Literal["boolean", "enum", "integer", "enum_list"] = Field(
        description="boolean (true/false), enum (one of `values`), enum_list (a list of "
        "`values`) or integer (from `min` to `max`)", examples=["enum"])
    description: str = Field(description="what the fact means, for the people reading rules "
                             "and answers", examples=["Immune status of the patient."])
    values: list[str] | None = Field(None, description="domain of enum and enum_list facts",
                                     examples=[["immunocompetent", "immunocompromised"]])
    min: StrictInt | None = Field(None, description="smallest value of an integer fact", examples=[0])
    max: StrictInt | None = Field(None, description="largest value of an integer fact", examples=[365])
    unit: str | None = Field(None, description="unit of an integer fact", examples=["days"])
    question: str | None = Field(None, description="how the flowchart asks for this fact",
                                 examples=["Is the patient immunocompromised?"])
    derived: StrictBool = Field(False, description="set by rules, never by a case (a conclusion, "
                          "always boolean)", examples=[True])

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
    """The fact vocabulary: what a case may tell and what rules conclude."""

    facts: dict[Name, FactSpec] = Field(description="each fact by its snake_case name",
                                        examples=[{"dose_adequate": {"type": "boolean",
                                                   "description": "The dose is adequate."}}])


# --- outcome catalogue ----------------------------------------------------------------------


class Outcome(Strict):
    """A code a rule can recommend or forbid, with the details the source gives."""

    text: str = Field(description="what the clinician is told", examples=["Start IV foscarnet."])
    dose: str | None = Field(None, description="dose, as the source gives it", examples=["40 mg/kg"])
    route: str | None = Field(None, description="route of administration", examples=["IV"])
    frequency: str | None = Field(None, description="how often", examples=["every 8 hours"])
    duration: str | None = Field(None, description="for how long", examples=["until healed"])


class OutcomesFile(Strict):
    """The codes rules may recommend or forbid."""

    outcomes: dict[Name, Outcome] = Field(description="each code by its snake_case name",
                                          examples=[{"iv_foscarnet": {"text": "Start IV foscarnet."}}])


# --- conditions -----------------------------------------------------------------------------


class AllOf(Strict):
    """True when every condition is true; false when one is false; else unknown."""

    all: list[Condition] = Field(min_length=1, description="conditions that must all hold",
                                 examples=[[{"fact": "dose_adequate", "equals": True},
                                            {"fact": "adherent", "equals": True}]])


class AnyOf(Strict):
    """True when one condition is true; false when every one is false; else unknown."""

    any: list[Condition] = Field(min_length=1, description="conditions of which one must hold",
                                 examples=[[{"fact": "hsv_site", "equals": "genital"},
                                            {"fact": "lesions_atypical", "equals": True}]])


class Not(Strict):
    """True when the condition is false; unknown stays unknown."""

    not_: Condition = Field(alias="not", description="the condition that must be false",
                            examples=[{"fact": "adherent", "equals": True}])


class Known(Strict):
    """True when the case gives the fact (whatever its value)."""

    known: str = Field(description="a fact name: true when the case gives it",
                       examples=["susceptibility_result"])


class Always(Strict):
    """A condition that always holds: for statements that apply to every case."""

    always: Literal[True] = Field(description="write `always: true` for a rule that applies to "
                                  "every case", examples=[True])


class Unknown(Strict):
    """True when the case does not give the fact."""

    unknown: str = Field(description="a case fact name: true when the case leaves it out",
                         examples=["dose_adequate"])


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

    fact: str = Field(description="the fact tested; write exactly one operator beside it",
                      examples=["immune_status"])
    equals: Scalar | None = Field(None, description="true when the fact has this value",
                                  examples=["immunocompromised"])
    in_: list[Scalar] | None = Field(None, alias="in", min_length=1, description="true when "
                                     "the fact has one of these values",
                                     examples=[["genital", "orolabial"]])
    lt: StrictInt | None = Field(None, description="integer fact below this", examples=[7])
    le: StrictInt | None = Field(None, description="integer fact at most this", examples=[10])
    gt: StrictInt | None = Field(None, description="integer fact above this", examples=[10])
    ge: StrictInt | None = Field(None, description="integer fact at least this", examples=[7])
    contains: StrictStr | None = Field(None, description="enum_list fact holding this value",
                                       examples=["hiv"])

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
    """Where the source says it: checked at load time to be verbatim in that section."""

    source: str = Field(description="the id of a source in manifest.yaml",
                        examples=["persistent-cold-sores-next-step"])
    section: str = Field(description="the heading of the section the quote is in (one of the "
                         "source's `sections`)", examples=["Monitoring During Foscarnet Therapy"])
    quote: str = Field(min_length=1, description="verbatim text of the source (whitespace and "
                       "typographic quotes/dashes may differ)",
                       examples=["Monitor renal function at initiation"])
    refs: list[StrictInt] = Field(default_factory=list, description="the article's own reference numbers",
                            examples=[[1, 2]])


class Prohibition(Strict):
    """A code that must not be given, and why."""

    code: str = Field(description="a code of outcomes.yaml", examples=["famciclovir"])
    reason: str = Field(description="why not, shown with the prohibition",
                        examples=["Cross-resistance with acyclovir."])


class Then(Strict):
    derive: list[str] = Field(default_factory=list, description="derived facts this rule sets true",
                              examples=[["resistance_suspected"]])
    recommend: list[str] = Field(default_factory=list, description="codes (outcomes.yaml) this "
                                 "rule recommends", examples=[["iv_foscarnet"]])
    forbid: list[Prohibition] = Field(default_factory=list, description="codes this rule "
                                      "forbids, each with its reason",
                                      examples=[[{"code": "famciclovir", "reason": "cross-resistant"}]])

    @model_validator(mode="after")
    def _does_something(self) -> Then:
        if not (self.derive or self.recommend or self.forbid):
            raise ValueError("'then' must derive, recommend or forbid something")
        return self


class Rule(Strict):
    """When `when` holds, `then` applies; `provenance` quotes the source that says so."""

    id: str = Field(pattern=ID_PATTERN, description="unique id, shown in every rule chain",
                    examples=["no-famciclovir-when-suspected"])
    title: str = Field(description="one line saying what the rule does",
                       examples=["Do not switch to famciclovir for suspected resistance"])
    when: Condition = Field(description="the condition: a fact test, all/any/not, known/unknown "
                            "or always", examples=[{"fact": "resistance_suspected", "equals": True}])
    then: Then = Field(description="what follows: derive, recommend and/or forbid",
                       examples=[{"recommend": ["iv_foscarnet"]}])
    provenance: list[Provenance] = Field(min_length=1, description="the source passages that "
                                         "justify the rule")
    interpretation: str | None = Field(
        None, description="how the rule reads the source where the source leaves a point open",
        examples=["'Failure to improve' is read as no resolution within 7 days."],
    )


class RulesFile(Strict):
    """A file of rules (rules/*.yaml)."""

    rules: list[Rule] = Field(description="the rules of this file")


# --- scenarios ------------------------------------------------------------------------------


class Expectations(Strict):
    """What the answer must (not) contain; anything not listed is not checked."""

    recommended: list[str] = Field(default_factory=list, description="codes that must be "
                                   "recommended", examples=[["iv_foscarnet"]])
    not_recommended: list[str] = Field(default_factory=list, description="codes that must not "
                                       "be recommended", examples=[["famciclovir"]])
    forbidden: list[str] = Field(default_factory=list, description="codes that must be "
                                 "forbidden", examples=[["famciclovir"]])
    not_forbidden: list[str] = Field(default_factory=list, description="codes that must not be "
                                     "forbidden", examples=[["iv_foscarnet"]])
    derived: list[str] = Field(default_factory=list, description="derived facts that must be "
                               "concluded", examples=[["resistance_suspected"]])
    not_derived: list[str] = Field(default_factory=list, description="derived facts that must "
                                   "not be concluded", examples=[["resistance_confirmed"]])


class Scenario(Strict):
    """A case and what the knowledge base must answer for it."""

    description: str = Field(description="what the scenario checks, in one sentence",
                             examples=["Confirmed resistance forbids famciclovir."])
    case: dict[str, Any] = Field(default_factory=dict, description="the case: each known fact "
                                 "and its value (left out: unknown)",
                                 examples=[{"immune_status": "immunocompromised"}])
    expect: Expectations = Field(description="what the answer must (not) contain")


# Models whose keys an author writes, for did-you-mean on unknown keys.
FORMAT_MODELS: tuple[type[BaseModel], ...] = (
    Reference, SourceDocument, FlowchartSettings, Manifest, FactSpec, FactsFile, Outcome,
    OutcomesFile, AllOf, AnyOf, Not, Known, Unknown, Always, Compare, Provenance, Prohibition, Then, Rule,
    RulesFile, Expectations, Scenario,
)
