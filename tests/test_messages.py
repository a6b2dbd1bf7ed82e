"""Issue 10, item 7: messages in the author's words. A tab gets "indent with spaces"; the
did-you-mean prefers the intended spelling (`section` -> `sections`) and never the opposite
value of a boolean-like pair when the typed word is closer to the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from guidekb.engine.errors import YAML_SYNTAX, KnowledgeBaseError
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.suggest import closest
from guidekb.engine.format.yamlsource import parse_yaml
from tests.minikb import edit, write_mini_kb


@pytest.mark.parametrize("text", ["facts:\n\tx: 1\n", "facts:\n  x:\n\ttype: enum\n", "\tfacts: {}\n"])
def test_a_tab_gets_indent_with_spaces(text: str) -> None:
    _, problems = parse_yaml(text, "facts.yaml")
    [problem] = problems
    assert problem.code == YAML_SYNTAX
    assert "tab" in problem.message and "'\\t'" not in problem.message
    assert problem.hint.startswith("indent with spaces")


def test_section_suggests_sections(tmp_path: Path) -> None:
    kb = write_mini_kb(tmp_path / "kb")
    edit(kb / "manifest.yaml", "    sections:\n", "    section:\n")
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(kb)
    hints = {p.message: p.hint for p in raised.value.problems}
    assert hints["unknown key 'section' in sources[0]"] == "did you mean 'sections'?"


@pytest.mark.parametrize(("typed", "meant"), [
    ("immunocompremised", "immunocompromised"), ("immunocompetant", "immunocompetent"),
    ("inadequte", "inadequate"), ("adequte", "adequate"), ("not_susceptibl", "not_susceptible"),
    ("susceptibel", "susceptible"), ("tru", "true"), ("fals", "false"),
])
def test_the_intended_value_of_a_pair_is_suggested_not_its_opposite(typed: str, meant: str) -> None:
    pairs = [["immunocompetent", "immunocompromised"], ["adequate", "inadequate"],
             ["susceptible", "not_susceptible"], ["true", "false"]]
    [pool] = [pair for pair in pairs if meant in pair]
    assert closest(typed, pool) == meant
