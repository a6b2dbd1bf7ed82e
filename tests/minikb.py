"""A small, valid knowledge base written into a temporary folder, for tests that break it
on purpose. Its quotes come from the real HSV source article, so provenance checks are real."""

from __future__ import annotations

import shutil
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "knowledge" / "hsv-resistance" / "sources"

MANIFEST = """\
id: mini
title: Mini knowledge base
version: 1.0.0
authors: [tests]
sources:
  - id: cold-sores
    title: Persistent cold sores
    publisher: Dr.Oracle Medical Advisory Board
    date: 2025-12-11
    file: sources/persistent-cold-sores-next-step.txt
    sections:
      - Management of Persistent Cold Sores Despite Valacyclovir Treatment
      - When to Suspect Treatment Failure
      - Diagnostic Workup for Suspected Resistance
      - Treatment of Acyclovir-Resistant HSV
      - Important Considerations Before Assuming Resistance
      - "Alternative Explanation: Frequent Recurrences vs. Non-Healing Lesions"
      - Common Pitfalls to Avoid
      - Monitoring During Foscarnet Therapy
      - Consultation Recommendation
    references:
      1: {title: Guideline Directed Topic Overview}
      2: {title: Treatment for Recurrent Genital Herpes}
      3: {title: Timing of Maximal Effect for Suppressive Therapy in Oral HSV-1}
"""

FACTS = """\
facts:
  immune_status:
    type: enum
    values: [immunocompetent, immunocompromised]
    description: Immune status.
  days_on_therapy:
    type: integer
    min: 0
    max: 3650
    unit: days
    description: Days on the current course.
  lesion_course:
    type: enum
    values: [resolving, persistent, progressive]
    description: How the lesion behaves.
  on_foscarnet:
    type: boolean
    description: IV foscarnet now.
  causes:
    type: enum_list
    values: [hiv, transplant, chemotherapy]
    description: Causes of immunocompromise.
  failing:
    type: boolean
    derived: true
    description: Lesions not resolving on therapy.
  suspected:
    type: boolean
    derived: true
    description: Resistance suspected.
"""

OUTCOMES = """\
outcomes:
  iv_foscarnet:
    text: IV foscarnet.
  monitor_renal_function:
    text: Monitor renal function.
  id_consult:
    text: Infectious disease consult.
  topical_acyclovir:
    text: Topical acyclovir.
"""

RULES = """\
rules:
  - id: failing-after-ten-days
    title: Not resolving after ten days
    when:
      all:
        - fact: lesion_course
          in: [persistent, progressive]
        - fact: days_on_therapy
          ge: 10
    then:
      derive: [failing]
    provenance:
      - source: cold-sores
        section: When to Suspect Treatment Failure
        quote: Suspect antiviral resistance if lesions do not begin to resolve within 7-10 days after initiating therapy
        refs: [1, 2]

  - id: suspect-when-failing
    title: Suspect resistance
    when:
      all:
        - fact: failing
          equals: true
        - fact: immune_status
          equals: immunocompromised
    then:
      derive: [suspected]
      recommend: [id_consult]
    provenance:
      - source: cold-sores
        section: Consultation Recommendation
        quote: Patients with proven or suspected acyclovir-resistant HSV should be managed in consultation with an infectious disease specialist
        refs: [1]

  - id: foscarnet-when-suspected
    title: Foscarnet
    when:
      fact: suspected
      equals: true
    then:
      recommend: [iv_foscarnet]
    provenance:
      - source: cold-sores
        section: Treatment of Acyclovir-Resistant HSV
        quote: IV foscarnet 40 mg/kg every 8 hours until clinical resolution is the treatment of choice for proven or suspected acyclovir-resistant HSV
        refs: [1, 2]

  - id: renal-monitoring
    title: Renal monitoring on foscarnet
    when:
      fact: on_foscarnet
      equals: true
    then:
      recommend: [monitor_renal_function]
    provenance:
      - source: cold-sores
        section: Monitoring During Foscarnet Therapy
        quote: Monitor renal function at initiation and once or twice weekly during treatment
        refs: [1]

  - id: no-topical-acyclovir
    title: Never topical acyclovir
    when:
      always: true
    then:
      forbid:
        - code: topical_acyclovir
          reason: Less effective than oral therapy.
    provenance:
      - source: cold-sores
        section: Common Pitfalls to Avoid
        quote: Do not use topical acyclovir
        refs: [2]
"""


def write_mini_kb(root: Path) -> Path:
    """Write the mini knowledge base into `root` and return it."""
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "sources").mkdir(exist_ok=True)
    shutil.copy(SOURCES / "persistent-cold-sores-next-step.txt", root / "sources")
    (root / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    (root / "facts.yaml").write_text(FACTS, encoding="utf-8")
    (root / "outcomes.yaml").write_text(OUTCOMES, encoding="utf-8")
    (root / "rules" / "main.yaml").write_text(RULES, encoding="utf-8")
    return root


def edit(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence of `old` in a file (fails loudly if it is not there once)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
