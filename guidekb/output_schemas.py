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

from guidekb.engine.runtime.answer import Answer

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


SCHEMAS = {"run": run_schema}


def rendered(name: str) -> str:
    """The published text of one output schema."""
    return json.dumps(SCHEMAS[name](), indent=2, ensure_ascii=False) + "\n"


def main(folder: Path = PUBLISHED) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in SCHEMAS:
        (folder / f"{name}.schema.json").write_text(rendered(name), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PUBLISHED)
