"""The CLI through its real entry points (`guidekb` console script and `python -m guidekb`),
as an author, a QA engineer or a CI job runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from guidekb.engine.schema import FILE_KINDS
from tests.conftest import HSV_KB, ROOT
from tests.minikb import edit, write_mini_kb

GUIDEKB = [sys.executable, "-m", "guidekb"]

CONTRACT_CASE = """\
immune_status: immunocompromised
immunocompromise_causes: [hiv, advanced_hiv_aids]
hsv_site: orolabial
presentation: non_healing_lesion
recurrences_per_year: 4
current_antiviral: valacyclovir
regimen: continuous
days_on_therapy: 21
lesion_course: progressive
dose_adequate: true
adherent: true
lesions_atypical: false
prolonged_antiviral_exposure: true
susceptibility_result: acyclovir_resistant
external_mucocutaneous: true
on_foscarnet: false
renal_impairment: true
"""


def guidekb(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GUIDEKB, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": SCRATCH_HOME})


# A home outside the repository: a crash report (exit 3) must never land in the work tree.
SCRATCH_HOME = tempfile.mkdtemp(prefix="guidekb-test-home-")


@pytest.fixture
def contract_case(tmp_path: Path) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(CONTRACT_CASE, encoding="utf-8")
    return path


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "guidekb"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "validate" in result.stdout and "run" in result.stdout


def test_validate_default_kb() -> None:
    result = guidekb("validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok hsv-resistance")


def test_run_json_has_the_contract_shape(contract_case: Path) -> None:
    result = guidekb("run", str(contract_case), "--json")
    assert result.returncode == 0, result.stderr
    [printed] = json.loads(result.stdout)  # always a list of {file, answer|error}
    assert printed["file"] == str(contract_case)
    answer = printed["answer"]
    assert {"kb", "case", "recommendations", "prohibitions", "derived", "conflicts"} <= answer.keys()
    assert answer["kb"]["id"] == "hsv-resistance"
    assert answer["case"]["days_on_therapy"] == 21
    for item in answer["recommendations"] + answer["prohibitions"]:
        assert {"code", "rule", "because", "provenance"} <= item.keys()
        assert item["provenance"], item["code"]
        assert {"source", "section", "quote", "refs"} <= item["provenance"][0].keys()
    for item in answer["derived"]:
        assert {"fact", "value", "rule"} <= item.keys()
    forbidden = {p["code"] for p in answer["prohibitions"]}
    assert {"famciclovir", "valacyclovir", "acyclovir", "topical_acyclovir"} <= forbidden
    recommended = {r["code"] for r in answer["recommendations"]}
    assert "iv_foscarnet" in recommended
    assert recommended.isdisjoint(forbidden)


def test_run_human_output_quotes_the_source(contract_case: Path) -> None:
    result = guidekb("run", str(contract_case))
    assert result.returncode == 0, result.stderr
    assert "RECOMMENDED" in result.stdout and "DO NOT" in result.stdout
    assert "“IV foscarnet 40 mg/kg every 8 hours until clinical resolution" in result.stdout


def test_run_several_cases(contract_case: Path, tmp_path: Path) -> None:
    other = tmp_path / "empty.json"
    other.write_text("{}", encoding="utf-8")
    result = guidekb("run", str(contract_case), str(other), "--json")
    assert result.returncode == 0, result.stderr
    answers = [item["answer"] for item in json.loads(result.stdout)]
    assert [a["case"] for a in answers][1] == {}


def test_invalid_case_exits_2_without_traceback(tmp_path: Path) -> None:
    case = tmp_path / "bad.yaml"
    case.write_text("immune_status: immunosupressed\ndays_on_therapy: 12\n", encoding="utf-8")
    result = guidekb("run", str(case))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{case}:1:16: fact 'immune_status': value 'immunosupressed' is not allowed" in result.stderr
    assert "allowed: one of: immunocompetent, immunocompromised" in result.stderr


def test_misspelt_fact_in_rule_gives_location_and_suggestion(tmp_path: Path) -> None:
    kb = shutil.copytree(HSV_KB, tmp_path / "kb")
    rules = kb / "rules"
    target = next(p for p in sorted(rules.glob("*.yaml")) if "fact: dose_adequate" in p.read_text())
    text = target.read_text()
    line = text[: text.index("fact: dose_adequate")].count("\n") + 1
    column = len(text[: text.index("fact: dose_adequate")].rsplit("\n", 1)[-1]) + len("fact: ") + 1
    target.write_text(text.replace("fact: dose_adequate", "fact: dose_adequat", 1))
    result = guidekb("validate", str(kb), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"kb/rules/{target.name}:{line}:{column}: rule " in result.stderr
    assert "uses undeclared fact 'dose_adequat'\n    did you mean 'dose_adequate'?" in result.stderr


def test_quote_changed_by_one_word_shows_closest_passage(tmp_path: Path) -> None:
    kb = write_mini_kb(tmp_path / "kb")
    edit(kb / "rules" / "main.yaml", "once or twice weekly during", "once or thrice weekly during")
    result = guidekb("validate", str(kb), cwd=tmp_path)
    assert result.returncode == 2
    assert "quote not found verbatim in source 'cold-sores'" in result.stderr
    assert "Monitor renal function at initiation and once or twice weekly during treatment" in result.stderr


def test_explain_why_and_why_not(contract_case: Path, tmp_path: Path) -> None:
    result = guidekb("explain", str(contract_case), "famciclovir")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("famciclovir: forbidden")
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n", encoding="utf-8")
    result = guidekb("explain", str(empty), "iv_foscarnet")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("iv_foscarnet: not recommended")
    assert "did not fire" in result.stdout and "unknown" in result.stdout
    result = guidekb("explain", str(empty), "famciclovr")
    assert result.returncode == 2
    assert "did you mean 'famciclovir'?" in result.stderr


def test_schema_is_json_schema_and_docs_copy_is_current() -> None:
    result = guidekb("schema", "rules")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "Rule" in schema["$defs"]
    for kind in FILE_KINDS:
        shipped = json.loads((ROOT / "docs" / "schema" / f"{kind}.schema.json").read_text())
        assert shipped == json.loads(guidekb("schema", kind).stdout), (
            f"docs/schema/{kind}.schema.json is stale: run `guidekb schema --out-dir docs/schema`")


def test_validate_reports_problems_of_every_file_at_once(tmp_path: Path) -> None:
    kb = shutil.copytree(HSV_KB, tmp_path / "kb")
    (kb / "scenarios" / "zz-broken.yaml").write_text(
        "description: broken on purpose\ncase: {}\nexpect:\n  recommended: [iv_foscarnett]\n")
    lint = kb / "lint.yaml"
    lint.write_text(lint.read_text().replace("finding:", "findng:", 1))
    result = guidekb("validate", str(kb), cwd=tmp_path)
    assert result.returncode == 2
    assert "kb/scenarios/zz-broken.yaml:4:17: " in result.stderr and "'iv_foscarnett'" in result.stderr
    assert "unknown key 'findng'" in result.stderr and "did you mean 'finding'?" in result.stderr
    assert "missing required key 'finding'" not in result.stderr  # said once, as the misspelling
    assert "2 problems found in the knowledge base." in result.stderr
