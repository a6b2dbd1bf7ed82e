"""JSON Schemas of the knowledge-base files, exported from the pydantic models so that an
editor with the YAML language server validates and completes files as they are typed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from guidekb.engine.format.models import FactsFile, Manifest, OutcomesFile, RulesFile, Scenario
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


def schema_for(kind: str) -> dict[str, Any]:
    model = FILE_KINDS[kind]
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"guidekb {kind} file"
    return schema
