"""Golden tests of the loader's messages: one broken knowledge base per error kind, the exact
text an author sees checked. A change in wording must be deliberate."""

from __future__ import annotations

from pathlib import Path

import pytest

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.loading import load_knowledge_base
from tests.minikb import edit, write_mini_kb

GOLDEN = [
    pytest.param(
        'rules/main.yaml',
        '    title: Foscarnet\n',
        '    title: Foscarnet: [broken\n',
        ['rules/main.yaml:36:21: YAML syntax error: a \':\' where no key can start\n    if the value holds \': \', put it in quotes (title: "Dose: 400 mg"); if this is a key, indent it like the keys of its mapping (and give the line above its \':\')'],
        id='yaml_syntax',
    ),
    pytest.param(
        'rules/main.yaml',
        '    title: Foscarnet\n',
        '    title: Foscarnet\n    provenence: []\n',
        ["rules/main.yaml:37:5: unknown key 'provenence' in rules[2]\n    did you mean 'provenance'? It is already written here: merge the two"],
        id='unknown_key',
    ),
    pytest.param(
        'rules/main.yaml',
        '        refs: [1]\n\n  - id: no-topical',
        '        refs: one\n\n  - id: no-topical',
        ["rules/main.yaml:59:15: rules[3].provenance[0].refs: expected a list\n    got 'one'; write [a, b] or one '- item' per line"],
        id='wrong_type',
    ),
    pytest.param(
        'rules/main.yaml',
        '    title: Foscarnet\n',
        '',
        ["rules/main.yaml:35:5: missing required key 'title' in rules[2]\n    add 'title:' here"],
        id='missing_key',
    ),
    pytest.param(
        'rules/main.yaml',
        '  - id: renal-monitoring',
        '  - id: foscarnet-when-suspected',
        ["rules/main.yaml:48:9: duplicate rule id 'foscarnet-when-suspected'\n    first defined at rules/main.yaml:35"],
        id='duplicate_rule_id',
    ),
    pytest.param(
        'rules/main.yaml',
        '    title: Foscarnet\n',
        '    title: Foscarnet\n    title: IV foscarnet\n',
        ["rules/main.yaml:37:5: duplicate key 'title'\n    'title' is already set at line 36; YAML would silently keep only the last one, so remove or rename one of them"],
        id='duplicate_yaml_key',
    ),
    pytest.param(
        'rules/main.yaml',
        '        - fact: immune_status',
        '        - fact: immune_statu',
        ["rules/main.yaml:24:17: rule 'suspect-when-failing' uses undeclared fact 'immune_statu'\n    did you mean 'immune_status'?"],
        id='undeclared_fact',
    ),
    pytest.param(
        'rules/main.yaml',
        '          equals: immunocompromised',
        '          equals: immunosuppressed',
        ["rules/main.yaml:25:19: value 'immunosuppressed' is not allowed for fact 'immune_status'\n    did you mean 'immunocompromised'? allowed values: immunocompetent, immunocompromised"],
        id='value_outside_domain',
    ),
    pytest.param(
        'rules/main.yaml',
        '          ge: 10',
        '          ge: 4000',
        ["rules/main.yaml:9:15: value 4000 is outside the range 0..3650 of fact 'days_on_therapy'\n    a test outside the fact's range can never change the answer"],
        id='threshold_outside_range',
    ),
    pytest.param(
        'rules/main.yaml',
        '          ge: 10',
        '          contains: hiv',
        ["rules/main.yaml:9:21: 'contains' cannot test integer fact 'days_on_therapy'\n    an integer fact is tested with equals, ge, gt, in, le, lt"],
        id='operator_for_type',
    ),
    pytest.param(
        'rules/main.yaml',
        '      recommend: [iv_foscarnet]',
        '      recommend: [iv_foscarnett]',
        ["rules/main.yaml:41:19: rule 'foscarnet-when-suspected' recommends unknown code 'iv_foscarnett'\n    did you mean 'iv_foscarnet'?"],
        id='unknown_code',
    ),
    pytest.param(
        'rules/main.yaml',
        '      - source: cold-sores\n        section: Monitoring',
        '      - source: cold-sore\n        section: Monitoring',
        ["rules/main.yaml:56:17: rule 'renal-monitoring' cites unknown source 'cold-sore'\n    did you mean 'cold-sores'?"],
        id='unknown_source',
    ),
    pytest.param(
        'rules/main.yaml',
        'Monitor renal function at initiation and once or twice weekly',
        'Monitor renal function at initiation and once or three times weekly',
        ["rules/main.yaml:58:16: rule 'renal-monitoring': quote not found verbatim in source 'cold-sores' (section 'Monitoring During Foscarnet Therapy')\n    closest passage (90% similar):\n      Monitor renal function at initiation and once or twice weekly during treatment,"],
        id='quote_one_word_changed',
    ),
    pytest.param(
        'rules/main.yaml',
        '        section: Monitoring During Foscarnet Therapy',
        '        section: Consultation Recommendation',
        ["rules/main.yaml:57:18: rule 'renal-monitoring': the quote is in section 'Monitoring During Foscarnet Therapy' of 'cold-sores', not in 'Consultation Recommendation'\n    write section: Monitoring During Foscarnet Therapy"],
        id='quote_in_other_section',
    ),
    pytest.param(
        'rules/main.yaml',
        '        section: Monitoring During Foscarnet Therapy',
        '        section: Monitoring During Foscarnet',
        ["rules/main.yaml:57:18: rule 'renal-monitoring': section 'Monitoring During Foscarnet' is not a section of source 'cold-sores'\n    did you mean 'Monitoring During Foscarnet Therapy'?"],
        id='missing_section',
    ),
    pytest.param(
        'rules/main.yaml',
        '        refs: [2]',
        '        refs: [9]',
        ["rules/main.yaml:73:15: rule 'no-topical-acyclovir': reference 9 is not in the reference list of 'cold-sores'\n    its references are numbered 1, 2, 3"],
        id='reference_not_listed',
    ),
    pytest.param(
        'rules/main.yaml',
        '        refs: [2]',
        '        refs: [1]',
        ["rules/main.yaml:73:15: rule 'no-topical-acyclovir': reference 1 is not cited by the quoted passage\n    the passage cites 2"],
        id='reference_not_cited',
    ),
    pytest.param(
        'rules/main.yaml',
        '      fact: suspected\n      equals: true',
        '      not:\n        fact: suspected\n        equals: true',
        ["rules/main.yaml:39:9: rule 'foscarnet-when-suspected' negates derived fact 'suspected'\n    a derived conclusion that no rule established is unknown, not false; write the condition over the case facts instead"],
        id='derived_fact_negated',
    ),
    pytest.param(
        'rules/main.yaml',
        '      fact: suspected\n      equals: true',
        '      unknown: suspected',
        ["rules/main.yaml:38:16: rule 'foscarnet-when-suspected' tests 'unknown: suspected' on a derived fact\n    a derived conclusion that no rule established is unknown, not false; write the condition over the case facts instead"],
        id='derived_fact_unknown',
    ),
    pytest.param(
        'rules/main.yaml',
        '      derive: [suspected]',
        '      derive: [on_foscarnet]',
        ["rules/main.yaml:27:16: rule 'suspect-when-failing' derives case fact 'on_foscarnet'\n    declare it in facts.yaml with 'derived: true'; case facts come only from the case"],
        id='derive_case_fact',
    ),
    pytest.param(
        'rules/main.yaml',
        '        - fact: lesion_course\n          in: [persistent, progressive]',
        '        - fact: suspected\n          equals: true',
        ['rules/main.yaml:27:15: derived facts form a cycle: failing -> suspected -> failing\n    rules involved: failing-after-ten-days, suspect-when-failing; a conclusion cannot justify itself'],
        id='derived_cycle',
    ),
    pytest.param(
        'rules/main.yaml',
        '      fact: on_foscarnet\n      equals: true',
        '      fakt: on_foscarnet\n      equals: true',
        ["rules/main.yaml:51:7: rules[3].when: a condition needs one of the keys all, any, not, known, unknown, fact or always\n    did you mean 'fact' instead of 'fakt'?"],
        id='bad_condition_key',
    ),
    pytest.param(
        'rules/main.yaml',
        '      fact: on_foscarnet\n      equals: true',
        '      fact: on_foscarnet\n      equals: true\n      in: [true]',
        ["rules/main.yaml:51:7: rules[3].when: a test of fact 'on_foscarnet' needs exactly one of equals, in, lt, le, gt, ge, contains (got equals, in)\n    keep one of equals, in; for several values, write in: [a, b]"],
        id='two_operators',
    ),
    pytest.param(
        'facts.yaml',
        '    type: integer',
        '    type: number',
        ["facts.yaml:7:11: facts.days_on_therapy.type: must be one of boolean, enum, integer, enum_list\n    got 'number'"],
        id='fact_type_unknown',
    ),
    pytest.param(
        'facts.yaml',
        '    min: 0\n    max: 3650\n',
        '',
        ["facts.yaml:7:5: facts.days_on_therapy: an integer fact needs both 'min' and 'max'\n    add min: and max: (the smallest and largest value a case may give)"],
        id='integer_without_range',
    ),
    pytest.param(
        'manifest.yaml',
        'file: sources/persistent-cold-sores-next-step.txt',
        'file: sources/cold-sores.txt',
        ["manifest.yaml:10:11: source file 'sources/cold-sores.txt' not found\n    looked for sources/cold-sores.txt"],
        id='source_file_missing',
    ),
    pytest.param(
        'manifest.yaml',
        '      - Consultation Recommendation',
        '      - Consultation Recommendations',
        ["manifest.yaml:20:9: section 'Consultation Recommendations' is not a line of sources/persistent-cold-sores-next-step.txt (after the sections before it)\n    sections are listed in document order, each exactly as its heading line", "rules/main.yaml:31:18: rule 'suspect-when-failing': section 'Consultation Recommendation' is not a section of source 'cold-sores'\n    known sections: Alternative Explanation: Frequent Recurrences vs. Non-Healing Lesions, Common Pitfalls to Avoid, Diagnostic Workup for Suspected Resistance, Important Considerations Before Assuming Resistance, Management of Persistent Cold Sores Despite Valacyclovir Treatment, Monitoring During Foscarnet Therapy, Treatment of Acyclovir-Resistant HSV, When to Suspect Treatment Failure"],
        id='section_not_in_text',
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), GOLDEN)
def test_loader_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, old: str, new: str,
                        expected: list[str]) -> None:
    root = write_mini_kb(tmp_path / "kb")
    edit(root / file, old, new)
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    assert [p.render() for p in caught.value.problems] == expected


def test_mini_kb_loads(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_mini_kb(tmp_path / "kb"))
    assert [r.id for r in kb.rules] == ["failing-after-ten-days", "suspect-when-failing",
                                        "foscarnet-when-suspected", "renal-monitoring", "no-topical-acyclovir"]


def test_every_problem_in_one_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    rules = root / "rules" / "main.yaml"
    edit(rules, "        - fact: immune_status", "        - fact: immune_statu")
    edit(rules, "      recommend: [iv_foscarnet]", "      recommend: [iv_foscarnett]")
    edit(rules, "once or twice weekly", "once or thrice weekly")
    edit(root / "facts.yaml", "    type: integer", "    type: number")
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    # The facts file failed, so rules cannot be cross-checked yet; the syntax-level problems of
    # every file are still all reported.
    messages = [p.message for p in caught.value.problems]
    assert any("days_on_therapy.type" in m for m in messages)
    edit(root / "facts.yaml", "    type: number", "    type: integer")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 3
    assert any("undeclared fact 'immune_statu'" in m for m in messages)
    assert any("unknown code 'iv_foscarnett'" in m for m in messages)
    assert any("quote not found verbatim" in m for m in messages)


def test_typographic_differences_are_not_quote_errors(tmp_path: Path) -> None:
    root = write_mini_kb(tmp_path / "kb")
    rules = root / "rules" / "main.yaml"
    # The source has an em dash and straight quotes; the author types curly quotes, a hyphen,
    # a non-breaking space and a line break inside the quote.
    edit(rules, "        quote: Do not use topical acyclovir\n",
         "        quote: >-\n          Do not use topical\n          acyclovir-it is substantially\u00a0less effective\n")
    kb = load_knowledge_base(root)  # raises if the quote were rejected
    assert kb.rules_by_id["no-topical-acyclovir"].provenance[0].quote.startswith("Do not use topical acyclovir-")


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(tmp_path)
    assert caught.value.problems[0].message == "no manifest.yaml here"


def test_unsafe_yaml_tag_is_rejected_not_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_mini_kb(tmp_path / "kb")
    marker = tmp_path / "pwned"
    edit(root / "rules" / "main.yaml", "    title: Foscarnet\n",
         f"    title: !!python/object/apply:os.system ['touch {marker}']\n")
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    assert not marker.exists()
    assert "unsupported YAML value" in caught.value.problems[0].message


def test_closest_passage_for_a_short_quote_shows_the_real_words(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A dropped word in a short quote must show the source's own words, not a nearby sentence."""
    root = write_mini_kb(tmp_path / "kb")
    edit(root / "rules" / "main.yaml", "quote: Do not use topical acyclovir", "quote: Do use topical acyclovir")
    monkeypatch.chdir(root)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(root)
    assert caught.value.problems[0].hint == "closest passage (88% similar):\n  Do not use topical acyclovir-it"
