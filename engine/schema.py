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
