"""Issue 10, item 1 (part): machine-readable output of validate (json, sarif) and test (json,
junit), each JSON shape checked with a real JSON Schema validator against the schema published
in docs/schema/output/, the exit statuses the same as in text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from guidekb.cli import app
from guidekb.output_schemas import test_schema as published_test_schema
from guidekb.output_schemas import validate_schema
from tests.minikb import edit, write_mini_kb

SCENARIO = """\
description: On foscarnet, renal function is monitored.
case:
  on_foscarnet: true
expect:
  recommended: [monitor_renal_function]
"""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    root = write_mini_kb(tmp_path / "kb")
    (root / "scenarios").mkdir()
    (root / "scenarios" / "renal.yaml").write_text(SCENARIO, encoding="utf-8")
    return root


def test_validate_json_ok_and_with_problems(kb: Path) -> None:
    status, out = invoke("validate", "--kb", str(kb), "--format", "json")
    assert status == 0
    data = json.loads(out)
    jsonschema.validate(data, validate_schema())
    assert data["ok"] and data["kb"] == {"id": "mini", "version": "1.0.0"}
    assert data["counts"]["scenarios"] == 1
    edit(kb / "rules" / "main.yaml", "fact: on_foscarnet", "fact: on_foscarnett")
    status, out = invoke("validate", "--kb", str(kb), "--format", "json")
    assert status == 2
    data = json.loads(out)
    jsonschema.validate(data, validate_schema())
    assert not data["ok"] and data["counts"] is None
    assert [(p["code"], p["line"]) for p in data["problems"]] == [("GKB201", 51)]


def test_validate_sarif_annotates_each_problem(kb: Path) -> None:
    edit(kb / "rules" / "main.yaml", "fact: on_foscarnet", "fact: on_foscarnett")
    status, out = invoke("validate", "--kb", str(kb), "--format", "sarif")
    assert status == 2
    log = json.loads(out)
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    [run] = log["runs"]
    assert run["tool"]["driver"]["name"] == "guidekb"
    [result] = run["results"]
    assert result["ruleId"] == "GKB201" and result["level"] == "error"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "GKB201"
    place = result["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"].endswith("rules/main.yaml")
    assert place["region"]["startLine"] == 51
    assert "on_foscarnett" in result["message"]["text"]
    clean = json.loads(invoke("validate", "--kb", str(write_mini_kb(kb.parent / "clean")),
                              "--format", "sarif")[1])
    assert clean["runs"][0]["results"] == []


def test_test_json_reports_each_scenario_and_its_differences(kb: Path) -> None:
    status, out = invoke("test", "--kb", str(kb), "--format", "json", "--coverage")
    assert status == 0
    data = json.loads(out)
    jsonschema.validate(data, published_test_schema())
    assert (data["passed"], data["failed"]) == (1, 0)
    edit(kb / "scenarios" / "renal.yaml", "recommended: [monitor_renal_function]",
         "recommended: [iv_foscarnet]")
    status, out = invoke("test", "--kb", str(kb), "--format", "json")
    assert status == 1
    data = json.loads(out)
    jsonschema.validate(data, published_test_schema())
    [scenario] = data["scenarios"]
    assert scenario["name"] == "renal" and not scenario["passed"]
    assert scenario["differences"][0]["item"] == "iv_foscarnet"


def test_test_junit_is_xml_ci_systems_read(kb: Path) -> None:
    status, out = invoke("test", "--kb", str(kb), "--format", "junit")
    assert status == 0
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None and suite.get("tests") == "1" and suite.get("failures") == "0"
    edit(kb / "scenarios" / "renal.yaml", "recommended: [monitor_renal_function]",
         "recommended: [iv_foscarnet]")
    status, out = invoke("test", "--kb", str(kb), "--format", "junit")
    assert status == 1
    case = ET.fromstring(out).find("testsuite/testcase")
    assert case is not None and case.get("name") == "renal"
    failure = case.find("failure")
    assert failure is not None and "iv_foscarnet" in (failure.text or "")


def test_test_junit_with_no_scenario_fails(tmp_path: Path) -> None:
    status, out = invoke("test", "--kb", str(write_mini_kb(tmp_path / "kb")), "--format", "junit")
    assert status == 1
    assert ET.fromstring(out).find("testsuite").get("tests") == "0"  # type: ignore[union-attr]


def test_lint_json_and_sarif(tmp_path: Path) -> None:
    import shutil

    from guidekb.output_schemas import lint_schema
    from tests.conftest import HSV_KB

    kb = shutil.copytree(HSV_KB, tmp_path / "kb")
    status, out = invoke("lint", "--kb", str(kb), "--format", "json")
    assert status == 0  # every finding of the shipped knowledge base is acknowledged
    data = json.loads(out)
    jsonschema.validate(data, lint_schema())
    assert data["open"] == 0 and all(f["acknowledged"] for f in data["findings"])
    acknowledged = len(data["findings"])
    assert acknowledged > 0
    status, out = invoke("lint", "--kb", str(kb), "--format", "sarif")
    assert status == 0 and json.loads(out)["runs"][0]["results"] == []
    (kb / "lint.yaml").unlink()
    status, out = invoke("lint", "--kb", str(kb), "--format", "json")
    assert status == 1
    data = json.loads(out)
    jsonschema.validate(data, lint_schema())
    assert data["open"] == len(data["findings"]) == acknowledged
    status, out = invoke("lint", "--kb", str(kb), "--format", "sarif")
    assert status == 1
    results = json.loads(out)["runs"][0]["results"]
    assert len(results) == acknowledged
    assert {r["level"] for r in results} == {"warning"}
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)


FAILING_INVARIANT = """\
  - id: never-repeat
    rationale: Deliberately wrong, to see check fail.
    never_recommend:
      codes: [repeat_reading_within_week]
      when:
        fact: systolic_bp
        ge: 180
    provenance:
      - source: example
        section: Recommendations
        quote: Adults with a systolic blood pressure of 180 mmHg or more
"""


@pytest.mark.parametrize("method", [[], ["--prove"]])
def test_check_json_and_junit(tmp_path: Path, method: list[str]) -> None:
    from guidekb.output_schemas import check_schema

    kb = tmp_path / "kb"
    assert invoke("init", str(kb))[0] == 0
    status, out = invoke("check", "--kb", str(kb), *method, "--format", "json")
    assert status == 0, out
    data = json.loads(out)
    jsonschema.validate(data, check_schema())
    assert [r["status"] for r in data["invariants"]] == ["proved" if method else "held"]
    with (kb / "invariants.yaml").open("a", encoding="utf-8") as invariants:
        invariants.write(FAILING_INVARIANT)
    status, out = invoke("check", "--kb", str(kb), *method, "--format", "json")
    assert status == 1
    data = json.loads(out)
    jsonschema.validate(data, check_schema())
    failing = {r["id"]: r for r in data["invariants"]}["never-repeat"]
    assert failing["status"] == ("refuted" if method else "failed")
    assert "systolic_bp" in failing["counterexample"]
    status, out = invoke("check", "--kb", str(kb), *method, "--format", "junit")
    assert status == 1
    cases = {c.get("name"): c for c in ET.fromstring(out).iter("testcase")}
    assert cases["nothing-both-recommended-and-forbidden"].find("failure") is None
    assert cases["never-repeat"].find("failure") is not None


@pytest.mark.parametrize(("code", "status"), [("famciclovir", "forbidden"),
                                              ("iv_foscarnet", "recommended")])
def test_explain_json(code: str, status: str) -> None:
    from guidekb.output_schemas import explain_schema
    from tests.conftest import HSV_KB

    case = HSV_KB / "cases" / "confirmed-resistance.yaml"
    result = CliRunner().invoke(app, ["explain", str(case), code, "--kb", str(HSV_KB),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, explain_schema())
    assert (data["code"], data["status"]) == (code, status)
    assert data["rules"] and all(r["condition"]["value"] in (True, False, None) for r in data["rules"])
