"""Issue 10, item 7: no library wording reaches the author. Broken inputs of every kind (YAML
syntax, wrong types, missing and extra keys, bad indentation, a list for a mapping and back)
each get a message in the format's words with a hint; did-you-mean suggests the key valid
where it is written and never the opposite of a boolean-like value. Golden texts: a change of
wording is a decision, made here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.models import Manifest, RulesFile
from guidekb.engine.format.suggest import closest, did_you_mean
from guidekb.engine.format.validation import validate
from guidekb.engine.format.yamlsource import parse_yaml
from tests.minikb import edit, write_mini_kb

# Words of PyYAML, pydantic or jsonschema that must never reach an author.
LIBRARY_WORDS = re.compile(
    r"Input should|Field required|Extra inputs|instance of|pydantic|type=|NoneType|\[key\]|"
    r"Assertion failed|Value error|<class|while parsing|while scanning|<block|<scalar|<stream|"
    r"<document|tagged union|discriminator|Unable to extract|is not valid under any|"
    r"Additional properties|is a required property|cannot start any token")


@pytest.mark.parametrize(("text", "message", "hint"), [
    ("a:\n  b: 1\n c: 2\n",
     "a key that does not line up with the mapping that starts at line 1",
     "the keys of one mapping start in the same column, and the '- ' of one list too"),
    ("a:\n  - x\n  y: 1\n", "a key that does not line up with the list that starts at line 2",
     "the keys of one mapping start in the same column, and the '- ' of one list too"),
    ("a:\n  - b\n - c\n", "a list item that does not line up with the mapping that starts at line 1",
     "the keys of one mapping start in the same column, and the '- ' of one list too"),
    ("title: Dose: 400 mg\n", "a ':' where no key can start",
     "if the value holds ': ', put it in quotes (title: \"Dose: 400 mg\"); if this is a key, "
     "indent it like the keys of its mapping (and give the line above its ':')"),
    ("a: 'x\n", "the quoted text that starts at line 1 is never closed", "add the closing quote"),
    ("a: [1, 2\n", "the [...] list opened at line 1 is not closed",
     "close it with ']'; separate its items with commas"),
    ("a: {b: 1\n", "the {...} mapping opened at line 1 is not closed",
     "close it with '}'; separate its items with commas"),
    ("a: 'it's'\n", "more text after a quoted value",
     "a quoted value ends at its closing quote: put the whole value in quotes; inside single "
     "quotes write a quote twice ('it''s')"),
    ('a: "x\\q"\n', "unknown escape '\\q' in double-quoted text",
     "write \\\\ for a backslash, or use single quotes, where a backslash is plain text"),
    ("a:\n- b\nd\n", "a line with no ':' where a key was expected",
     "write 'key: value'; a value that goes on over several lines goes in quotes or after '>-'"),
    ("a: 1\n---\nb: 2\n", "a second document ('---') in the file",
     "a guidekb file holds one document: remove the '---' line, or move what follows it to a "
     "file of its own"),
    ("  a: 1\nb: 2\n", "the first line is indented and the next ones are not",
     "start the top-level keys in the first column"),
    ("a: @x\n", "a value cannot start with '@' unquoted", "put the value in quotes: \"@...\""),
    ("a: [1, 2]]\n", "a ']' with no opening bracket", "remove it, or open the list or mapping it closes"),
    ("a: *x\n", "'*x' refers to an anchor '&x' defined nowhere above", "write the value out in full"),
    ("facts:\n\tx: 1\n", "a tab character, which YAML does not allow here",
     "indent with spaces, not tabs (set your editor to insert spaces in YAML files)"),
])
def test_yaml_syntax_errors_in_the_authors_words(text: str, message: str, hint: str) -> None:
    _, problems = parse_yaml(text, "x.yaml")
    [problem] = problems
    assert (problem.message, problem.hint) == (f"YAML syntax error: {message}", hint)
    assert not LIBRARY_WORDS.search(problem.message + problem.hint)


def problems_of(tmp_path: Path, file: str, old: str, new: str) -> list[tuple[str, str]]:
    kb = write_mini_kb(tmp_path / "kb")
    edit(kb / file, old, new)
    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(kb)
    found = [(p.message, p.hint) for p in raised.value.problems]
    for message, hint in found:
        assert not LIBRARY_WORDS.search(message + hint), (message, hint)
        assert hint, message  # every one says how to mend it
    return found


FOSCARNET_TEST = "      fact: on_foscarnet\n      equals: true\n"


@pytest.mark.parametrize(("file", "old", "new", "expected"), [
    ("facts.yaml", "    derived: true\n    description: Resistance suspected.\n",
     "    derived: yes\n    description: Resistance suspected.\n",
     ("facts.suspected.derived: expected true or false", "got 'yes'")),
    ("facts.yaml", "    min: 0\n", "    min: '0'\n",
     ("facts.days_on_therapy.min: expected a whole number", "got '0'")),
    ("facts.yaml", "  days_on_therapy:\n", "  Days_On_Therapy:\n",
     ("facts.Days_On_Therapy: the key 'Days_On_Therapy' must be a snake_case name: lowercase "
      "letters and digits, words joined by '_' (e.g. days_on_therapy)", "write 'days_on_therapy'")),
    ("manifest.yaml", "id: mini\n", "id: Mini KB\n",
     ("id: must be an id of lowercase letters, digits, '.', '_' and '-', starting with a letter "
      "or digit (e.g. foscarnet-when-suspected)", "got 'Mini KB'; write 'mini-kb'")),
    ("rules/main.yaml", FOSCARNET_TEST, "      fact: on_foscarnet\n      equal: true\n",
     ("rules[3].when: a test of fact 'on_foscarnet' needs exactly one of equals, in, lt, le, "
      "gt, ge, contains (got none)", "did you mean 'equals' instead of 'equal'?")),
    ("rules/main.yaml", FOSCARNET_TEST, "      fact: on_foscarnet\n",
     ("rules[3].when: a test of fact 'on_foscarnet' needs exactly one of equals, in, lt, le, "
      "gt, ge, contains (got none)", "for example: equals: true, in: [a, b] or ge: 10")),
    ("rules/main.yaml", FOSCARNET_TEST, FOSCARNET_TEST + "      sourc: x\n",
     ("unknown key 'sourc' in rules[3].when",
      "the keys here are: all, always, any, contains, equals, fact, ge, gt, in, known, le, lt, "
      "not, unknown")),
    ("rules/main.yaml", "      recommend: [monitor_renal_function]\n",
     "      - recommend: [monitor_renal_function]\n",
     ("rules[3].then: expected a mapping with the keys derive, recommend, forbid",
      "write its keys directly under 'then:', not as list items ('- ')")),
    ("rules/main.yaml", "      recommend: [monitor_renal_function]\n",
     "      recommend: monitor_renal_function\n",
     ("rules[3].then.recommend: expected a list",
      "got 'monitor_renal_function'; write [a, b] or one '- item' per line")),
    ("manifest.yaml", "    sections:\n", "    sectons:\n",
     ("unknown key 'sectons' in sources[0]", "did you mean 'sections'?")),
    ("manifest.yaml", "    file: sources/", "    fil: x\n    file: sources/",
     ("unknown key 'fil' in sources[0]", "did you mean 'file'? It is already written here: "
      "merge the two")),
])
def test_knowledge_base_problems_in_the_formats_words(tmp_path: Path, file: str, old: str,
                                                      new: str, expected: tuple[str, str]) -> None:
    assert expected in problems_of(tmp_path, file, old, new)


def test_section_in_a_source_is_sections_though_provenance_has_section() -> None:
    """The key suggested is the one valid where it is written: in a rules file both exist, and
    `sections` under provenance means `section`, `section` under a source means `sections`."""
    doc, _ = parse_yaml("rules:\n  - id: r\n    title: t\n    when: {always: true}\n"
                        "    then: {recommend: [x]}\n    provenance:\n"
                        "      - {source: s, sections: c, quote: q}\n", "r.yaml")
    _, problems = validate(RulesFile, doc)
    assert ("unknown key 'sections' in rules[0].provenance[0]", "did you mean 'section'?") in \
        [(p.message, p.hint) for p in problems]
    manifest = ("id: m\ntitle: t\nversion: '1'\nauthors: [a]\nsources:\n  - id: s\n    title: t\n"
                "    publisher: p\n    date: 2025-01-01\n    file: f.txt\n    section: [A]\n")
    doc, _ = parse_yaml(manifest, "manifest.yaml")
    _, problems = validate(Manifest, doc)
    assert ("unknown key 'section' in sources[0]", "did you mean 'sections'?") in \
        [(p.message, p.hint) for p in problems]


@pytest.mark.parametrize(("typed", "pool", "meant"), [
    ("confimed", ["confirmed", "unconfirmed"], "confirmed"),
    ("confirm", ["confirmed", "unconfirmed"], "confirmed"),
    ("unconfimed", ["confirmed", "unconfirmed"], "unconfirmed"),
    ("adequte", ["adequate", "inadequate"], "adequate"),
    ("inadequte", ["adequate", "inadequate"], "inadequate"),
    ("susceptibel", ["susceptible", "not_susceptible"], "susceptible"),
    ("not_susceptibl", ["susceptible", "not_susceptible"], "not_susceptible"),
    ("ye", ["yes", "no"], "yes"),
    ("section", ["sections", "source", "quote", "refs"], "sections"),
    ("sections", ["section", "source", "quote", "refs"], "section"),
    ("recommendeds", ["recommended", "not_recommended", "forbidden"], "recommended"),
    ("Immune-Status", ["immune_status", "hsv_site"], "immune_status"),
    ("susceptibility", ["susceptibility_result", "suspected_resistance"], "susceptibility_result"),
    ("famciclovr", ["famciclovir", "acyclovir", "valacyclovir"], "famciclovir"),
])
def test_did_you_mean_prefers_the_intended_spelling(typed: str, pool: list[str], meant: str) -> None:
    assert closest(typed, pool) == meant


def test_the_opposite_is_never_suggested_for_a_value_of_the_other_polarity() -> None:
    # Typed plain, only the negated value is close by edit distance: no suggestion, the list.
    assert closest("confrmd", ["unconfirmed", "confirmed"]) == "confirmed"
    assert did_you_mean("xyz", ["confirmed", "unconfirmed"], "values") == \
        "known values: confirmed, unconfirmed"


def test_a_value_outside_an_enum_in_a_case_suggests_the_same_polarity() -> None:
    from guidekb.engine.errors import CaseError
    from guidekb.engine.format.cases import parse_case
    from tests.conftest import HSV_KB

    with pytest.raises(CaseError) as raised:
        parse_case("immune_status: immunocompetant\n", load_knowledge_base(HSV_KB))
    [problem] = raised.value.problems()
    assert problem.hint.startswith("did you mean 'immunocompetent'?")


@pytest.mark.parametrize(("written", "hint"), [
    ("dose_adequate: yes", "allowed: true or false; 'yes' is text in guidekb (YAML 1.2): write true"),
    ("dose_adequate: Off", "allowed: true or false; 'Off' is text in guidekb (YAML 1.2): write false"),
    ("days_on_therapy: '14'", "allowed: an integer from 0 to 3650 (days); '14' is text, not a "
                              "number: write 14 without quotes"),
])
def test_a_case_value_yaml_11_would_have_read_otherwise_says_what_to_write(written: str, hint: str) -> None:
    from guidekb.engine.errors import CaseError
    from guidekb.engine.format.cases import parse_case
    from tests.conftest import HSV_KB

    with pytest.raises(CaseError) as raised:
        parse_case(written + "\n", load_knowledge_base(HSV_KB))
    [problem] = raised.value.problems()
    assert problem.hint == hint


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("invariants", "invariants:\n  - id: x\n    rationale: r\n",
     ("invariants[0]: an invariant needs exactly one of never_recommend, always_forbid, requires, "
      "never_both, monotone, no_recommendation_forbidden, recommendations_have_provenance (got none)",
      "add the property it states, e.g. never_both: {codes: [a, b]}")),
    ("invariants", "invariants:\n  - id: x\n    rationale: r\n    never_recommend: {code: a, codes: [b], "
     "when: {always: true}}\n",
     ("invariants[0].never_recommend: write exactly one of 'code' or 'codes'",
      "code: x for one code, codes: [x, y] for several")),
    ("lint", "acknowledgements:\n  - finding: Bad Id\n    reason: r\n",
     ("acknowledgements[0].finding: must be a finding id, kind:subject, as guidekb lint prints it "
      "(e.g. never-fires:rule-id)", "got 'Bad Id'")),
    ("facts", "facts:\n  x:\n    type: integer\n    description: d\n",
     ("facts.x: an integer fact needs both 'min' and 'max'",
      "add min: and max: (the smallest and largest value a case may give)")),
    ("facts", "facts:\n  x:\n    type: enum\n    values: [a, a]\n    description: d\n",
     ("facts.x: 'values' lists the same value twice", "list each value once")),
    ("scenario", "description: d\nexpect: {recommend: [a]}\n",
     ("unknown key 'recommend' in expect", "did you mean 'recommended'?")),
])
def test_other_file_kinds_in_the_formats_words(kind: str, text: str, expected: tuple[str, str]) -> None:
    from guidekb.engine.schema import FILE_KINDS

    doc, _ = parse_yaml(text, f"{kind}.yaml")
    _, problems = validate(FILE_KINDS[kind], doc)
    said = [(p.message, p.hint) for p in problems]
    assert expected in said
    assert not any(LIBRARY_WORDS.search(m + h) or re.search(r"\^|\$'|\.\+", m + h) for m, h in said)


@pytest.mark.parametrize(("file", "text", "expected"), [
    ("facts.yaml", "facts:\n  - x: 1\n",
     ("facts: expected a mapping (one 'key: value' per line)",
      "got a list; write each entry as 'name:' with its keys indented below it, not as '- '")),
    ("facts.yaml", "", ("the file is empty", "see docs/format.md for the layout of facts.yaml")),
    ("invariants.yaml", "invariants:\n  - id: x\n    rationale: r\n    never_both: [a, b]\n",
     ("invariants[0].never_both: expected a mapping with the keys codes",
      "got a list: the list goes under a key, e.g. never_both: {codes: [...]}")),
])
def test_a_list_for_a_mapping_and_an_empty_file(tmp_path: Path, file: str, text: str,
                                                expected: tuple[str, str]) -> None:
    from guidekb.engine.qa.everything import check_everything

    kb = write_mini_kb(tmp_path / "kb")
    (kb / file).write_text(text, encoding="utf-8")
    assert expected in [(p.message, p.hint) for p in check_everything(kb).problems]
