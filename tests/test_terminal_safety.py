"""Text is inert everywhere (issue 9, point 4): escape sequences, newlines, bidi overrides and
zero-width characters from a knowledge base, a case file or the command line are shown as
escapes, never obeyed, in the terminal, in JSON and in every flowchart format; a location
`c.yaml:100:16:` is never turned into an emoji; piped output is never hard-wrapped."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import tests.visualize_kb as visualize_kb
from guidekb.console import console, plain, shown
from guidekb.engine.format.inert import inert, inert_lines, is_unsafe, json_inert
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.visualize.escaping import dot_html, dot_text, html_text, mermaid_text, one_line
from guidekb.visualize.export import chart
from tests.clirun import assert_inert, guidekb
from tests.conftest import HSV_KB
from tests.kbedit import edit_rule

CASE = HSV_KB / "cases" / "confirmed-resistance.yaml"
FOSCARNET_TITLE = "title: IV foscarnet 40 mg/kg every 8 hours until clinical resolution"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07"  # clear the screen; retitle the window


# --- the one sanitiser ------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown_as"), [
    ("\x1b[2J", "\\x1b[2J"), ("\x1b]0;title\x07", "\\x1b]0;title\\x07"), ("\x9b31m", "\\x9b31m"),
    ("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("a\tb", "a\\tb"), ("\x7f", "\\x7f"), ("\x00", "\\x00"),
    ("\u202eevil", "\\u202eevil"), ("\u2066x\u2069", "\\u2066x\\u2069"), ("\u200e\u200f", "\\u200e\\u200f"),
    ("fam\u200bciclovir", "fam\\u200bciclovir"), ("\u200d", "\\u200d"), ("\ufeff", "\\ufeff"),
    ("\u2028\u2029", "\\u2028\\u2029"), ("\u3164", "\\u3164"), ("\U000e0041", "\\U000e0041"),
    ("\udc80", "\\udc80"),  # an undecodable byte of a file name (surrogateescape)
])
def test_inert_shows_every_unsafe_character_as_its_escape(raw: str, shown_as: str) -> None:
    assert inert(raw) == shown_as
    assert not any(is_unsafe(c) for c in inert(raw))


def test_inert_leaves_ordinary_text_alone() -> None:
    text = "Aciclovir 400 mg — “quoted” é 日本語 ≥ 10 ⚠️ [1, 5] \\N <b> :100:"
    assert inert(text) == text


def test_inert_lines_keeps_only_its_own_line_breaks() -> None:
    assert inert_lines("file:1:2: bad \x1b[2J\n    hint \u202e") == "file:1:2: bad \\x1b[2J\n    hint \\u202e"


def test_json_inert_keeps_the_value_and_hides_nothing() -> None:
    value = {"t\u202eitle": ["x\x1b\x7f\x9b\u200b\U000e0041", 1, "line\nbreak"], "ok": "日本 ⚠️"}
    document = json_inert(json.dumps(value, indent=2, ensure_ascii=False))
    assert json.loads(document) == value
    assert not any(is_unsafe(c) for c in document if c not in "\n")
    assert "\\u202e" in document and "日本 ⚠️" in document and document.count("\n") > 3


def test_console_data_is_never_markup_nor_emoji() -> None:
    with console.capture() as captured:
        console.print(f"at {shown('c.yaml:100:16: [bold]x[/bold] :thumbs_up:')}")
    assert captured.get() == "at c.yaml:100:16: [bold]x[/bold] :thumbs_up:\n"
    assert plain("a\x1b\nb") == "a\\x1b\nb"


# --- knowledge-base text ----------------------------------------------------------------------


@pytest.fixture
def kb_with_hostile_title(tmp_path: Path) -> Path:
    kb = Path(shutil.copytree(HSV_KB, tmp_path / "kb"))
    edit_rule(kb, "foscarnet-for-resistant-hsv", FOSCARNET_TITLE,
              'title: "IV foscarnet\\u202e :100: [bold]x[/bold] \\u200b\\nRECOMMENDED forged"')
    return kb


def test_rule_title_with_newline_bidi_markup_and_emoji_code_prints_inert(
        kb_with_hostile_title: Path, tmp_path: Path) -> None:
    result = guidekb("explain", "--kb", str(kb_with_hostile_title), str(CASE), "iv_foscarnet", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_inert(result.stdout, result.stderr)
    assert ("fired — IV foscarnet\\u202e :100: [bold]x[/bold] \\u200b\\nRECOMMENDED forged"
            in result.stdout)
    assert not any(line.startswith("RECOMMENDED forged") for line in result.stdout.splitlines())


def test_escape_sequences_in_a_rule_title_never_reach_the_terminal(tmp_path: Path) -> None:
    kb = Path(shutil.copytree(HSV_KB, tmp_path / "kb"))
    edit_rule(kb, "foscarnet-for-resistant-hsv", FOSCARNET_TITLE, 'title: "IV foscarnet\\e[2J\\e]0;pwned\\a"')
    for args in (["explain", "--kb", str(kb), str(CASE), "iv_foscarnet"], ["validate", str(kb)],
                 ["flowchart", "--kb", str(kb), "--view", "rules", "--format", "mermaid"]):
        result = guidekb(*args, home=tmp_path)
        assert_inert(result.stdout, result.stderr)
        assert "Traceback" not in result.stderr


def test_outcome_text_is_inert_in_the_answer_and_in_json(tmp_path: Path) -> None:
    kb = Path(shutil.copytree(HSV_KB, tmp_path / "kb"))
    outcomes = kb / "outcomes.yaml"
    old = "text: IV foscarnet 40 mg/kg every 8 hours until clinical resolution (2-3 weeks or complete healing)."
    text = outcomes.read_text(encoding="utf-8")
    assert text.count(old) == 1
    outcomes.write_text(text.replace(old, 'text: "IV foscarnet \\u202elatot\\u2066 [red]x[/red]\\nDO NOT forged"'),
                        encoding="utf-8")
    human = guidekb("run", "--kb", str(kb), str(CASE), home=tmp_path)
    assert human.returncode == 0, human.stderr
    assert_inert(human.stdout, human.stderr)
    assert "iv_foscarnet — IV foscarnet \\u202elatot\\u2066 [red]x[/red]\\nDO NOT forged" in human.stdout
    assert not any(line.startswith("DO NOT forged") for line in human.stdout.splitlines())
    as_json = guidekb("run", "--kb", str(kb), str(CASE), "--json", home=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    assert_inert(as_json.stdout)
    texts = {r["code"]: r["text"] for r in json.loads(as_json.stdout)[0]["answer"]["recommendations"]}
    assert texts["iv_foscarnet"] == "IV foscarnet \u202elatot\u2066 [red]x[/red]\nDO NOT forged"


# --- case files -------------------------------------------------------------------------------


def test_escape_sequences_and_bidi_in_case_keys_are_shown_escaped(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text('"\\e[2J\\e]0;pwned\\a": 1\n"immune\\u202e_status": immunocompromised\n'
                    '"days\\nforged: 3": 1\n', encoding="utf-8")
    result = guidekb("run", str(case), home=tmp_path)
    assert result.returncode == 2
    assert_inert(result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert not any(line.startswith("forged") for line in result.stderr.splitlines())


def test_bidi_in_a_case_key_is_named_escaped_in_the_problem(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text('"immune\\u202e_status": immunocompromised\n', encoding="utf-8")
    result = guidekb("run", str(case), home=tmp_path)
    assert result.returncode == 2
    assert_inert(result.stderr)
    assert "immune\\u202e_status" in result.stderr


def test_location_at_line_100_is_not_an_emoji(tmp_path: Path) -> None:
    case = tmp_path / "c.yaml"
    case.write_text("# padding\n" * 99 + "immune_status: immunosupressed\n", encoding="utf-8")
    result = guidekb("run", str(case), home=tmp_path, cwd=tmp_path)
    assert result.returncode == 2
    assert "c.yaml:100:16: " in result.stderr
    assert "\N{HUNDRED POINTS SYMBOL}" not in result.stderr + result.stdout


# --- command-line arguments -------------------------------------------------------------------


def test_escape_sequences_in_arguments_are_shown_escaped(tmp_path: Path) -> None:
    code = f"{ESCAPES}famciclovr\u202e\nforged"
    result = guidekb("explain", str(CASE), code, home=tmp_path)
    assert result.returncode == 2
    assert_inert(result.stdout, result.stderr)
    assert "\\x1b[2J\\x1b]0;pwned\\x07famciclovr\\u202e\\nforged" in result.stderr
    assert [line for line in result.stderr.splitlines() if not line.startswith(" ")] == [
        line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_escape_sequences_in_file_arguments_are_shown_escaped(tmp_path: Path) -> None:
    for args, status in ((["run", f"{ESCAPES}\u202e.yaml"], 2),
                         (["flowchart", "--view", f"{ESCAPES}\nforged"], 2),
                         (["validate", str(tmp_path / f"{ESCAPES}kb")], 2),
                         (["flowchart", "--format", "dot", "-o", str(tmp_path / f"{ESCAPES}\u202e" / "x.dot")], 0)):
        result = guidekb(*args, home=tmp_path)
        assert result.returncode == status, (args, result.stderr)
        assert_inert(result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "\\x1b" in result.stderr + result.stdout, args
        assert not any(line.startswith("forged") for line in result.stderr.splitlines())


# --- piped output -----------------------------------------------------------------------------


def test_piped_output_is_never_hard_wrapped(tmp_path: Path) -> None:
    result = guidekb("run", str(CASE), home=tmp_path)  # no COLUMNS: Rich would assume 80
    assert result.returncode == 0, result.stderr
    quote = ("“The primary clinical sign of valacyclovir resistance is persistent or progressive HSV "
             "lesions that fail to begin resolving within 7-10 days of appropriate antiviral therapy” "
             "— valacyclovir-resistance-signs, Signs of Valacyclovir Resistance [1]")
    assert any(line.strip() == quote for line in result.stdout.splitlines())


# --- every flowchart format -------------------------------------------------------------------

INVISIBLE = "\u202eRLO\u2066LRI\u200bZWSP\u200dZWJ"


def test_escaping_functions_show_controls_and_bidi_as_escapes() -> None:
    assert one_line("a\x1bb\u202ec\nd\te") == "a\\x1bb\\u202ec d e"
    for escaped in (dot_text(INVISIBLE), dot_html(INVISIBLE), html_text(INVISIBLE), mermaid_text(INVISIBLE)):
        assert not any(is_unsafe(c) for c in escaped)
    assert "\\u202eRLO" in html_text(INVISIBLE) and "#92;u202eRLO" in mermaid_text(INVISIBLE)


@pytest.fixture(scope="module")
def invisible_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(visualize_kb, "HOSTILE", f"{visualize_kb.HOSTILE} {INVISIBLE}")
    try:
        return visualize_kb.write_kb(tmp_path_factory.mktemp("invisible") / "kb", hostile=True)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("fmt", ["dot", "mermaid", "svg", "html"])
@pytest.mark.parametrize("view", ["decisions", "rules"])
def test_bidi_and_zero_width_characters_are_escaped_in_every_format(invisible_kb: Path, view: str,
                                                                     fmt: str) -> None:
    if fmt in ("svg", "html") and shutil.which("dot") is None:
        pytest.skip("graphviz `dot` not installed")
    kb = load_knowledge_base(invisible_kb)
    assert INVISIBLE in kb.rules[0].title  # the hostile text really is in the knowledge base
    output = chart(kb, view, fmt).decode()
    unsafe = sorted({f"U+{ord(c):04X}" for c in output if is_unsafe(c) and c not in "\n\t\r"})
    assert unsafe == []
    assert re.search(r"(\\|#92;)u202eRLO", output)
