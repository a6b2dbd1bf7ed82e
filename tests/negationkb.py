"""A knowledge base made of negations, and a grid of cases that reaches every one of them.

It is the mini knowledge base (tests/minikb.py: real, verified quotes) plus rules that use
every kind of `not` and `unknown` the condition language has: on each fact type, De Morgan
under three values, double negation, a conclusion reached through a negated list test. Every
backend that reads conditions (the compiler, the z3 encoding, the decision diagrams, the aimed
case generator, explanations) is compared against the plain interpreter on it, so a `not`
broken in any one of them fails a test even though the HSV rules never use `not`.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from tests.minikb import write_mini_kb

QUOTE = """\
    provenance:
      - source: cold-sores
        section: Common Pitfalls to Avoid
        quote: Do not use topical acyclovir
        refs: [2]
"""

# (rule id, condition as YAML flow, what it does)
NEGATION_RULES = [
    ("not-enum-equals", "{not: {fact: lesion_course, equals: resolving}}", "recommend: [id_consult]"),
    ("not-enum-in", "{not: {fact: lesion_course, in: [persistent, progressive]}}", "recommend: [id_consult]"),
    ("not-int-ge", "{not: {fact: days_on_therapy, ge: 10}}", "recommend: [id_consult]"),
    ("not-int-lt", "{not: {fact: days_on_therapy, lt: 5}}", "recommend: [id_consult]"),
    ("not-int-le", "{not: {fact: days_on_therapy, le: 5}}", "recommend: [id_consult]"),
    ("not-int-gt", "{not: {fact: days_on_therapy, gt: 20}}", "recommend: [id_consult]"),
    ("not-int-equals", "{not: {fact: days_on_therapy, equals: 7}}", "recommend: [id_consult]"),
    ("not-int-in", "{not: {fact: days_on_therapy, in: [7, 8]}}", "recommend: [id_consult]"),
    ("int-in", "{fact: days_on_therapy, in: [7, 8]}", "recommend: [id_consult]"),
    ("not-list-contains", "{not: {fact: causes, contains: hiv}}", "recommend: [id_consult]"),
    ("list-contains", "{fact: causes, contains: transplant}", "recommend: [id_consult]"),
    ("not-bool", "{not: {fact: on_foscarnet, equals: true}}", "recommend: [id_consult]"),
    ("not-bool-in", "{not: {fact: on_foscarnet, in: [false]}}", "recommend: [monitor_renal_function]"),
    ("not-known", "{not: {known: immune_status}}", "recommend: [id_consult]"),
    ("not-unknown", "{not: {unknown: causes}}", "recommend: [id_consult]"),
    ("unknown", "{unknown: lesion_course}", "recommend: [id_consult]"),
    ("double-not", "{not: {not: {fact: lesion_course, equals: progressive}}}", "recommend: [id_consult]"),
    ("not-always", "{not: {always: true}}", "recommend: [id_consult]"),
    ("de-morgan",
     "{not: {all: [{fact: immune_status, equals: immunocompromised},"
     " {any: [{fact: causes, contains: transplant}, {not: {fact: days_on_therapy, ge: 3}}]}]}}",
     "recommend: [id_consult]"),
    ("suspect-unless-chemotherapy",
     "{all: [{fact: failing, equals: true}, {not: {fact: causes, contains: chemotherapy}}]}",
     "derive: [suspected]"),
    ("foscarnet-or-not-on-it",
     "{any: [{fact: suspected, equals: true}, {all: [{known: failing},"
     " {not: {fact: immune_status, equals: immunocompetent}}]}]}",
     "recommend: [iv_foscarnet]"),
    ("forbid-foscarnet-unless-known-course",
     "{any: [{unknown: lesion_course}, {not: {fact: days_on_therapy, ge: 2}},"
     " {all: [{known: suspected}, {fact: immune_status, equals: immunocompetent}]}]}",
     "forbid: [{code: iv_foscarnet, reason: test}]"),
]


def negation_rules() -> str:
    text = "\n"
    for rule_id, when, then in NEGATION_RULES:
        text += (f"  - id: {rule_id}\n    title: {rule_id}\n    when: {when}\n"
                 f"    then: {{{then}}}\n{QUOTE}\n")
    return text


def write_negation_kb(root: Path) -> Path:
    """Write the mini knowledge base with the negation rules added into `root`."""
    write_mini_kb(root)
    with (root / "rules" / "main.yaml").open("a", encoding="utf-8") as out:
        out.write(negation_rules())
    return root


def grid() -> list[dict[str, Any]]:
    """Every combination of unknown and of values on each side of each threshold."""
    axes: dict[str, list[Any]] = {
        "immune_status": [None, "immunocompetent", "immunocompromised"],
        "days_on_therapy": [None, 0, 2, 3, 5, 6, 7, 8, 9, 10, 20, 21],
        "lesion_course": [None, "resolving", "persistent", "progressive"],
        "on_foscarnet": [None, True, False],
        "causes": [None, [], ["hiv"], ["transplant", "chemotherapy"], ["hiv", "transplant", "chemotherapy"]],
    }
    names = list(axes)
    return [{n: v for n, v in zip(names, combo, strict=True) if v is not None}
            for combo in itertools.product(*axes.values())]
