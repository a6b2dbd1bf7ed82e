"""Case files (YAML or JSON, one mapping of facts) validated against the fact vocabulary.

An absent fact, or one given as null, is unknown. Every wrong fact or value is reported with
the fact, the value and what is allowed, located in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from guidekb.engine.errors import CaseError, Problem
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import FactSpec
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.format.yamlsource import YamlDocument, load_yaml, parse_yaml


def load_case(path: Path | str, kb: KnowledgeBase) -> dict[str, Any]:
    """Read and validate one case file; raises CaseError listing every problem."""
    doc, problems = load_yaml(Path(path))
    return _validated(doc, problems, kb)


def parse_case(text: str, kb: KnowledgeBase, name: str = "<case>") -> dict[str, Any]:
    doc, problems = parse_yaml(text, name)
    return _validated(doc, problems, kb)


def _validated(doc: YamlDocument, problems: list[Problem], kb: KnowledgeBase) -> dict[str, Any]:
    if problems:
        raise CaseError(problems)
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise CaseError([doc.problem((), "a case is a mapping of fact names to values",
                                     "for example:  immune_status: immunocompromised")])
    return validate_case(doc.data, kb, doc)


def validate_case(facts: Mapping[str, Any], kb: KnowledgeBase,
                  doc: YamlDocument | None = None) -> dict[str, Any]:
    """The case with unknown (null) facts dropped; raises CaseError on any invalid fact."""
    problems: list[Problem] = []
    case: dict[str, Any] = {}

    def report(key: str, message: str, hint: str) -> None:
        if doc is not None:
            problems.append(doc.problem((key,), message, hint))
        else:
            problems.append(Problem("<case>", 1, 1, message, hint))

    for name, value in facts.items():
        spec = kb.facts.get(str(name))
        if spec is None:
            report(name, f"unknown fact '{name}'", did_you_mean(str(name), kb.case_facts, "facts"))
        elif spec.derived:
            report(name, f"'{name}' is a conclusion the rules derive, not a case fact",
                   "remove it: give the facts it is derived from instead")
        elif value is not None:
            error = value_error(name, spec, value)
            if error:
                report(name, *error)
            else:
                case[name] = list(value) if isinstance(value, list) else value
    if problems:
        raise CaseError(problems)
    return case


def allowed(spec: FactSpec) -> str:
    if spec.type == "boolean":
        return "true or false"
    if spec.type == "integer":
        unit = f" ({spec.unit})" if spec.unit else ""
        return f"an integer from {spec.min} to {spec.max}{unit}"
    values = ", ".join(spec.values or [])
    return f"a list of: {values}" if spec.type == "enum_list" else f"one of: {values}"


def value_error(name: str, spec: FactSpec, value: Any) -> tuple[str, str] | None:
    """(message, hint) when `value` is not in the domain of fact `name`, else None."""
    bad = (f"fact '{name}': value {value!r} is not allowed", f"allowed: {allowed(spec)}")
    if spec.type == "boolean":
        return None if isinstance(value, bool) else bad
    if spec.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return bad
        ok = spec.min is not None and spec.max is not None and spec.min <= value <= spec.max
        return None if ok else bad
    domain = spec.values or []
    if spec.type == "enum":
        if isinstance(value, str) and value not in domain:
            best = did_you_mean(value, domain, "values")
            if best.startswith("did you mean"):
                return bad[0], f"{best} allowed: {allowed(spec)}"
        return None if value in domain else bad
    if not isinstance(value, list):
        return bad[0], f"allowed: {allowed(spec)} (write a YAML list, e.g. [{domain[0]}])"
    wrong = [v for v in value if v not in domain]
    if wrong:
        return (f"fact '{name}': value {wrong[0]!r} is not allowed in the list",
                f"allowed: {allowed(spec)}")
    if len(set(value)) != len(value):
        return f"fact '{name}': the list names a value twice", "list each value once"
    return None
