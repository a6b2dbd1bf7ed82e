"""Issue 10, item 3 (part): the published JSON Schemas reject what the loader rejects in
structure -- a fact test with no operator or with two, a `then` that does nothing -- and
accept every file of the shipped knowledge base. Checked with a real JSON Schema validator."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.yamlsource import load_yaml, parse_yaml
from guidekb.engine.schema import schema_for
from tests.conftest import HSV_KB
from tests.minikb import edit, write_mini_kb

VALID_TEST = "      fact: on_foscarnet\n      equals: true\n"


def validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema_for(kind))


@pytest.mark.parametrize(("kind", "pattern"), [
    ("rules", "rules/*.yaml"), ("scenario", "scenarios/*.yaml"), ("invariants", "invariants.yaml"),
    ("manifest", "manifest.yaml"), ("facts", "facts.yaml"), ("outcomes", "outcomes.yaml"),
])
def test_every_shipped_file_is_valid(kind: str, pattern: str) -> None:
    files = sorted(HSV_KB.glob(pattern))
    assert files
    for path in files:
        doc, problems = load_yaml(path)
        assert problems == []
        errors = [e.message for e in validator(kind).iter_errors(doc.data)]
        assert errors == [], (path.name, errors)


@pytest.mark.parametrize(("old", "new"), [
    (VALID_TEST, "      fact: on_foscarnet\n"),  # no operator
    (VALID_TEST, "      fact: on_foscarnet\n      equals: true\n      in: [true]\n"),  # two
    ("    then:\n      recommend: [monitor_renal_function]\n", "    then: {}\n"),
    ("    then:\n      recommend: [monitor_renal_function]\n", "    then:\n      recommend: []\n"),
])
def test_schema_and_loader_both_reject(tmp_path: Path, old: str, new: str) -> None:
    kb = write_mini_kb(tmp_path / "kb")
    rules = kb / "rules" / "main.yaml"
    assert validator("rules").is_valid(load_yaml(rules)[0].data)
    edit(rules, old, new)
    assert not validator("rules").is_valid(load_yaml(rules)[0].data)
    with pytest.raises(KnowledgeBaseError):
        load_knowledge_base(kb)


def test_one_operator_of_any_kind_is_accepted() -> None:
    for test in ["{fact: x, equals: 1}", "{fact: x, in: [a]}", "{fact: x, ge: 3}",
                 "{fact: x, contains: a}"]:
        rules = f"rules:\n  - id: r\n    title: t\n    when: {test}\n    then: {{derive: [y]}}\n" \
                "    provenance: [{source: s, section: c, quote: q}]\n"
        doc, problems = parse_yaml(rules, "rules.yaml")
        assert problems == []
        assert validator("rules").is_valid(doc.data), test
