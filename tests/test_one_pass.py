"""Issue 10, item 2 (leftovers): every problem of every file in one pass. A YAML syntax error
in one file hides nothing of the others; with the vocabulary broken (facts.yaml), the other
files -- rules, invariants, scenarios, cases, lint.yaml, context.yaml -- are still checked for
syntax and structure; with the rules broken, invariants, scenarios and cases are still checked
against the vocabulary. A key both missing and misspelt is said once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guidekb.engine.qa.everything import check_everything
from tests.conftest import HSV_KB


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    root = shutil.copytree(HSV_KB, tmp_path / "kb")
    (root / "rules" / "zz-syntax.yaml").write_text("rules:\n  - id: x\n   title: bad\n", encoding="utf-8")
    (root / "scenarios" / "zz-syntax.yaml").write_text("a: [1\n", encoding="utf-8")
    (root / "scenarios" / "zz-bad.yaml").write_text(
        "description: d\ncase: {immune_statu: x}\nexpect: {recommended: [iv_foscarnett]}\n",
        encoding="utf-8")
    (root / "cases" / "zz-bad.yaml").write_text("immune_status: immunocompromized\n", encoding="utf-8")
    (root / "context.yaml").write_text("context:\n  - sorce: x\n    statement: s\n    reason: r\n",
                                       encoding="utf-8")
    lint = root / "lint.yaml"
    lint.write_text(lint.read_text(encoding="utf-8").replace("finding:", "findng:", 1), encoding="utf-8")
    return root


def found(root: Path) -> set[tuple[str, str]]:
    return {(Path(p.file).name, p.message) for p in check_everything(root).problems}


def test_with_broken_rules_every_other_file_is_still_checked_against_the_vocabulary(kb: Path) -> None:
    monitoring = kb / "rules" / "monitoring.yaml"
    monitoring.write_text(monitoring.read_text(encoding="utf-8").replace(
        "fact: on_foscarnet", "fact: on_foscarnett", 1), encoding="utf-8")
    problems = found(kb)
    assert ("zz-syntax.yaml", "YAML syntax error: a key that does not line up with the list that "
            "starts at line 2") in problems
    assert ("zz-syntax.yaml", "YAML syntax error: the [...] list opened at line 1 is not closed") in problems
    assert any(name == "monitoring.yaml" and "undeclared fact 'on_foscarnett'" in m for name, m in problems)
    assert ("zz-bad.yaml", "unknown fact 'immune_statu'") in problems  # the scenario
    assert ("zz-bad.yaml", "expect.recommended: unknown code 'iv_foscarnett'") in problems
    assert ("zz-bad.yaml", "fact 'immune_status': value 'immunocompromized' is not allowed") in problems
    assert ("lint.yaml", "unknown key 'findng' in acknowledgements[0]") in problems
    assert ("lint.yaml", "missing required key 'finding' in acknowledgements[0]") not in problems
    assert ("context.yaml", "unknown key 'sorce' in context[0]") in problems


def test_with_a_broken_vocabulary_the_other_files_are_checked_for_structure(kb: Path) -> None:
    facts = kb / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8").replace("type: boolean", "type: bool", 1),
                     encoding="utf-8")
    problems = found(kb)
    assert any(name == "facts.yaml" and "must be one of boolean" in m for name, m in problems)
    assert ("zz-syntax.yaml", "YAML syntax error: the [...] list opened at line 1 is not closed") in problems
    assert ("zz-syntax.yaml", "YAML syntax error: a key that does not line up with the list that "
            "starts at line 2") in problems
    assert ("lint.yaml", "unknown key 'findng' in acknowledgements[0]") in problems
    assert ("context.yaml", "unknown key 'sorce' in context[0]") in problems
