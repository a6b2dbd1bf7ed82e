"""Machine-readable output shared by the commands: `--format` choices, SARIF 2.1.0 for
problems and findings (code-scanning annotations in pull requests), JUnit XML for tests and
checks (read by CI systems), and JSON printed with every value kept and nothing raw that a
terminal would interpret (engine/format/inert.json_inert).

Text is for people, these are for programs: one shape per command, published in
docs/schema/output/ (guidekb/output_schemas.py).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from guidekb.engine.errors import Problem
from guidekb.engine.format.inert import inert, inert_lines, json_inert

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_URI = "https://guidekb.invalid/docs/errors.md"


class TextJson(StrEnum):
    text = "text"
    json = "json"


class TextJsonSarif(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


class TextJsonJunit(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


_HELP = "Output format: text for people; the others for programs (docs/schema/output/)."
JsonFormat = Annotated[TextJson, typer.Option("--format", help=_HELP)]
SarifFormat = Annotated[TextJsonSarif, typer.Option("--format", help=_HELP)]
JunitFormat = Annotated[TextJsonJunit, typer.Option("--format", help=_HELP)]


def print_json(data: Any) -> None:
    """Print one JSON document on stdout: exact values, inert characters escaped."""
    typer.echo(json_inert(json.dumps(data, indent=2, ensure_ascii=False)))


# --- SARIF ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SarifResult:
    """One annotation: a rule (an error code or a lint check), a level, a message, a place."""

    rule_id: str
    rule_name: str
    rule_summary: str
    level: str  # error, warning, note
    message: str
    file: str
    line: int
    column: int


def problem_result(problem: Problem) -> SarifResult:
    text = problem.message + (f" ({problem.hint})" if problem.hint else "")
    return SarifResult(problem.code.id, problem.code.name, problem.code.summary, "error", text,
                       problem.file, problem.line, problem.column)


def sarif_log(results: Sequence[SarifResult], version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run of guidekb: its rules (the codes that occur) and results."""
    rules: dict[str, dict[str, Any]] = {}
    for result in results:
        rules.setdefault(result.rule_id, {
            "id": result.rule_id, "name": result.rule_name,
            "shortDescription": {"text": result.rule_summary or result.rule_name},
        })
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "guidekb", "version": version, "informationUri": TOOL_URI,
                                "rules": list(rules.values())}},
            "results": [{
                "ruleId": r.rule_id, "ruleIndex": index[r.rule_id], "level": r.level,
                "message": {"text": r.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": r.file},
                    "region": {"startLine": max(r.line, 1), "startColumn": max(r.column, 1)},
                }}],
            } for r in results],
        }],
    }


# --- JUnit XML -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JunitCase:
    """One test case: a scenario or an invariant; `failure` is what went wrong, if anything."""

    name: str
    classname: str
    seconds: float
    failure: str | None = None


def junit_xml(suite: str, cases: Iterable[JunitCase]) -> str:
    """The JUnit XML document CI systems read: one testsuite, a testcase per case. Names and
    failure texts are made inert (no control character is even allowed in XML 1.0)."""
    listed = list(cases)
    failures = sum(1 for c in listed if c.failure is not None)
    root = ET.Element("testsuites", name="guidekb", tests=str(len(listed)), failures=str(failures))
    element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(listed)),
                            failures=str(failures), errors="0", skipped="0",
                            time=f"{sum(c.seconds for c in listed):.6f}")
    for case in listed:
        item = ET.SubElement(element, "testcase", name=inert(case.name), classname=inert(case.classname),
                             time=f"{case.seconds:.6f}")
        if case.failure is not None:
            first = case.failure.splitlines()[0] if case.failure else "failed"
            failed = ET.SubElement(item, "failure", message=inert(first), type="failure")
            failed.text = inert_lines(case.failure)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def guidekb_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("guidekb")
    except PackageNotFoundError:  # a checkout that was never installed
        return "0+unknown"


__all__ = ["JsonFormat", "JunitCase", "JunitFormat", "SarifFormat", "SarifResult", "TextJson",
           "TextJsonJunit", "TextJsonSarif", "guidekb_version", "junit_xml", "print_json",
           "problem_result", "sarif_log"]
