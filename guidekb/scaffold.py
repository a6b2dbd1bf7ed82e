"""The files `guidekb init DIR` writes: the smallest knowledge base that validates, tests and
proves, each file commented to teach its format (docs/authoring.md walks through them).

The example content is deliberately generic and labelled as an example: an author replaces
the source text first, then the facts, codes, rules, scenario and invariant written from it.
"""

from __future__ import annotations

import re

SCHEMA_DIR = "schema"  # the per-file JSON Schemas, for editors (yaml-language-server)


def _header(kind: str, depth: int) -> str:
    """The first line that gives editors completion and checking from the JSON Schema."""
    return f"# yaml-language-server: $schema={'../' * depth}{SCHEMA_DIR}/{kind}.schema.json\n"


SOURCE_FILE = "sources/example-guideline.txt"

SOURCE = """\
Example guideline (replace this file with the verbatim text of your source)

This text is an EXAMPLE for learning the guidekb format. It is not clinical advice.

Recommendations

Adults with a systolic blood pressure of 180 mmHg or more should have the reading repeated within one week.

Cautions

Do not start treatment on the basis of a single reading.
"""

MANIFEST = """\
# The knowledge base: its id, version, authors and the source documents its rules cite.
# Every quote in a rule is checked, at load time, to be verbatim in the named section of the
# source text (sources/*.txt); the sections are the heading lines of that text, in order.
id: {kb_id}
title: Example knowledge base (replace with your guideline's title)
version: 0.1.0
authors: [your name]
sources:
  - id: example
    title: Example guideline
    publisher: Example publisher
    date: 2026-01-01            # the date of the version you quote
    file: {source_file}
    sections:                   # heading lines of the text, in document order
      - Recommendations
      - Cautions
"""

FACTS = """\
# The fact vocabulary: what a case may tell (case facts) and what rules conclude (derived).
# A fact left out of a case is UNKNOWN, never false: rules on it neither fire nor block.
# Types: boolean, enum (values: [...]), enum_list, integer (min, max and unit required).
facts:
  systolic_bp:
    type: integer
    min: 40
    max: 300
    unit: mmHg
    description: Systolic blood pressure of the most recent reading.
"""

OUTCOMES = """\
# The codes rules may recommend or forbid, each with the text shown to a clinician.
outcomes:
  repeat_reading_within_week:
    text: Repeat the blood pressure reading within one week.
  treat_on_single_reading:
    text: Start treatment on the basis of a single reading.
"""

RULES = """\
# Rules: when the condition holds, `then` derives facts, recommends or forbids codes.
# Conditions: {fact: NAME, <operator>: VALUE} with exactly one operator (equals, in, ge, gt,
# le, lt, ...), combined with all / any / not, or `always: true`. Every rule cites its
# source: the quote must be verbatim in that section (`guidekb validate` checks it).
rules:
  - id: repeat-severe-reading
    title: Repeat a reading of 180 mmHg or more within a week
    when:
      fact: systolic_bp
      ge: 180
    then:
      recommend: [repeat_reading_within_week]
    provenance:
      - source: example
        section: Recommendations
        quote: >-
          Adults with a systolic blood pressure of 180 mmHg or more should have the reading
          repeated within one week.

  - id: no-treatment-on-single-reading
    title: Never treat on a single reading
    when:
      always: true
    then:
      forbid:
        - code: treat_on_single_reading
          reason: One reading is not enough to start treatment.
    provenance:
      - source: example
        section: Cautions
        quote: Do not start treatment on the basis of a single reading.
"""

SCENARIO = """\
# A scenario: a case and what the answer must (not) contain. `guidekb test` runs them all;
# every file under scenarios/ (.yaml or .yml, subfolders too) is one scenario.
description: A reading of 185 mmHg is repeated within a week; treatment is never started on it.
case:
  systolic_bp: 185
expect:
  recommended: [repeat_reading_within_week]
  forbidden: [treat_on_single_reading]
"""

INVARIANTS = """\
# Safety invariants: properties that must hold for EVERY case. `guidekb check` samples cases,
# `guidekb check --prove` proves them for all cases (z3). Clinical kinds cite their source
# like rules do; structural kinds (how rules combine) need no provenance.
invariants:
  - id: nothing-both-recommended-and-forbidden
    rationale: A clinician must never be told both to do and not to do the same thing.
    no_recommendation_forbidden: true
"""

CASE = """\
# A case: facts and their values. Leave a fact out when it is not known.
# Run it with: guidekb run cases/example.yaml
systolic_bp: 150
"""


def kb_id(folder_name: str) -> str:
    """A knowledge-base id from the folder's name (lower case, letters, digits, - _ .)."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", folder_name.lower()).strip("-._")
    return slug or "my-kb"


def files(folder_name: str) -> dict[str, str]:
    """Every file of the skeleton, by path relative to the new folder (schemas excluded)."""
    return {
        "manifest.yaml": _header("manifest", 0) + MANIFEST.format(kb_id=kb_id(folder_name),
                                                                  source_file=SOURCE_FILE),
        "facts.yaml": _header("facts", 0) + FACTS,
        "outcomes.yaml": _header("outcomes", 0) + OUTCOMES,
        "rules/main.yaml": _header("rules", 1) + RULES,
        "scenarios/severe-reading.yaml": _header("scenario", 1) + SCENARIO,
        "invariants.yaml": _header("invariants", 0) + INVARIANTS,
        "cases/example.yaml": _header("case", 1) + CASE,
        SOURCE_FILE: SOURCE,
    }


__all__ = ["SCHEMA_DIR", "files", "kb_id"]
