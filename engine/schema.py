"""JSON Schemas of the knowledge-base files, exported from the pydantic models so that an
editor with the YAML language server validates and completes files as they are typed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import (
    COMPARISON_OPERATORS,
    OPERATOR_FACT_TYPES,
    FactsFile,
    FactSpec,
    Manifest,
    Outcome,
    OutcomesFile,
    RulesFile,
    Scenario,
    SourceDocument,
)
from guidekb.engine.qa.invariants import InvariantsFile
from guidekb.engine.qa.lint import LintFile
from guidekb.engine.qa.source_coverage import ContextFile

FILE_KINDS: dict[str, type[BaseModel]] = {
    "manifest": Manifest,
    "facts": FactsFile,
    "outcomes": OutcomesFile,
    "rules": RulesFile,
    "scenario": Scenario,
    "invariants": InvariantsFile,
    "lint": LintFile,
    "context": ContextFile,
}


DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_for(kind: str) -> dict[str, Any]:
    """The static schema of one file kind: the format's structure, for any knowledge base."""
    model = FILE_KINDS[kind]
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = DIALECT
    schema["title"] = f"guidekb {kind} file"
    _as_strict_as_the_loader(schema.get("$defs", {}))
    return schema


def _as_strict_as_the_loader(definitions: dict[str, Any]) -> None:
    """What the loader refuses in structure, the schema refuses too, so an editor underlines
    it as it is typed: a fact test with no operator or with two (`Compare`), and a rule whose
    `then` does nothing (`Then`: at least one non-empty list)."""
    compare = definitions.get("Compare")
    if compare is not None:
        operators = [name for name in compare["properties"] if name != "fact"]
        compare["oneOf"] = [{"required": [op]} for op in operators]  # exactly one of them
    then = definitions.get("Then")
    if then is not None:
        then["anyOf"] = [{"required": [name], "properties": {name: {"minItems": 1}}}
                         for name in then["properties"]]


# --- per-knowledge-base schemas: the names of one knowledge base, for completion ------------

CASE_KIND = "case"
KB_FILE_KINDS: tuple[str, ...] = (*FILE_KINDS, CASE_KIND)


def kb_schemas(kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    """Every file kind's schema narrowed to `kb`: wherever a fact name, a value, a code, a
    source id, a section heading or a reference number goes, an enum of that knowledge base's
    own, so an editor completes them and underlines a misspelling as it is typed (the
    mistakes authors make most). Also the schema of a case file (`case`), which has no static
    counterpart worth the name: its keys are the fact names.

    Structure is exactly the static schema's (as strict as the loader); the enums repeat
    cross-checks the loader makes after parsing (guidekb.engine.format.checking), so the
    schemas go stale when facts, outcomes or sources change: write them again then."""
    names = _Names.of(kb)
    schemas: dict[str, dict[str, Any]] = {}
    for kind in FILE_KINDS:
        schema = schema_for(kind)
        schema["title"] = f"guidekb {kind} file of {kb.id} {kb.version}"
        _narrow(schema.get("$defs", {}), names)
        if kind == "scenario":
            schema["properties"]["case"] = {**_case_object(names), "description":
                                            schema["properties"]["case"].get("description", "")}
        schemas[kind] = schema
    schemas[CASE_KIND] = {
        "$schema": DIALECT, "title": f"guidekb case file of {kb.id} {kb.version}",
        **_case_object(names),
        "description": "A case: each fact that is known, with its value (a fact left out, or "
                       "null, is unknown: never false). E.g. `immune_status: immunocompromised`.",
    }
    return schemas


@dataclass(frozen=True)
class _Names:
    """What one knowledge base names, in the order its authors wrote them."""

    facts: Mapping[str, FactSpec]
    case_facts: Mapping[str, FactSpec]
    derived: Mapping[str, FactSpec]
    codes: Mapping[str, Outcome]
    sources: Mapping[str, SourceDocument]

    @classmethod
    def of(cls, kb: KnowledgeBase) -> _Names:
        return cls(kb.facts, kb.case_facts, kb.derived_facts, kb.outcomes, kb.documents)


def _enum(names: Iterable[Any], descriptions: Iterable[str] | None = None) -> dict[str, Any]:
    """An enum of `names`; an empty one is `not: {}` (nothing is valid: there is none to
    name), since JSON Schema asks for a non-empty enum. `enumDescriptions` (a keyword the YAML
    language server shows beside each completion) explains each name."""
    listed = list(names)
    if not listed:
        return {"not": {}}
    schema: dict[str, Any] = {"enum": listed}
    if descriptions is not None:
        schema["enumDescriptions"] = list(descriptions)
    return schema


def _fact_enum(facts: Mapping[str, FactSpec]) -> dict[str, Any]:
    return _enum(facts, [_fact_summary(spec) for spec in facts.values()])


def _fact_summary(spec: FactSpec) -> str:
    return f"{spec.description} ({_domain_words(spec)})"


def _domain_words(spec: FactSpec) -> str:
    if spec.derived:
        return "derived conclusion: true once a rule establishes it"
    if spec.type == "integer":
        unit = f" {spec.unit}" if spec.unit else ""
        return f"integer {spec.min}..{spec.max}{unit}"
    if spec.type == "boolean":
        return "true or false"
    listed = ", ".join(spec.values or [])
    return f"one of {listed}" if spec.type == "enum" else f"a list of {listed}"


def _code_enum(names: _Names) -> dict[str, Any]:
    return _enum(names.codes, [outcome.text for outcome in names.codes.values()])


def _names_list(item: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """`base` (a property holding a list of names, maybe nullable) with its items narrowed."""
    narrowed = {key: value for key, value in base.items() if key not in ("anyOf", "items", "type")}
    array = next((choice for choice in base.get("anyOf", []) if choice.get("type") == "array"), base)
    limits = {key: array[key] for key in ("minItems", "maxItems") if key in array}
    listed = {"type": "array", "items": item, **limits}
    if item.get("enum"):  # an example of this knowledge base's own, not the format's
        narrowed["examples"] = [item["enum"][: max(1, limits.get("minItems", 1))]]
    if "anyOf" in base:
        narrowed["anyOf"] = [listed, {"type": "null"}]
    else:
        narrowed.update(listed)
    return narrowed


def _name(item: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """`base` (a property holding one name, maybe nullable) narrowed to `item`."""
    kept = {key: value for key, value in base.items() if key not in ("anyOf", "type")}
    if item.get("enum"):  # an example of this knowledge base's own, not the format's
        kept["examples"] = [item["enum"][0]]
    if "anyOf" in base:
        return {**kept, "anyOf": [item, {"type": "null"}]}
    return {**kept, **item}


def _narrow(definitions: dict[str, Any], names: _Names) -> None:
    """Put the knowledge base's names into the definitions present in one file kind's schema."""

    def narrow(definition: str, key: str, item: dict[str, Any], many: bool = False) -> None:
        properties = definitions.get(definition, {}).get("properties", {})
        if key in properties:
            properties[key] = (_names_list if many else _name)(item, properties[key])

    facts, case_facts = _fact_enum(names.facts), _fact_enum(names.case_facts)
    derived, codes = _fact_enum(names.derived), _code_enum(names)
    narrow("Compare", "fact", facts)
    narrow("Known", "known", facts)
    narrow("Unknown", "unknown", case_facts)  # `unknown:` on a conclusion is refused
    narrow("Then", "derive", derived, many=True)
    narrow("Then", "recommend", codes, many=True)
    narrow("Prohibition", "code", codes)
    for expectation in ("recommended", "not_recommended", "forbidden", "not_forbidden"):
        narrow("Expectations", expectation, codes, many=True)
    for expectation in ("derived", "not_derived"):
        narrow("Expectations", expectation, derived, many=True)
    narrow("FlowchartSettings", "question_order", case_facts, many=True)
    narrow("PathwayStage", "conclusions", derived, many=True)
    narrow("PathwayStage", "questions", case_facts, many=True)
    for definition in ("CodesWhen", "Monotone"):
        narrow(definition, "code", codes)
        narrow(definition, "codes", codes, many=True)
    narrow("Requires", "code", codes)
    narrow("Requires", "also", codes)
    narrow("NeverBoth", "codes", codes, many=True)
    narrow("Monotone", "fact", case_facts)
    narrow("ContextNote", "source", _enum(names.sources, [d.title for d in names.sources.values()]))
    if "Compare" in definitions:
        definitions["Compare"]["allOf"] = [_fact_test(name, spec) for name, spec in names.facts.items()]
    if "Provenance" in definitions:
        _provenance(definitions["Provenance"], names)


def _fact_test(name: str, spec: FactSpec) -> dict[str, Any]:
    """`if fact: NAME then ...`: the operators that may test this fact (the others are
    refused, as the loader refuses them) and, where the value goes, the fact's own domain, so
    `equals:` completes the values of the fact named above it."""
    allowed = {op for op, types in OPERATOR_FACT_TYPES.items() if spec.type in types}
    value: dict[str, Any]
    if spec.derived:  # a conclusion is only ever true: `equals: true` (or `known:`)
        allowed, value = {"equals"}, {"const": True}
    elif spec.type == "boolean":
        value = {"type": "boolean"}
    elif spec.type == "integer":
        value = {"type": "integer", "minimum": spec.min, "maximum": spec.max}
    else:
        value = _enum(spec.values or [])
    operators: dict[str, Any] = {}
    for op in COMPARISON_OPERATORS:
        if op not in allowed:
            operators[op] = False
        elif op == "in":
            operators[op] = {"type": "array", "minItems": 1, "items": value}
        else:
            operators[op] = value
    return {"if": {"properties": {"fact": {"const": name}}, "required": ["fact"]},
            "then": {"properties": operators}}


def _provenance(definition: dict[str, Any], names: _Names) -> None:
    """Source ids, and per source its section headings and reference numbers (`if source:
    X then section: one of X's headings`); the section enum alone is every source's."""
    properties = definition["properties"]
    documents = names.sources
    properties["source"] = _name(_enum(documents, [d.title for d in documents.values()]),
                                 properties["source"])
    headings = list(dict.fromkeys(s for d in documents.values() for s in d.sections))
    properties["section"] = _name(_enum(headings), properties["section"])
    definition["allOf"] = [{
        "if": {"properties": {"source": {"const": source_id}}, "required": ["source"]},
        "then": {"properties": {"section": _enum(document.sections),
                                "refs": {"type": "array", "items": _enum(sorted(document.references))}}},
    } for source_id, document in documents.items()]


def _case_object(names: _Names) -> dict[str, Any]:
    """A case: the case facts as keys (a conclusion is refused, as the loader refuses it),
    each with its domain or null (unknown), described by its description and question."""
    properties: dict[str, Any] = {}
    for name, spec in names.case_facts.items():
        value: dict[str, Any]
        example: Any
        if spec.type == "boolean":
            value, example = {"type": ["boolean", "null"]}, True
        elif spec.type == "integer":
            value = {"type": ["integer", "null"], "minimum": spec.min, "maximum": spec.max}
            example = spec.min
        elif spec.type == "enum":
            value, example = {"enum": [*(spec.values or []), None]}, (spec.values or [""])[0]
        else:
            value = {"type": ["array", "null"], "uniqueItems": True,
                     "items": _enum(spec.values or [])}
            example = (spec.values or [])[:1]
        question = f" Asked as: {spec.question}" if spec.question else ""
        properties[name] = {**value, "description": f"{spec.description}{question} "
                            f"({_domain_words(spec)}; null or left out: unknown)",
                            "examples": [example]}
    return {"type": "object", "additionalProperties": False, "properties": properties}
