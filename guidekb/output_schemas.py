"""JSON Schemas of what guidekb commands print with `--format json`: one shape per command,
published in docs/schema/output/ so that programs reading the output know what they get.

Built from the same models the output is dumped from (the answer's pydantic models, the
fields of `Problem.as_dict`), so the schema cannot drift from the output without a test
noticing (tests/test_output_schemas.py compares the published copy and validates real output
against it). Regenerate the published copies with `python -m guidekb.output_schemas`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.explanation import Explanation

DIALECT = "https://json-schema.org/draft/2020-12/schema"
PUBLISHED = Path(__file__).resolve().parent.parent / "docs" / "schema" / "output"

PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "One problem of a file, located (the fields of Problem.as_dict).",
    "additionalProperties": False,
    "required": ["file", "line", "column", "code", "name", "path", "where", "message", "hint",
                 "severity"],
    "properties": {
        "file": {"type": "string", "description": "the file, relative to the working directory "
                 "when it lies inside it; <stdin> for a case read from standard input"},
        "line": {"type": "integer", "minimum": 1, "description": "1-based line"},
        "column": {"type": "integer", "minimum": 1, "description": "1-based column"},
        "code": {"type": "string", "pattern": "^GKB[0-9]{3}$",
                 "description": "stable error code, listed in docs/errors.md"},
        "name": {"type": "string", "description": "the code's name, e.g. unknown-case-fact"},
        "path": {"type": "string", "description": "dotted place in the file, e.g. rules[3].when"},
        "where": {"type": "string", "description": "the place named by its owner, e.g. "
                  "rule no-famciclovir: when"},
        "message": {"type": "string", "description": "what is wrong"},
        "hint": {"type": "string", "description": "how to fix it (may be empty)"},
        "severity": {"type": "string", "description": "error (every problem stops the command)"},
    },
}


def run_schema() -> dict[str, Any]:
    """`guidekb run --format json CASE...`: a list with one object per case, in the order
    given: the case's answer, or the problems that kept it from being answered."""
    answer = Answer.model_json_schema(mode="serialization")
    definitions = answer.pop("$defs", {})
    return {
        "$schema": DIALECT,
        "$id": "https://guidekb.invalid/schema/output/run.schema.json",
        "title": "guidekb run --format json",
        "description": "One object per case, in the order the cases were given. A case that "
                       "does not validate has `error` instead of `answer` and does not hide "
                       "the answers of the others; the exit status is then 2.",
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "description": "the case file as given (<stdin> "
                         "for -)"},
                "answer": {"$ref": "#/$defs/Answer"},
                "error": {
                    "type": "object", "additionalProperties": False, "required": ["problems"],
                    "properties": {"problems": {"type": "array", "minItems": 1,
                                                "items": {"$ref": "#/$defs/Problem"}}},
                },
            },
            "oneOf": [{"required": ["answer"]}, {"required": ["error"]}],
        },
        "$defs": {**definitions, "Answer": answer, "Problem": PROBLEM},
    }


def _document(name: str, title: str, description: str, body: dict[str, Any],
              definitions: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"$schema": DIALECT, "$id": f"https://guidekb.invalid/schema/output/{name}.schema.json",
            "title": title, "description": description, **body,
            "$defs": {"Problem": PROBLEM, **(definitions or {})}}


def validate_schema() -> dict[str, Any]:
    """`guidekb validate --format json`: ok, the knowledge base, what was counted, problems."""
    counts = {key: {"type": "integer", "minimum": 0} for key in
              ("rules", "facts", "codes", "invariants", "scenarios", "cases", "quotes", "sources")}
    return _document("validate", "guidekb validate --format json",
                     "Every problem of every file of the knowledge base, in one pass. Exit "
                     "status 0 when `ok`, else 2.", {
        "type": "object", "additionalProperties": False,
        "required": ["ok", "kb", "counts", "problems"],
        "properties": {
            "ok": {"type": "boolean", "description": "true when there is no problem"},
            "kb": {"description": "id and version, when the manifest loaded", "oneOf": [
                {"type": "null"},
                {"type": "object", "additionalProperties": False, "required": ["id", "version"],
                 "properties": {"id": {"type": "string"}, "version": {"type": "string"}}}]},
            "counts": {"description": "what was checked (null when there are problems)", "oneOf": [
                {"type": "null"},
                {"type": "object", "additionalProperties": False, "required": list(counts),
                 "properties": counts}]},
            "problems": {"type": "array", "items": {"$ref": "#/$defs/Problem"}},
        },
    })


def test_schema() -> dict[str, Any]:
    """`guidekb test --format json`: one object per scenario, with its differences."""
    names = {"type": "array", "items": {"type": "string"}}
    return _document("test", "guidekb test --format json",
                     "The scenarios run and how each compared with its expectations. Exit "
                     "status 0 when all pass, 1 when any fails or there is none, 2 when a "
                     "scenario does not validate (then the problems are printed instead, on "
                     "stderr).", {
        "type": "object", "additionalProperties": False,
        "required": ["passed", "failed", "scenarios"],
        "properties": {
            "passed": {"type": "integer", "minimum": 0},
            "failed": {"type": "integer", "minimum": 0},
            "scenarios": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["name", "file", "passed", "seconds", "differences"],
                "properties": {
                    "name": {"type": "string", "description": "path in scenarios/ without "
                             "the suffix"},
                    "file": {"type": "string"},
                    "passed": {"type": "boolean"},
                    "seconds": {"type": "number", "minimum": 0},
                    "differences": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["expectation", "item", "detail"],
                        "properties": {
                            "expectation": {"enum": ["recommended", "not_recommended",
                                                     "forbidden", "not_forbidden", "derived",
                                                     "not_derived"]},
                            "item": {"type": "string", "description": "the code or fact"},
                            "detail": {"type": "string"},
                        }}},
                }}},
            "coverage": {"type": "object", "description": "with --coverage",
                         "additionalProperties": False,
                         "required": ["rules_not_fired", "codes_unchecked", "derived_unchecked"],
                         "properties": {"rules_not_fired": names, "codes_unchecked": names,
                                        "derived_unchecked": names}},
        },
    })


def lint_schema() -> dict[str, Any]:
    """`guidekb lint --format json`: every finding, acknowledged ones with their reason."""
    return _document("lint", "guidekb lint --format json",
                     "Every lint finding (docs/lint.md). Exit status 1 when any is open (not "
                     "acknowledged in lint.yaml), else 0.", {
        "type": "object", "additionalProperties": False,
        "required": ["findings", "open", "solver_calls"],
        "properties": {
            "open": {"type": "integer", "minimum": 0, "description": "findings not acknowledged"},
            "solver_calls": {"type": "integer", "minimum": 0},
            "findings": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "kind", "message", "hint", "file", "line", "column", "rules",
                             "example", "acknowledged"],
                "properties": {
                    "id": {"type": "string", "description": "kind:subject, stable across runs"},
                    "kind": {"type": "string", "description": "the lint check (docs/lint.md)"},
                    "message": {"type": "string"}, "hint": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": "integer", "minimum": 1},
                    "column": {"type": "integer", "minimum": 1},
                    "rules": {"type": "array", "items": {"type": "string"}},
                    "example": {"description": "a case showing the finding, when there is one",
                                "type": ["object", "null"]},
                    "acknowledged": {"description": "the reason given in lint.yaml, else null",
                                     "type": ["string", "null"]},
                }}},
        },
    })


def check_schema() -> dict[str, Any]:
    """`guidekb check [--prove] --format json`: each invariant's outcome."""
    return _document("check", "guidekb check --format json",
                     "Each invariant sampled (`held`/`failed`) or proved (`proved`/`refuted`/"
                     "`unconfirmed`/`unknown`); with --prove a `cross-check` entry is added "
                     "when the encoding disagrees with the engine. Exit status 1 when `failed`.", {
        "type": "object", "additionalProperties": False,
        "required": ["method", "failed", "invariants"],
        "properties": {
            "method": {"enum": ["sample", "proof"]},
            "failed": {"type": "boolean"},
            "invariants": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "kind", "status", "detail", "seconds", "solver_calls",
                             "counterexample"],
                "properties": {
                    "id": {"type": "string"}, "kind": {"type": "string"},
                    "status": {"enum": ["held", "failed", "proved", "refuted", "unconfirmed",
                                        "unknown"]},
                    "detail": {"type": "string", "description": "how it was decided, or what "
                               "went wrong"},
                    "seconds": {"type": "number", "minimum": 0},
                    "solver_calls": {"type": "integer", "minimum": 0},
                    "counterexample": {"type": ["string", "null"], "description": "a violating "
                                       "case as a scenario file (YAML), when there is one"},
                }}},
        },
    })


def coverage_schema() -> dict[str, Any]:
    """`guidekb coverage --format json`: every statement of every source and its status."""
    count = {"type": "integer", "minimum": 0}
    counts = {"statements": {**count, "description": "statements in all (or in this source)"},
              "encoded": {**count, "description": "statements some rule quotes"},
              "context": {**count, "description": "statements context.yaml marks as background"},
              "missing": {**count, "description": "statements neither encoded nor context"}}
    return _document("coverage", "guidekb coverage --format json",
                     "Each statement (bullet or sentence) of each source: encoded by rules, "
                     "context (background, with the reason from context.yaml) or missing. Exit "
                     "status 0; 1 with --fail-on-missing when `summary.missing` > 0.", {
        "type": "object", "additionalProperties": False,
        "required": ["kb", "summary", "sources", "statements", "stale_context_notes"],
        "properties": {
            "kb": {"type": "object", "additionalProperties": False, "required": ["id", "version"],
                   "properties": {"id": {"type": "string"}, "version": {"type": "string"}}},
            "summary": {"type": "object", "additionalProperties": False,
                        "required": list(counts), "properties": counts},
            "sources": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "title", "date", *counts],
                "properties": {"id": {"type": "string", "description": "the source id of the "
                                      "manifest"},
                               "title": {"type": "string"},
                               "date": {"type": "string", "format": "date"}, **counts}}},
            "statements": {"type": "array", "description": "in document order, source by source",
                           "items": {
                "type": "object", "additionalProperties": False,
                "required": ["source", "section", "line", "text", "refs", "status", "rules",
                             "reason"],
                "properties": {
                    "source": {"type": "string"},
                    "section": {"type": "string", "description": "the heading it lies under"},
                    "line": {"type": "integer", "minimum": 1,
                             "description": "line in the source's text file"},
                    "text": {"type": "string"},
                    "refs": {"type": "array", "items": {"type": "integer"},
                             "description": "the article's reference numbers after it"},
                    "status": {"enum": ["encoded", "context", "missing"]},
                    "rules": {"type": "array", "description": "rules whose quotes cover it",
                              "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["id", "file", "line"],
                        "properties": {"id": {"type": "string"},
                                       "file": {"type": ["string", "null"]},
                                       "line": {"type": ["integer", "null"], "minimum": 1}}}},
                    "reason": {"type": ["string", "null"],
                               "description": "why it is context (context.yaml), else null"},
                }}},
            "stale_context_notes": {
                "type": "array", "description": "context.yaml notes on statements rules now "
                "encode: the note can go",
                "items": {"type": "object", "additionalProperties": False,
                          "required": ["line", "source", "statement_line"],
                          "properties": {"line": {"type": "integer", "minimum": 1,
                                                  "description": "line of the note in context.yaml"},
                                         "source": {"type": "string"},
                                         "statement_line": {"type": "integer", "minimum": 1}}}},
        },
    })


def explain_schema() -> dict[str, Any]:
    """`guidekb explain CASE CODE --format json`: the code's status, the answer and a trace of
    every rule that could produce it, each condition with its three-valued truth."""
    schema = TypeAdapter(Explanation).json_schema(mode="serialization")
    definitions = schema.pop("$defs", {})
    return _document("explain", "guidekb explain --format json",
                     "Why CODE was recommended or forbidden for CASE, or which conditions "
                     "stopped it: `value` is true, false or null (unknown).", schema, definitions)


SCHEMAS = {"run": run_schema, "validate": validate_schema, "test": test_schema,
           "lint": lint_schema, "check": check_schema, "explain": explain_schema,
           "coverage": coverage_schema}


def rendered(name: str) -> str:
    """The published text of one output schema."""
    return json.dumps(SCHEMAS[name](), indent=2, ensure_ascii=False) + "\n"


def main(folder: Path = PUBLISHED) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in SCHEMAS:
        (folder / f"{name}.schema.json").write_text(rendered(name), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PUBLISHED)
