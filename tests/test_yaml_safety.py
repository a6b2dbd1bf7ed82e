"""Hostile and broken YAML is refused, located and quick: the reproducers of issue 9.

Each test here failed before the one safe YAML reading (engine/format/yamlsource.py): `010`
was read as 8, a 370-byte alias bomb ran for 91 s, a self-referencing alias and deep nesting
raised RecursionError, control characters raised a ReaderError traceback, a FIFO or
/dev/urandom never returned, a 300-character file name raised OSError, and a manifest could
read `/etc/passwd`. docs/reliability.md states the promises tested here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import guidekb.engine.format.yamlcompose as yamlcompose
from guidekb.engine.errors import CaseError, KnowledgeBaseError, Problem
from guidekb.engine.format.cases import load_case, parse_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.yamlsource import CASE_LIMITS, KB_LIMITS, load_yaml, parse_yaml
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB, ROOT
from tests.fuzzing import BILLION_LAUGHS, NASTY_SNIPPETS, watchdog
from tests.minikb import edit, write_mini_kb

FAMCICLOVIR_CASE = """\
current_antiviral: famciclovir
days_on_therapy: {days}
lesion_course: progressive
dose_adequate: true
adherent: true
immune_status: immunocompromised
"""


def case_problems(text: str, kb: KnowledgeBase) -> list[Problem]:
    with pytest.raises(CaseError) as caught:
        parse_case(text, kb, name="c.yaml")
    return list(caught.value.problems)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


# --- scalars: YAML 1.2 core, narrowed ----------------------------------------------------------


def test_day_ten_written_with_a_leading_zero_is_refused_not_read_as_octal(
        hsv_kb: KnowledgeBase, hsv_engine: Engine) -> None:
    """The reproducer: `010` was 8, so the patient lost suspect_resistance and the famciclovir
    prohibition. Now it is an error saying what to write; `10` gives both."""
    answer = hsv_engine.evaluate(parse_case(FAMCICLOVIR_CASE.format(days="10"), hsv_kb))
    assert "suspect_resistance" in [r.code for r in answer.recommendations]
    assert "famciclovir" in [p.code for p in answer.prohibitions]
    problem = only(case_problems(FAMCICLOVIR_CASE.format(days="010"), hsv_kb))
    assert problem.render() == (
        "c.yaml:2:18: number '010' has a leading zero: write 10\n"
        "    YAML 1.1 reads 010 as 8 (octal) and YAML 1.2 as 10; guidekb refuses to guess: "
        "write 10, or quote it ('010') if it is text")
    assert problem.code.name == "ambiguous-number"


@pytest.mark.parametrize(("written", "kind"), [
    ("0x0E", "hexadecimal: YAML reads 0x0E as 14"),
    ("0o17", "octal: YAML 1.2 reads 0o17 as 15"),
    ("0b101", "binary: YAML 1.1 reads 0b101 as 5"),
    ("1:30", "base 60: YAML 1.1 reads 1:30 as 90"),
    ("1_0", "digit separators: YAML 1.1 reads 1_0 as 10, YAML 1.2 as text"),
    ("1e3", "not a whole number"),
    ("1.5", "not a whole number"),
    ("14.0", "not a whole number"),
    (".inf", "not a whole number"),
    ("-.inf", "not a whole number"),
    (".nan", "not a whole number"),
])
def test_numbers_readers_disagree_on_are_refused_in_a_case(hsv_kb: KnowledgeBase, written: str,
                                                           kind: str) -> None:
    problem = only(case_problems(FAMCICLOVIR_CASE.format(days=written), hsv_kb))
    assert (problem.line, problem.column) == (2, 18)
    assert problem.message == f"number '{written}' is not a plain decimal whole number"
    assert problem.hint.startswith(kind)
    assert problem.code.name == "ambiguous-number"


@pytest.mark.parametrize("written", ["09", "-010", "00", "+07"])
def test_every_leading_zero_is_refused(hsv_kb: KnowledgeBase, written: str) -> None:
    problem = only(case_problems(FAMCICLOVIR_CASE.format(days=written), hsv_kb))
    assert problem.message.startswith(f"number '{written}' has a leading zero: write ")


@pytest.mark.parametrize(("written", "value"), [("10", 10), ("+10", 10), ("0", 0), ('"10"', None),
                                                ("'010'", None)])
def test_plain_decimal_integers_are_read_and_quoted_ones_are_text(written: str, value: int | None) -> None:
    doc, problems = parse_yaml(f"n: {written}\n", "c.yaml", CASE_LIMITS)
    assert not problems
    assert doc.data["n"] == (value if value is not None else written.strip("'\""))


@pytest.mark.parametrize("written", ["yes", "no", "on", "off", "y", "n", "Yes", "ON"])
def test_yes_no_on_off_are_text_so_a_boolean_fact_refuses_them(hsv_kb: KnowledgeBase, written: str) -> None:
    doc, problems = parse_yaml(f"flag: {written}\n", "c.yaml", CASE_LIMITS)
    assert not problems and doc.data == {"flag": written}
    problem = only(case_problems(f"on_foscarnet: {written}\n", hsv_kb))
    assert problem.message == f"fact 'on_foscarnet': value '{written}' is not allowed"
    meant = "true" if written.lower() in ("yes", "on", "y") else "false"
    assert problem.hint == f"allowed: true or false; '{written}' is text in guidekb (YAML 1.2): write {meant}"


@pytest.mark.parametrize(("written", "value"), [
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False),
    ("FALSE", False), ("null", None), ("Null", None), ("NULL", None), ("~", None), ("", None),
    ("2026-02-08", "2026-02-08"), ("0.1.0", "0.1.0"), ("tRue", "tRue"), ("! 010", "010"),
    ("!!str 010", "010"),
])
def test_booleans_null_and_text(written: str, value: Any) -> None:
    doc, problems = parse_yaml(f"v: {written}\n", "c.yaml", CASE_LIMITS)
    assert not problems
    assert doc.data == {"v": value}


@pytest.mark.parametrize(("file", "old", "new", "expected"), [
    ("rules/main.yaml", "          ge: 10", "          ge: 010",
     "rules/main.yaml:9:15: number '010' has a leading zero: write 10"),
    ("rules/main.yaml", "          ge: 10", "          ge: 0x0A",
     "rules/main.yaml:9:15: number '0x0A' is not a plain decimal whole number"),
    ("rules/main.yaml", "          ge: 10", "          ge: 1:30",
     "rules/main.yaml:9:15: number '1:30' is not a plain decimal whole number"),
    ("rules/main.yaml", "          ge: 10", "          ge: 1_0",
     "rules/main.yaml:9:15: number '1_0' is not a plain decimal whole number"),
    ("rules/main.yaml", "          ge: 10", "          ge: 1e1",
     "rules/main.yaml:9:15: number '1e1' is not a plain decimal whole number"),
    ("facts.yaml", "    max: 3650", "    max: 03650",
     "facts.yaml:9:10: number '03650' has a leading zero: write 3650"),
    ("rules/main.yaml", "        refs: [1, 2]\n\n  - id: suspect", "        refs: [01, 2]\n\n  - id: suspect",
     "rules/main.yaml:16:16: number '01' has a leading zero: write 1"),
])
def test_ambiguous_numbers_are_refused_in_knowledge_base_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, old: str, new: str,
        expected: str) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / file, old, new)
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    assert [p.render().split("\n")[0] for p in caught.value.problems] == [expected]


def test_yes_in_a_rule_is_text_not_true(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / "rules" / "main.yaml", "      fact: on_foscarnet\n      equals: true",
         "      fact: on_foscarnet\n      equals: yes")
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    assert "'yes'" in caught.value.problems[0].message


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!int 010\n", "unsupported YAML value: tag tag:yaml.org,2002:int"),
    ("a: !!binary aGk=\n", "unsupported YAML value: tag tag:yaml.org,2002:binary"),
    ("a: !!timestamp 2026-02-08\n", "unsupported YAML value: tag tag:yaml.org,2002:timestamp"),
    ("a: !!set {x, y}\n", "unsupported YAML value: tag tag:yaml.org,2002:set"),
    ("a: &a {b: 1}\nc: {<<: *a}\n", "merge keys ('<<') are not supported"),
    ("010: x\n", "number '010' has a leading zero: write 10"),
    ("a: 99999999999999999999\n", "number '99999999999999999999' is too large: guidekb reads "
                                  "whole numbers up to 9,007,199,254,740,991"),
    ("a: " + "9" * 5000 + "\n", "number '9999999999999999999999999999999999999...' is too large: "
                                "guidekb reads whole numbers up to 9,007,199,254,740,991"),
])
def test_tags_merge_keys_and_huge_numbers_are_refused(text: str, message: str) -> None:
    _, problems = parse_yaml(text, "k.yaml", KB_LIMITS)
    assert [p.message for p in problems] == [message]


# --- limits: refused quickly, the limit named ---------------------------------------------------


def refused_quickly(text: str, limits: Any, seconds: float = 1.0) -> Problem:
    start = time.monotonic()
    _, problems = parse_yaml(text, "x.yaml", limits)
    assert time.monotonic() - start < seconds
    return only(problems)


def test_billion_laughs_is_refused_without_expanding() -> None:
    assert len(BILLION_LAUGHS) < 400
    problem = refused_quickly(BILLION_LAUGHS, KB_LIMITS, seconds=0.2)
    assert problem.message == "aliases expand to more than 200,000 values in one knowledge-base file"
    assert problem.code.name == "input-limit"
    problem = refused_quickly(BILLION_LAUGHS, CASE_LIMITS, seconds=0.2)
    assert (problem.line, problem.column, problem.message) == (
        1, 4, "anchors (&a) are not allowed in a case file")


def test_an_alias_that_contains_itself_is_refused_not_a_recursion_error(hsv_kb: KnowledgeBase) -> None:
    assert refused_quickly("immune_status: &a [*a]\n", KB_LIMITS).message == (
        "an alias refers to a value that contains it: the value would never end")
    assert refused_quickly("a: &a {b: {c: *a}}\n", KB_LIMITS).message == (
        "an alias refers to a value that contains it: the value would never end")
    assert only(case_problems("immune_status: &a [*a]\n", hsv_kb)).message == (
        "anchors (&a) are not allowed in a case file")


def test_aliases_are_counted_and_their_expansion_measured() -> None:
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    assert refused_quickly(many, KB_LIMITS).message == (
        "too many aliases: more than 100 in one knowledge-base file")
    deep = "a: &a " + "[" * 30 + "]" * 30 + "\nb: &b " + "[" * 25 + "*a" + "]" * 25 + "\n"
    assert refused_quickly(deep, KB_LIMITS).message.startswith("nesting too deep once aliases are expanded")
    doc, problems = parse_yaml("a: &a [x, y]\nb: *a\n", "k.yaml", KB_LIMITS)
    assert not problems and doc.data == {"a": ["x", "y"], "b": ["x", "y"]}


@pytest.mark.parametrize("text", [
    "a: " + "[" * 500 + "]" * 500 + "\n",
    "a: " + "{b: " * 500 + "1" + "}" * 500 + "\n",
    "".join(" " * i + "k:\n" for i in range(500)),
    "[" * 1_000_000,
])
@pytest.mark.parametrize("limits", [CASE_LIMITS, KB_LIMITS])
def test_deep_nesting_is_refused_not_a_recursion_error(text: str, limits: Any) -> None:
    problem = refused_quickly(text, limits)
    assert problem.message == "nesting too deep: more than 50 levels of lists and mappings"


def test_key_count_string_length_and_file_size_are_limited(tmp_path: Path) -> None:
    keys = "".join(f"k{i}: 1\n" for i in range(1001))
    assert refused_quickly(keys, CASE_LIMITS) == Problem(
        "x.yaml", 1001, 1, "too many keys: more than 1,000 in one case file",
        "split the file, or check that it is the file you meant")
    long_text = "a: " + "x" * 1001 + "\n"
    assert refused_quickly(long_text, CASE_LIMITS).message == (
        "text too long: 1,001 characters; the limit for one value in a case file is 1,000")
    assert refused_quickly("a: " + "x" * 20_001, KB_LIMITS).message.startswith("text too long")
    values = "[" + ", ".join(["1"] * 10_001) + "]"
    assert refused_quickly(values, CASE_LIMITS).message == (
        "too many values: more than 10,000 in one case file")
    big = tmp_path / "big.yaml"
    big.write_text("immune_status: " + "x" * (50 * 1024 * 1024), encoding="utf-8")
    start = time.monotonic()
    _, problems = load_yaml(big, CASE_LIMITS)
    assert time.monotonic() - start < 0.5
    assert only(problems).message == "file too large: 52,428,815 bytes; the limit for a case file is 1 MiB"
    assert "xxx" not in only(problems).render()  # the value is never echoed


@pytest.mark.parametrize(("text", "line", "column", "name"), [
    ("a: b\x00c\n", 1, 5, "U+0000 (NUL)"),
    ("a: 1\nb: x\x7f\n", 2, 5, "U+007F (DEL)"),
    ("a: \x1b[2J\n", 1, 4, "U+001B (ESC)"),
    ("a: x\x1b]0;title\x07\n", 1, 5, "U+001B (ESC)"),
    ("a: 1\r\nb: \x9b2J\n", 2, 4, "U+009B (CSI)"),
    ("a: \x85\n", 1, 4, "U+0085 (NEL)"),
    ("a: x\x0c\n", 1, 5, "U+000C (FF)"),
    ("a: \ufffe\n", 1, 4, "U+FFFE (non-character)"),
])
def test_control_characters_are_refused_with_their_position(text: str, line: int, column: int,
                                                           name: str) -> None:
    problem = refused_quickly(text, CASE_LIMITS)
    assert (problem.line, problem.column) == (line, column)
    assert problem.message.startswith(f"control character {name} is not allowed")
    assert problem.code.name == "control-character"


@pytest.mark.parametrize("escape", ["\\e[2J", "\\x1b", "\\0", "\\r", "\\x85", "\\u009b", "\\a"])
def test_control_characters_written_as_escapes_are_refused(escape: str) -> None:
    problem = refused_quickly(f'a: "x{escape}"\n', KB_LIMITS)
    assert (problem.line, problem.column) == (1, 4)
    assert problem.message.startswith("control character U+00")
    assert problem.message.endswith(" in a value is not allowed")


def test_tab_and_newline_stay_allowed() -> None:
    doc, problems = parse_yaml('a: "x\\ty\\nz"\nb: |\n  one\n  two\n', "k.yaml", KB_LIMITS)
    assert not problems and doc.data == {"a": "x\ty\nz", "b": "one\ntwo\n"}


def test_invalid_utf8_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    _, problems = load_yaml(path, CASE_LIMITS)
    problem = only(problems)
    assert (problem.line, problem.column) == (2, 7)
    assert problem.message == "invalid UTF-8: byte 0xe9 cannot start or continue a character here"
    path.write_bytes("a: 1\n".encode("utf-16"))
    assert only(load_yaml(path, CASE_LIMITS)[1]).hint == "the file looks like UTF-16; save it as UTF-8"


# --- only regular files, names that cannot be opened ---------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "case.yaml"
    os.mkfifo(path)
    yield path


def test_fifo_device_and_folder_are_refused_at_once(fifo: Path, tmp_path: Path,
                                                    hsv_kb: KnowledgeBase) -> None:
    for path, message in [(fifo, "not a regular file (a device, FIFO or socket): refused, it "
                                 "could block or never end"),
                          (Path("/dev/urandom"), "not a regular file (a device, FIFO or socket): "
                                                 "refused, it could block or never end"),
                          (tmp_path, "this is a folder, not a file")]:
        start = time.monotonic()
        with watchdog(10), pytest.raises(CaseError) as caught:
            load_case(path, hsv_kb)
        assert time.monotonic() - start < 1
        assert only(list(caught.value.problems)).message == message


def test_a_link_to_a_device_is_refused(tmp_path: Path, hsv_kb: KnowledgeBase) -> None:
    link = tmp_path / "case.yaml"
    link.symlink_to("/dev/zero")
    with watchdog(10), pytest.raises(CaseError) as caught:
        load_case(link, hsv_kb)
    assert "not a regular file" in only(list(caught.value.problems)).message


def test_a_file_name_too_long_is_a_problem_not_an_os_error(hsv_kb: KnowledgeBase) -> None:
    with pytest.raises(CaseError) as caught:
        load_case("x" * 300 + ".yaml", hsv_kb)
    problem = only(list(caught.value.problems))
    assert problem.message == "cannot read file: file name too long"
    assert problem.code.name == "unreadable-file"


# --- source files stay inside the knowledge base ----------------------------------------------


@pytest.mark.parametrize(("path", "message"), [
    ("../outside.txt", "source file '../outside.txt' is outside the knowledge base"),
    ("sources/../../outside.txt", "source file 'sources/../../outside.txt' is outside the knowledge base"),
    ("/etc/passwd", "source file '/etc/passwd' is an absolute path"),
    ("sources/link.txt", "source file 'sources/link.txt' is outside the knowledge base"),
    ("x" * 300 + ".txt", "source file '" + "x" * 300 + ".txt': cannot read file: file name too long"),
    ("sources", "source file 'sources': this is a folder, not a file"),
    ("sources/fifo.txt", "source file 'sources/fifo.txt': not a regular file (a device, FIFO or "
                         "socket): refused, it could block or never end"),
])
def test_source_files_stay_inside_the_knowledge_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     path: str, message: str) -> None:
    root = write_mini_kb(tmp_path / "kb")
    (tmp_path / "outside.txt").write_text("a secret\n", encoding="utf-8")
    (root / "sources" / "link.txt").symlink_to(tmp_path / "outside.txt")
    os.mkfifo(root / "sources" / "fifo.txt")
    edit(root / "manifest.yaml", "file: sources/persistent-cold-sores-next-step.txt", f"file: '{path}'")
    monkeypatch.chdir(root)
    with watchdog(10), pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column, problem.message) == (
        "manifest.yaml", 10, 11, message)
    assert "a secret" not in caught.value.render()


def test_a_link_inside_the_knowledge_base_is_followed(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path / "kb")
    (root / "sources" / "alias.txt").symlink_to(root / "sources" / "persistent-cold-sores-next-step.txt")
    edit(root / "manifest.yaml", "file: sources/persistent-cold-sores-next-step.txt",
         "file: sources/alias.txt")
    original = (root / "sources" / "persistent-cold-sores-next-step.txt").read_text(encoding="utf-8")
    assert load_knowledge_base(root).sources["cold-sores"].raw == original


def test_a_control_character_in_a_source_text_is_located_in_the_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    source = root / "sources" / "persistent-cold-sores-next-step.txt"
    source.write_text("Management\x1b[2J\n" + source.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column) == (
        "sources/persistent-cold-sores-next-step.txt", 1, 11)
    assert problem.message == "control character U+001B (ESC) is not allowed"


def test_equals_null_in_a_rule_is_a_problem_not_an_assertion_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / "rules" / "main.yaml", "      fact: on_foscarnet\n      equals: true",
         "      fact: on_foscarnet\n      equals: null")
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    assert [p.render() for p in caught.value.problems] == [
        "rules/main.yaml:51:7: rules[3].when: a test of fact 'on_foscarnet' compares with null; "
        "to test that the fact is not given, write 'unknown: on_foscarnet'"]


# --- the command line: exit 2, one message, no traceback ---------------------------------------


@pytest.mark.parametrize(("content", "expected"), [
    (FAMCICLOVIR_CASE.format(days="010"), "number '010' has a leading zero: write 10"),
    (BILLION_LAUGHS, "anchors (&a) are not allowed in a case file"),
    ("immune_status: \x1b[2J\n", "control character U+001B (ESC) is not allowed"),
])
def test_the_cli_exits_2_with_the_problem(tmp_path: Path, content: str, expected: str) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(content, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "guidekb", "run", str(case), "--kb", str(HSV_KB)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr


# --- valid input reads as before; both parsers agree -----------------------------------------


def repository_yaml() -> list[Path]:
    return sorted(p for folder in ("knowledge", "docs", "tests") for p in (ROOT / folder).rglob("*.y*ml")
                  if "__pycache__" not in p.parts)


def test_every_yaml_file_of_the_repository_reads_as_pyyaml_read_it() -> None:
    """No change for valid input: our reader gives PyYAML's `safe_load` values, except that a
    date stays text (pydantic reads it as a date where the format asks for one)."""
    def dates_as_text(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: dates_as_text(v) for k, v in value.items()}
        if isinstance(value, list):
            return [dates_as_text(v) for v in value]
        return value.isoformat() if hasattr(value, "isoformat") else value

    files = repository_yaml()
    assert len(files) > 50
    for path in files:
        doc, problems = load_yaml(path)
        assert not problems, problems
        assert doc.data == dates_as_text(yaml.safe_load(path.read_text(encoding="utf-8"))), path


def parse_both(text: str, limits: Any = KB_LIMITS) -> tuple[Any, Any]:
    """(libyaml, pure Python): data, positions and problems of each parse."""
    def parse() -> Any:
        doc, problems = parse_yaml(text, "x.yaml", limits)
        return doc.data, doc.values, doc.keys, [p.render() for p in problems]
    with_c = parse()
    saved, yamlcompose.LIBYAML = yamlcompose.LIBYAML, None
    try:
        return with_c, parse()
    finally:
        yamlcompose.LIBYAML = saved


@pytest.mark.skipif(yamlcompose.LIBYAML is None, reason="PyYAML without libyaml")
def test_libyaml_and_pure_python_read_every_repository_file_alike() -> None:
    for path in repository_yaml():
        with_c, pure = parse_both(path.read_text(encoding="utf-8"))
        assert with_c == pure, path


@pytest.mark.skipif(yamlcompose.LIBYAML is None, reason="PyYAML without libyaml")
@given(seed=st.sampled_from(repository_yaml()[:30]), at=st.integers(0, 4000),
       snippet=st.sampled_from(NASTY_SNIPPETS[:80]) | st.text(max_size=12), cut=st.booleans())
def test_libyaml_and_pure_python_agree_on_broken_text(seed: Path, at: int, snippet: str, cut: bool) -> None:
    """A syntax error is worded by the pure-Python parser whichever is installed, and libyaml
    accepts nothing the pure-Python parser refuses."""
    text = seed.read_text(encoding="utf-8")
    at = at % (len(text) + 1)
    mutant = text[:at] if cut else text[:at] + snippet + text[at:]
    with_c, pure = parse_both(mutant)
    assert with_c == pure


@pytest.mark.parametrize("libyaml", [True, False])
def test_syntax_errors_read_the_same_with_and_without_libyaml(monkeypatch: pytest.MonkeyPatch,
                                                              libyaml: bool) -> None:
    if not libyaml:
        monkeypatch.setattr(yamlcompose, "LIBYAML", None)
    _, problems = parse_yaml("a: [1, 2\nb: 3\n", "x.yaml")
    assert [p.render() for p in problems] == [
        "x.yaml:2:2: YAML syntax error: the [...] list opened at line 1 is not closed\n"
        "    close it with ']'; separate its items with commas"]


@pytest.mark.parametrize("libyaml", [True, False])
def test_an_escape_beyond_unicode_is_a_syntax_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                                     libyaml: bool) -> None:
    """Found by tests/test_yaml_fast_compose.py: PyYAML's pure-Python scanner (which rewords
    what libyaml refuses) raised ValueError from chr(0x1000010), and `guidekb run` exited 3."""
    if not libyaml:
        monkeypatch.setattr(yamlcompose, "LIBYAML", None)
    _, problems = parse_yaml('a: "\\U01000010"\n', "x.yaml")
    assert [p.render() for p in problems] == [
        "x.yaml:1:7: YAML syntax error: an escape '\\U...' beyond the last Unicode character, "
        "\\U0010FFFF\n    write the character itself, or use single quotes, where a backslash is "
        "plain text"]
    doc, problems = parse_yaml('a: "\\U0010FFFF"\n', "x.yaml")
    assert not problems and doc.data == {"a": "\U0010ffff"}


@pytest.mark.parametrize("root", ["a/" * 3000, "x" * 300])
def test_a_knowledge_base_path_too_long_is_a_problem(root: str) -> None:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    assert caught.value.problems[0].message == "no manifest.yaml here"


@pytest.mark.parametrize("target", [None, "/dev/urandom"])
def test_a_rules_file_that_is_a_fifo_or_a_device_is_refused_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str | None) -> None:
    root = write_mini_kb(tmp_path / "kb")
    if target is None:
        os.mkfifo(root / "rules" / "extra.yaml")
    else:
        (root / "rules" / "extra.yaml").symlink_to(target)
    monkeypatch.chdir(root)
    with watchdog(10), pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    assert [(p.file, p.message) for p in caught.value.problems] == [
        ("rules/extra.yaml", "not a regular file (a device, FIFO or socket): refused, it could "
                             "block or never end")]


@pytest.mark.parametrize(("tail", "words"), [
    ("bad: [1, 2\nz: 3\n", "the [...] list opened at line {n} is not closed"),
    ("a: b: c\n", "a ':' where no key can start"),
])
def test_a_large_broken_file_is_reported_from_libyamls_reading_not_read_again_slowly(
        monkeypatch: pytest.MonkeyPatch, tail: str, words: str) -> None:
    """A syntax error near the end of a large file was read a second time by the pure-Python
    parser, for its wording: 20 s for 1 MiB. Above REREAD_LIMIT libyaml's own error is
    reported, at the same line and column and in the same author's words."""
    if yamlcompose.LIBYAML is None:
        pytest.skip("PyYAML was built without libyaml")
    lines = yamlcompose.REREAD_LIMIT // 5  # over the limit: each line is 7 to 10 bytes
    text = "".join(f"k{i}: v\n" for i in range(lines)) + tail

    def no_second_reading(*args: Any) -> Any:
        raise AssertionError("the pure-Python parser read a large file again")

    monkeypatch.setattr(yamlcompose, "_PythonParser", no_second_reading)
    _, problems = parse_yaml(text, "rules/large.yaml")
    assert [(p.line, p.message) for p in problems] == [
        (lines + 1 + tail.startswith("bad"), "YAML syntax error: " + words.format(n=lines + 1))]
