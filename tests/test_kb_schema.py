"""Issue 10, item 3: `guidekb schema --kb KB` writes schemas that complete what authors get wrong
most -- the knowledge base's own fact names, each fact's values (tied to the fact: `equals:`
under `fact: X` takes X's values), codes, source ids and section headings (per source) --
and every key of every schema says what it means. Checked with a real JSON Schema validator
(jsonschema) against every shipped file and against broken ones the loader also refuses."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.yamlsource import load_yaml, parse_yaml
from guidekb.engine.schema import FILE_KINDS, kb_schemas, schema_for
from tests.conftest import HSV_KB

FILES_OF_KIND = {
    "manifest": ["manifest.yaml"], "facts": ["facts.yaml"], "outcomes": ["outcomes.yaml"],
    "rules": ["rules/*.yaml"], "scenario": ["scenarios/**/*.yaml"], "invariants": ["invariants.yaml"],
    "lint": ["lint.yaml"], "context": ["context.yaml"], "case": ["cases/*.yaml"],
}


@cache
def hsv_schemas() -> dict[str, dict[str, Any]]:
    return kb_schemas(load_knowledge_base(HSV_KB))


def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = hsv_schemas()[kind]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(kind: str, text: str) -> list[str]:
    doc, problems = parse_yaml(text, f"{kind}.yaml")
    assert problems == []
    return [error.message for error in validator(kind).iter_errors(doc.data)]


@pytest.mark.parametrize("kind", FILES_OF_KIND)
def test_every_shipped_file_is_valid_against_its_kb_schema(kind: str) -> None:
    files = sorted(path for pattern in FILES_OF_KIND[kind] for path in HSV_KB.glob(pattern))
    assert files
    for path in files:
        doc, problems = load_yaml(path)
        assert problems == []
        assert [e.message for e in validator(kind).iter_errors(doc.data)] == [], path.name


def test_schema_command_writes_the_kb_schemas(tmp_path: Path) -> None:
    out = tmp_path / "schema"
    result = CliRunner().invoke(app, ["schema", "--kb", str(HSV_KB), "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    written = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in out.glob("*.schema.json")}
    assert written == {f"{kind}.schema.json": schema for kind, schema in hsv_schemas().items()}
    result = CliRunner().invoke(app, ["schema", "case", "--kb", str(HSV_KB)])
    assert result.exit_code == 0 and json.loads(result.stdout) == hsv_schemas()["case"]
    assert CliRunner().invoke(app, ["schema", "case"]).exit_code == 2  # no static case schema
    static = CliRunner().invoke(app, ["schema", "rules"])
    assert json.loads(static.stdout) == schema_for("rules")


def test_a_kb_with_problems_gets_no_schema(tmp_path: Path) -> None:
    kb = shutil.copytree(HSV_KB, tmp_path / "kb")
    facts = kb / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("type: enum\n", "type: enumm\n", 1),
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["schema", "--kb", str(kb), "--out-dir", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "facts.yaml" in result.stderr and not (tmp_path / "s").exists()


RULE = """\
rules:
  - id: r
    title: t
    when:
{when}
    then:
{then}
    provenance:
      - source: {source}
        section: {section}
        quote: q
"""
GOOD_WHEN = "      fact: immune_status\n      equals: immunocompromised\n"
GOOD_THEN = "      recommend: [iv_foscarnet]\n"
SOURCE = "persistent-cold-sores-next-step"
SECTION = "Monitoring During Foscarnet Therapy"


def rule(when: str = GOOD_WHEN, then: str = GOOD_THEN, source: str = SOURCE,
         section: str = SECTION) -> str:
    return RULE.format(when=when, then=then, source=source, section=section)


def test_a_good_rule_is_valid() -> None:
    assert errors("rules", rule()) == []
    assert errors("rules", rule(when="      fact: recurrences_per_year\n      ge: 10\n")) == []
    assert errors("rules", rule(when="      fact: immunocompromise_causes\n      contains: hiv\n")) == []
    assert errors("rules", rule(when="      known: resistance_suspected\n")) == []


@pytest.mark.parametrize(("case", "broken"), [
    ("misspelt fact", rule(when="      fact: immune_statuss\n      equals: immunocompromised\n")),
    ("value not in that fact's domain", rule(
        when="      fact: immune_status\n      equals: acyclovir_resistant\n")),
    ("value of another fact in a list", rule(
        when="      fact: hsv_site\n      in: [genital, immunocompromised]\n")),
    ("integer out of the fact's range", rule(when="      fact: recurrences_per_year\n      ge: 400\n")),
    ("operator the fact's type does not take", rule(when="      fact: immune_status\n      ge: 3\n")),
    ("a conclusion tested for false", rule(when="      fact: resistance_suspected\n      equals: false\n")),
    ("unknown code", rule(then="      recommend: [iv_foscarnett]\n")),
    ("unknown code forbidden", rule(then="      forbid:\n        - code: famciclovr\n          reason: r\n")),
    ("unknown derived fact", rule(then="      derive: [resistance_suspectd]\n")),
    ("unknown source id", rule(source="persistent-cold-sore-next-step")),
    ("unknown section", rule(section="Monitoring During Foscarnet")),
    ("section of the other source", rule(section="Signs of Valacyclovir Resistance")),
    ("two operators", rule(when="      fact: immune_status\n      equals: immunocompromised\n"
                                "      in: [immunocompromised]\n")),
    ("no operator", rule(when="      fact: immune_status\n")),
    ("empty then", rule(then="      {}\n")),
    ("then with empty lists only", rule(then="      recommend: []\n")),
])
def test_the_kb_schema_and_the_loader_reject(case: str, broken: str, tmp_path: Path) -> None:
    assert errors("rules", broken), case
    kb = shutil.copytree(HSV_KB, tmp_path / "kb", ignore=shutil.ignore_patterns("scenarios", "cases"))
    (kb / "rules" / "zz-broken.yaml").write_text(
        broken.replace("quote: q", f"quote: {QUOTE}"), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError):
        load_knowledge_base(kb)


QUOTE = "Monitor renal function at initiation and once or twice weekly during treatment"


def test_the_quote_above_is_verbatim_so_the_loader_rejects_only_the_mistake(tmp_path: Path) -> None:
    kb = shutil.copytree(HSV_KB, tmp_path / "kb", ignore=shutil.ignore_patterns("scenarios", "cases"))
    (kb / "rules" / "zz-good.yaml").write_text(rule().replace("quote: q", f"quote: {QUOTE}"),
                                                encoding="utf-8")
    load_knowledge_base(kb)


@pytest.mark.parametrize(("kind", "text"), [
    ("scenario", "description: d\ncase: {immune_status: immunocompromized}\nexpect: {}\n"),
    ("scenario", "description: d\ncase: {immune_statu: immunocompromised}\nexpect: {}\n"),
    ("scenario", "description: d\ncase: {resistance_suspected: true}\nexpect: {}\n"),
    ("scenario", "description: d\ncase: {}\nexpect: {recommended: [iv_foscarnett]}\n"),
    ("scenario", "description: d\ncase: {}\nexpect: {derived: [iv_foscarnet]}\n"),
    ("case", "days_on_therapy: -1\n"), ("case", "dose_adequate: yes\n"),
    ("case", "immunocompromise_causes: [hiv, hiv]\n"), ("case", "hsv_site: [genital]\n"),
    ("invariants", "invariants:\n  - id: x\n    rationale: r\n    never_both: {codes: [iv_foscarnet, famciclovr]}\n"),
    ("invariants", "invariants:\n  - id: x\n    rationale: r\n    monotone: {fact: resistance_suspected}\n"),
    ("context", "context:\n  - source: valacyclovir-signs\n    statement: s\n    reason: r\n"),
    ("manifest", (HSV_KB / "manifest.yaml").read_text(encoding="utf-8").replace(
        "question_order:\n", "question_order:\n    - immune_statuss\n")),
])
def test_kb_schemas_of_other_kinds_reject(kind: str, text: str) -> None:
    assert "question_order:\n" in (HSV_KB / "manifest.yaml").read_text(encoding="utf-8")
    assert errors(kind, text), text


def test_scenario_and_case_accept_unknown_as_null() -> None:
    assert errors("case", "immune_status: null\ndays_on_therapy: 14\nimmunocompromise_causes: [hiv]\n") == []
    assert errors("scenario", "description: d\ncase: {lesions_atypical: null}\nexpect: {}\n") == []


def test_values_are_tied_to_their_fact() -> None:
    """The completion an editor offers under `fact: X`: the `then` of X's `if` lists X's values."""
    compare = hsv_schemas()["rules"]["$defs"]["Compare"]
    tied = {branch["if"]["properties"]["fact"]["const"]: branch["then"]["properties"]
            for branch in compare["allOf"]}
    assert tied["immune_status"]["equals"]["enum"] == ["immunocompetent", "immunocompromised"]
    assert tied["immune_status"]["ge"] is False
    assert tied["days_on_therapy"]["ge"] == {"type": "integer", "minimum": 0, "maximum": 3650}
    assert set(compare["properties"]["fact"]["enum"]) == set(load_knowledge_base(HSV_KB).facts)
    provenance = hsv_schemas()["rules"]["$defs"]["Provenance"]
    sections = {b["if"]["properties"]["source"]["const"]: b["then"]["properties"]["section"]["enum"]
                for b in provenance["allOf"]}
    assert SECTION in sections[SOURCE] and SECTION not in sections["valacyclovir-resistance-signs"]


def properties_of(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every (place, schema) of a named property anywhere in a schema."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{where}.{name}", sub
        for key, sub in node.items():
            yield from properties_of(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from properties_of(sub, f"{where}[{i}]")


def declared_properties(schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """The keys a file may hold, each where it is declared: not the constraint fragments
    (`if`/`then` per fact or source, `anyOf` of a non-empty `then`) that repeat a key to narrow it."""
    return [(place, prop) for place, prop in properties_of(schema)
            if not any(part in place for part in ("/if", "/then", "/allOf[", "/anyOf["))]


def holds_mappings(prop: dict[str, Any]) -> bool:
    """A key whose value is a mapping or a list of mappings, described key by key below it."""
    choices = [prop, *prop.get("anyOf", [])]
    return any("$ref" in c or c.get("type") == "object" or "$ref" in c.get("items", {})
               for c in choices)


@pytest.mark.parametrize("kind", [*FILE_KINDS, "case"])
def test_every_key_of_every_schema_says_what_it_means(kind: str) -> None:
    schemas = [hsv_schemas()[kind]] + ([schema_for(kind)] if kind in FILE_KINDS else [])
    for schema in schemas:
        found = declared_properties(schema)
        assert found
        undescribed = sorted({place for place, prop in found if prop is not False
                              and not prop.get("description")})
        assert undescribed == [], undescribed


@pytest.mark.parametrize("kind", [*FILE_KINDS, "case"])
def test_every_key_has_an_example(kind: str) -> None:
    """What it means, and an example of what to write (for a key holding mappings, the keys
    below it have theirs)."""
    schemas = [hsv_schemas()[kind]] + ([schema_for(kind)] if kind in FILE_KINDS else [])
    for schema in schemas:
        missing = sorted({place for place, prop in declared_properties(schema)
                          if prop is not False and not holds_mappings(prop) and not prop.get("examples")})
        assert missing == [], missing


def test_init_writes_the_skeletons_own_schemas_and_schema_refreshes_them(tmp_path: Path) -> None:
    kb = tmp_path / "my-kb"
    assert CliRunner().invoke(app, ["init", str(kb)]).exit_code == 0
    own = kb_schemas(load_knowledge_base(kb))
    for kind, schema in own.items():
        assert json.loads((kb / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8")) == schema
    assert own["rules"]["$defs"]["Compare"]["properties"]["fact"]["enum"] == ["systolic_bp"]
    case = kb / "cases" / "example.yaml"
    assert case.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../schema/case.schema.json\n")
    assert jsonschema.Draft202012Validator(own["case"]).is_valid(load_yaml(case)[0].data)
    facts = kb / "facts.yaml"  # the author adds a fact; the schemas are written again
    facts.write_text(facts.read_text(encoding="utf-8") + "  on_treatment:\n    type: boolean\n"
                     "    description: On antihypertensive treatment.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["schema", "--kb", str(kb), "--out-dir", str(kb / "schema")])
    assert result.exit_code == 0, result.output  # no --force: guidekb wrote them
    rules = json.loads((kb / "schema" / "rules.schema.json").read_text(encoding="utf-8"))
    assert rules["$defs"]["Compare"]["properties"]["fact"]["enum"] == ["systolic_bp", "on_treatment"]


def test_shipped_files_point_editors_at_the_kbs_own_up_to_date_schemas() -> None:
    """The HSV files name their knowledge base's own schemas (fact names, values, codes), not the
    generic ones in docs/schema, and those committed schemas are what `guidekb schema --kb`
    writes today: a fact or code added without regenerating them would complete stale names."""
    folder = HSV_KB / "schema"
    committed = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in folder.glob("*.schema.json")}
    assert committed == {f"{kind}.schema.json": schema for kind, schema in hsv_schemas().items()}, (
        "regenerate: guidekb schema --kb knowledge/hsv-resistance --out-dir knowledge/hsv-resistance/schema --force")
    for kind, patterns in FILES_OF_KIND.items():
        for path in sorted(p for pattern in patterns for p in HSV_KB.glob(pattern)):
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first.startswith("# yaml-language-server: $schema="), path
            target = (path.parent / first.split("$schema=", 1)[1]).resolve()
            assert target == (folder / f"{kind}.schema.json").resolve(), path
