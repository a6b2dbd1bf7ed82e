"""Source coverage: every statement of both HSV articles is encoded or declared context, and
the report (terminal, Markdown, HTML) and context.yaml behave as documented."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from guidekb.coverage_render import anchor, to_html, to_markdown
from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.qa.source_coverage import encoding_rules, load_context, measure
from tests.conftest import HSV_KB, ROOT

GUIDEKB = str(ROOT / ".venv" / "bin" / "guidekb")
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}


def copy_kb(tmp_path: Path) -> Path:
    target = tmp_path / "hsv"
    shutil.copytree(HSV_KB, target)
    return target


def test_no_statement_of_either_article_is_missing(hsv_kb: KnowledgeBase) -> None:
    report = measure(hsv_kb)
    assert [(s.statement.key, s.statement.text) for s in report.missing] == []
    for source in hsv_kb.documents:
        assert report.count("encoded", source) > 0
    assert report.stale_notes == []


def test_actionable_statements_are_encoded_not_waved_through_as_context(hsv_kb: KnowledgeBase) -> None:
    by_text = {s.statement.text: s for s in measure(hsv_kb).statements}

    def status(prefix: str) -> str:
        [row] = [row for text, row in by_text.items() if text.startswith(prefix)]
        return row.status

    for prefix in ("Do not switch to famciclovir", "Do not use topical acyclovir",
                   "Monitor renal function at initiation", "Ensure adequate hydration",
                   "For patients with very frequent recurrences", "Topical trifluridine or imiquimod",
                   "Do not continue ineffective oral antiviral", "Bone marrow and organ transplant"):
        assert status(prefix) == "encoded", prefix
    assert status("Approximately 95% of resistant isolates") == "context"


def test_the_rules_that_quote_a_statement_are_the_ones_listed(hsv_kb: KnowledgeBase) -> None:
    quoted = encoding_rules(hsv_kb)
    [topical] = [s for s in quoted if s.text.startswith("Do not use topical acyclovir")]
    assert quoted[topical] == ["never-topical-acyclovir"]


def test_dropping_a_rule_makes_its_statement_missing(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    path = root / "rules" / "monitoring.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: foscarnet-hydration")
    path.write_text(text[:start], encoding="utf-8")
    report = measure(load_knowledge_base(root))
    assert [s.statement.text for s in report.missing] == ["Ensure adequate hydration during therapy"]
    result = subprocess.run([GUIDEKB, "coverage", str(root), "--fail-on-missing", "--missing-only"],
                            capture_output=True, text=True, env=ENV)
    assert result.returncode == 1
    assert "Ensure adequate hydration during therapy" in result.stdout
    assert "1 missing" in result.stdout


def test_the_real_knowledge_base_passes_fail_on_missing() -> None:
    result = subprocess.run([GUIDEKB, "coverage", str(HSV_KB), "--fail-on-missing"],
                            capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 missing" in result.stdout


def test_without_context_file_background_is_missing(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    (root / "context.yaml").unlink()
    report = measure(load_knowledge_base(root))
    assert report.count("context") == 0
    assert any(s.statement.text.startswith("Approximately 95%") for s in report.missing)


@pytest.mark.parametrize(("entry", "message", "hint"), [
    ("  - source: valacyclovir-resistanc-signs\n    statement: x\n    reason: r\n",
     "unknown source 'valacyclovir-resistanc-signs'", "did you mean 'valacyclovir-resistance-signs'?"),
    ("  - source: valacyclovir-resistance-signs\n    statement: Resistance remains belo 0.5%\n    reason: r\n",
     "no statement of 'valacyclovir-resistance-signs' starts with this text", "Resistance remains below 0.5%"),
    ("  - source: valacyclovir-resistance-signs\n    statement: Resistance\n    reason: r\n",
     "3 statements of 'valacyclovir-resistance-signs' start with this text", "write more"),
    ("  - source: valacyclovir-resistance-signs\n    statement: These mutations result\n    reason: r\n",
     "statement already noted at line", "remove one"),
])
def test_context_problems_are_located(tmp_path: Path, entry: str, message: str, hint: str) -> None:
    root = copy_kb(tmp_path)
    context = root / "context.yaml"
    before = context.read_text(encoding="utf-8")
    context.write_text(before + entry, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as raised:
        load_context(load_knowledge_base(root))
    [problem] = raised.value.problems
    assert problem.file.endswith("context.yaml")
    assert problem.line in (before.count("\n") + 1, before.count("\n") + 2)
    assert message in problem.message
    assert hint in problem.hint


def test_a_bad_context_file_exits_2_without_traceback(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    (root / "context.yaml").write_text("context:\n  - source: x\n    statment: y\n    reason: z\n",
                                       encoding="utf-8")
    result = subprocess.run([GUIDEKB, "coverage", str(root)], capture_output=True, text=True, env=ENV)
    assert result.returncode == 2
    assert "context.yaml:3:5: unknown key 'statment'" in result.stderr
    assert "Traceback" not in result.stderr


def test_markdown_links_every_statement_to_its_rules(hsv_kb: KnowledgeBase) -> None:
    text = to_markdown(measure(hsv_kb))
    assert f"[never-topical-acyclovir](#{anchor('never-topical-acyclovir')})" in text
    assert f'<a id="{anchor("never-topical-acyclovir")}"></a>' in text
    assert "0 missing" in text
    # Brackets of reference numbers are escaped so they never become links.
    assert "\\[1, 5\\]" in text


def test_html_escapes_knowledge_base_text(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    context = root / "context.yaml"
    context.write_text(context.read_text(encoding="utf-8").replace(
        "reason: Mechanism (thymidine kinase deficiency)", "reason: <script>alert(1)</script> & co"),
        encoding="utf-8")
    html_text = to_html(measure(load_knowledge_base(root)))
    assert "<script>" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html_text
    assert f'<h3 id="{anchor("never-topical-acyclovir")}">' in html_text
    assert f'<a href="#{anchor("never-topical-acyclovir")}">never-topical-acyclovir</a>' in html_text
    md = to_markdown(measure(load_knowledge_base(root)))
    assert "<script>" not in md


def test_cli_writes_each_format_to_a_file(tmp_path: Path) -> None:
    for fmt, marker in (("markdown", "# Source coverage"), ("html", "<!DOCTYPE html>"), ("table", "encoded")):
        out = tmp_path / f"report.{fmt}"
        result = subprocess.run([GUIDEKB, "coverage", str(HSV_KB), "--format", fmt, "-o", str(out)],
                                capture_output=True, text=True, env=ENV)
        assert result.returncode == 0, result.stderr
        assert marker in out.read_text(encoding="utf-8")
        assert "0 missing" in result.stdout
