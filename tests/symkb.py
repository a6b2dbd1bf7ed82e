"""A small knowledge base that uses every operator of the condition language, for the tests of
the symbolic encoding, the prover and the linter.

It is the mini knowledge base (tests/minikb.py: real, verified quotes) with its rules replaced:
each operator appears both plainly and under `not`, on every fact type, with unknown facts and
chained conclusions, so an encoding bug in any of them shows up as a disagreement with the
engine.
"""

from __future__ import annotations

from pathlib import Path

from tests.minikb import write_mini_kb

PROVENANCE = """\
    provenance:
      - source: cold-sores
        section: Common Pitfalls to Avoid
        quote: Do not use topical acyclovir
        refs: [2]
"""


def rule(rule_id: str, when: str, then: str) -> str:
    """One rule in YAML; `when` and `then` are indented blocks (6 spaces)."""
    return (f"  - id: {rule_id}\n    title: {rule_id}\n    when:\n{when}    then:\n{then}"
            f"{PROVENANCE}\n")


OPERATOR_RULES = "rules:\n" + "".join([
    rule("short-course-without-hiv", """\
      all:
        - fact: days_on_therapy
          lt: 5
        - not:
            fact: causes
            contains: hiv
""", """\
      recommend: [id_consult]
"""),
    rule("odd-durations-fail", """\
      any:
        - fact: days_on_therapy
          le: 3
        - fact: days_on_therapy
          gt: 100
        - fact: days_on_therapy
          in: [7, 8]
""", """\
      derive: [failing]
"""),
    rule("failing-and-not-immunocompetent", """\
      all:
        - known: failing
        - not:
            fact: immune_status
            in: [immunocompetent]
""", """\
      derive: [suspected]
      forbid:
        - code: id_consult
          reason: test
"""),
    rule("suspected-foscarnet-unknown", """\
      all:
        - fact: suspected
          equals: true
        - unknown: on_foscarnet
""", """\
      recommend: [iv_foscarnet]
"""),
    rule("not-off-foscarnet", """\
      not:
        fact: on_foscarnet
        equals: false
""", """\
      recommend: [monitor_renal_function]
      forbid:
        - code: iv_foscarnet
          reason: test
"""),
    rule("exactly-ten-days", """\
      all:
        - fact: days_on_therapy
          equals: 10
        - not:
            fact: days_on_therapy
            in: [1, 2]
        - not:
            fact: lesion_course
            equals: resolving
        - not:
            not:
              fact: on_foscarnet
              in: [true]
""", """\
      recommend: [topical_acyclovir]
"""),
    rule("known-causes-no-transplant", """\
      all:
        - not:
            unknown: causes
        - not:
            fact: causes
            contains: transplant
        - fact: days_on_therapy
          ge: 30
        - any:
            - not:
                known: immune_status
            - not:
                fact: days_on_therapy
                gt: 200
""", """\
      forbid:
        - code: topical_acyclovir
          reason: test
"""),
    rule("always-monitor", """\
      always: true
""", """\
      recommend: [monitor_renal_function]
"""),
])


def write_operator_kb(root: Path) -> Path:
    write_mini_kb(root)
    (root / "rules" / "main.yaml").write_text(OPERATOR_RULES, encoding="utf-8")
    return root
