"""Case files (YAML or JSON, one mapping of facts) validated against the fact vocabulary.

An absent fact, or one given as null, is unknown. Every wrong fact or value is reported with
the fact, the value and what is allowed, located in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from guidekb.engine.errors import (
    CASE_NOT_A_MAPPING,
    DERIVED_FACT_IN_CASE,
    UNKNOWN_CASE_FACT,
    VALUE_NOT_ALLOWED,
    CaseError,
    CaseProblem,
    ErrorCode,
    Problem,
)
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import FactSpec
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.format.yamlsource import CASE_LIMITS, YamlDocument, load_yaml, parse_yaml


def load_case(path: Path | str, kb: KnowledgeBase) -> dict[str, Any]:
    """Read and validate one case file; raises CaseError listing every problem."""
    doc, problems = load_yaml(Path(path), CASE_LIMITS)
    return _validated(doc, problems, kb)


def parse_case(text: str, kb: KnowledgeBase, name: str = "<case>") -> dict[str, Any]:
    doc, problems = parse_yaml(text, name, CASE_LIMITS)
    return _validated(doc, problems, kb)


def _validated(doc: YamlDocument, problems: list[Problem], kb: KnowledgeBase) -> dict[str, Any]:
    if problems:
        raise CaseError(problems)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise CaseError([replace(doc.problem((), "a case is a mapping of fact names to values",
                                             "for example:  immune_status: immunocompromised"),
                                 code=CASE_NOT_A_MAPPING)])
    return validate_case(doc.data, kb, doc)


def validate_case(facts: Mapping[str, Any], kb: KnowledgeBase,
                  doc: YamlDocument | None = None) -> dict[str, Any]:
    """The case with unknown (null) facts dropped; raises CaseError on any invalid fact.

    The one check every way into the engine goes through (case files, scenarios, the Python
    API): a fact the knowledge base does not have, a conclusion given as a fact, or a value
    outside the fact's domain (a string for an integer, a boolean for an integer, an integer
    out of range, a value not in the list) is an error naming the fact, the value and what
    is allowed, never a silent wrong answer.
    """
    problems: list[Problem] = []
    details: list[CaseProblem] = []
    case: dict[str, Any] = {}

    def report(key: Any, code: ErrorCode, value: Any, allowed_here: str, message: str, hint: str) -> None:
        if doc is not None:
            # replace(), not a keyword: documents may override problem() (scenarios do)
            problems.append(replace(doc.problem((key,), message, hint), code=code))
        else:
            problems.append(Problem("<case>", 1, 1, message, hint, code=code, path=str(key),
                                    where=f"fact {key}"))
        details.append(CaseProblem(str(key), value, allowed_here, code))

    for name, value in facts.items():
        spec = kb.facts.get(name) if isinstance(name, str) else None
        if spec is None:
            report(name, UNKNOWN_CASE_FACT, None, f"one of the case facts of {kb.id}",
                   f"unknown fact '{name}'", did_you_mean(str(name), kb.case_facts, "facts"))
        elif spec.derived:
            report(name, DERIVED_FACT_IN_CASE, value, "not given in a case: the rules derive it",
                   f"'{name}' is a conclusion the rules derive, not a case fact",
                   "remove it: give the facts it is derived from instead")
        elif value is not None:
            error = value_error(name, spec, value)
            if error:
                report(name, VALUE_NOT_ALLOWED, value, allowed(spec), *error)
            else:
                case[name] = list(value) if isinstance(value, list) else value
    if problems:
        raise CaseError(problems, details)
    return case


def allowed(spec: FactSpec) -> str:
    if spec.type == "boolean":
        return "true or false"
    if spec.type == "integer":
        unit = f" ({spec.unit})" if spec.unit else ""
        return f"an integer from {spec.min} to {spec.max}{unit}"
    values = ", ".join(spec.values or [])
    return f"a list of: {values}" if spec.type == "enum_list" else f"one of: {values}"


_YAML11_BOOLEANS = frozenset({"yes", "no", "y", "n", "on", "off"})  # text since YAML 1.2


def value_error(name: str, spec: FactSpec, value: Any) -> tuple[str, str] | None:
    """(message, hint) when `value` is not in the domain of fact `name`, else None.

    On the hot path of every evaluation: the accepted cases return before any message is built.
    """
    kind = spec.type
    if kind == "boolean":
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.lower() in _YAML11_BOOLEANS:
            written = "true" if value.lower() in ("yes", "y", "on") else "false"
            return (f"fact '{name}': value {value!r} is not allowed",
                    f"allowed: true or false; '{value}' is text in guidekb (YAML 1.2): write {written}")
    elif kind == "integer":
        if (not isinstance(value, bool) and isinstance(value, int) and spec.min is not None
                and spec.max is not None and spec.min <= value <= spec.max):
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return (f"fact '{name}': value {value!r} is not allowed",
                    f"allowed: {allowed(spec)}; {value!r} is text, not a number: write {value.strip()} "
                    "without quotes")
    elif kind == "enum":
        domain = spec.values or []
        if isinstance(value, str) and value in domain:
            return None
        if isinstance(value, str):
            best = did_you_mean(value, domain, "values")
            if best.startswith("did you mean"):
                return f"fact '{name}': value {value!r} is not allowed", f"{best} allowed: {allowed(spec)}"
    else:
        return _list_error(name, spec, value)
    return f"fact '{name}': value {value!r} is not allowed", f"allowed: {allowed(spec)}"


def _list_error(name: str, spec: FactSpec, value: Any) -> tuple[str, str] | None:
    domain = spec.values or []
    if not isinstance(value, list):
        return (f"fact '{name}': value {value!r} is not allowed",
                f"allowed: {allowed(spec)} (write a YAML list, e.g. [{domain[0]}])")
    wrong = [v for v in value if not isinstance(v, str) or v not in domain]
    if wrong:
        return (f"fact '{name}': value {wrong[0]!r} is not allowed in the list",
                f"allowed: {allowed(spec)}")
    if len(set(value)) != len(value):
        return f"fact '{name}': the list names a value twice", "list each value once"
    return None
