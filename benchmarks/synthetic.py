"""A synthetic knowledge base for `make bench`: 2,000 rules over 200 case facts, chained
three levels deep, with a generated source text so that every rule's provenance verifies.

Shape (deterministic for a seed):

* 200 case facts, a third each boolean, enum (4 values) and integer (0..100);
* 120 conclusions on three levels: 60 drawn from case facts alone, 40 from a level-1
  conclusion and a case fact, 20 from a level-2 conclusion and a case fact;
* 2,000 rules: 800 level-1, 600 level-2, 400 level-3, and 200 that recommend (150) or forbid
  (50) one of 100 codes from a level-3 conclusion, so the longest chain is
  case -> L1 -> L2 -> L3 -> verdict;
* one source document of 20 sections, 100 numbered statements each; rule n quotes statement
  n, with a reference the statement cites.

The YAML is written with plain string formatting: every value is an identifier or a
generated sentence, nothing needs quoting beyond what is done here.
"""

from __future__ import annotations

import random
from pathlib import Path

FACTS = 200
LEVELS = (60, 40, 20)  # conclusions per level
RULES = (800, 600, 400)  # rules deriving each level
VERDICT_RULES = 200
CODES = 100
SECTIONS = 20
ENUM_VALUES = ("alpha", "beta", "gamma", "delta")


def fact_name(i: int) -> str:
    return f"f{i:03d}"


def fact_type(i: int) -> str:
    return ("boolean", "enum", "integer")[i % 3]


def conclusion(level: int, i: int) -> str:
    return f"c{level}_{i:02d}"


def statement(n: int) -> str:
    return (f"Statement {n:04d} advises that clinicians act on finding group {n % 97} "
            f"when the listed criteria of item {n:04d} are met")


def _comparison(r: random.Random) -> list[str]:
    """One test on a random case fact, as YAML lines of a list item."""
    i = r.randrange(FACTS)
    kind = fact_type(i)
    if kind == "boolean":
        return [f"- fact: {fact_name(i)}", f"  equals: {r.choice(['true', 'false'])}"]
    if kind == "enum":
        values = r.sample(ENUM_VALUES, r.randint(1, 2))
        return [f"- fact: {fact_name(i)}", f"  in: [{', '.join(values)}]"]
    op = r.choice(["lt", "ge"])
    return [f"- fact: {fact_name(i)}", f"  {op}: {r.randrange(20, 80)}"]


def _rule(n: int, tests: list[list[str]], then: list[str], per_section: int) -> str:
    lines = [f"  - id: rule-{n:04d}", f"    title: Synthetic rule {n:04d}", "    when:", "      all:"]
    for test in tests:
        lines += [f"        {line}" for line in test]
    lines += ["    then:"] + [f"      {line}" for line in then]
    lines += ["    provenance:", "      - source: synthetic-guideline",
              f"        section: Section {n // per_section + 1}",
              f"        quote: {statement(n)}", f"        refs: [{n % 5 + 1}]"]
    return "\n".join(lines)


def _source_text(total: int) -> str:
    per_section = -(-total // SECTIONS)
    lines = ["A synthetic guideline for benchmarking guidekb", ""]
    for s in range(SECTIONS):
        lines += [f"Section {s + 1}", ""]
        lines += [f"  • {statement(n)} {n % 5 + 1}" for n in range(s * per_section, (s + 1) * per_section)]
        lines.append("")
    lines += ["References", ""] + [f"{k}. Synthetic reference {k}" for k in range(1, 6)]
    return "\n".join(lines) + "\n"


def _write_manifest_and_source(root: Path, total: int, kb_id: str, title: str) -> None:
    """The manifest and the one source document whose statements `total` rules quote."""
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "sources").mkdir(exist_ok=True)
    (root / "sources" / "synthetic.txt").write_text(_source_text(total), encoding="utf-8")
    sections = "\n".join(f"      - Section {s + 1}" for s in range(SECTIONS))
    references = "\n".join(f"      {k}: {{kind: Guideline, title: Synthetic reference {k}, "
                           f"publisher: guidekb benchmarks, year: 2026}}" for k in range(1, 6))
    (root / "manifest.yaml").write_text(f"""id: {kb_id}
title: {title}
version: 1.0.0
authors: [guidekb benchmarks]
sources:
  - id: synthetic-guideline
    title: A synthetic guideline for benchmarking guidekb
    publisher: guidekb benchmarks
    date: 2026-01-01
    file: sources/synthetic.txt
    sections:
{sections}
    references:
{references}
""", encoding="utf-8")


def write_flat_kb(root: Path, count: int) -> Path:
    """A knowledge base of `count` boolean facts ``x000``.. and `count` rules, rule i
    recommending ``o<i>`` when ``x<i>`` is true: with every fact true, every rule's test
    matches one case fact, so one ruleset's alpha walk holds `count` nodes at once
    (guidekb.engine.runtime.alpha_network) -- the sharpest test of durable_rules' limit of 64."""
    per_section = -(-count // SECTIONS)
    _write_manifest_and_source(root, count, f"flat-{count}", f"Flat knowledge base of {count} rules")
    facts = ["facts:"] + [line for i in range(count) for line in (
        f"  x{i:03d}:", "    type: boolean", f"    description: Flat case fact {i}.")]
    (root / "facts.yaml").write_text("\n".join(facts) + "\n", encoding="utf-8")
    (root / "outcomes.yaml").write_text("outcomes:\n" + "".join(
        f"  o{i:03d}:\n    text: Flat outcome {i}.\n" for i in range(count)), encoding="utf-8")
    rules = [_rule(i, [[f"- fact: x{i:03d}", "  equals: true"]], [f"recommend: [o{i:03d}]"], per_section)
             for i in range(count)]
    (root / "rules" / "rules.yaml").write_text("rules:\n" + "\n\n".join(rules) + "\n", encoding="utf-8")
    return root


def write_synthetic_kb(root: Path, seed: int = 2000, scale: float = 1.0) -> Path:
    """Write the synthetic knowledge base into `root` (created); returns `root`. `scale`
    multiplies the number of rules (1.0: 2,000), to see how costs grow."""
    r = random.Random(seed)
    counts = [max(1, round(c * scale)) for c in RULES]
    verdicts = max(4, round(VERDICT_RULES * scale))
    total = sum(counts) + verdicts
    per_section = -(-total // SECTIONS)
    _write_manifest_and_source(
        root, total, "synthetic-2000",
        "Synthetic knowledge base, 2,000 rules over 200 facts, three levels of chaining")

    facts = ["facts:"]
    for i in range(FACTS):
        kind = fact_type(i)
        facts += [f"  {fact_name(i)}:", f"    type: {kind}", f"    description: Synthetic case fact {i}."]
        if kind == "enum":
            facts.append(f"    values: [{', '.join(ENUM_VALUES)}]")
        if kind == "integer":
            facts += ["    min: 0", "    max: 100"]
    for level, count in enumerate(LEVELS, 1):
        for i in range(count):
            facts += [f"  {conclusion(level, i)}:", "    type: boolean", "    derived: true",
                      f"    description: Synthetic level-{level} conclusion {i}."]
    (root / "facts.yaml").write_text("\n".join(facts) + "\n", encoding="utf-8")
    (root / "outcomes.yaml").write_text("outcomes:\n" + "".join(
        f"  o{k:03d}:\n    text: Synthetic outcome {k}.\n" for k in range(CODES)), encoding="utf-8")

    rules: list[str] = []
    n = 0
    for level, (count, derived_by_level) in enumerate(zip(counts, LEVELS, strict=True), 1):
        for j in range(count):
            target = conclusion(level, j % derived_by_level)  # every conclusion is derived
            if level == 1:
                tests = [_comparison(r) for _ in range(3)]
            else:
                below = conclusion(level - 1, r.randrange(LEVELS[level - 2]))
                tests = [[f"- fact: {below}", "  equals: true"], _comparison(r)]
            rules.append(_rule(n, tests, [f"derive: [{target}]"], per_section))
            n += 1
    for j in range(verdicts):
        tests = [[f"- fact: {conclusion(3, r.randrange(LEVELS[2]))}", "  equals: true"], _comparison(r)]
        code = f"o{j % CODES:03d}"
        then = ([f"recommend: [{code}]"] if j < verdicts * 3 // 4 else
                ["forbid:", f"  - code: {code}", "    reason: Synthetic prohibition."])
        rules.append(_rule(n, tests, then, per_section))
        n += 1
    per_file = 250
    for k in range(0, len(rules), per_file):
        (root / "rules" / f"rules-{k // per_file:02d}.yaml").write_text(
            "rules:\n" + "\n\n".join(rules[k:k + per_file]) + "\n", encoding="utf-8")
    return root


def synthetic_cases(count: int, seed: int = 0) -> list[dict[str, object]]:
    """Cases over the synthetic facts, each fact unknown a third of the time."""
    r = random.Random(seed)
    cases: list[dict[str, object]] = []
    for _ in range(count):
        case: dict[str, object] = {}
        for i in range(FACTS):
            if r.random() < 1 / 3:
                continue
            kind = fact_type(i)
            case[fact_name(i)] = (r.random() < 0.5 if kind == "boolean" else
                                  r.choice(ENUM_VALUES) if kind == "enum" else r.randrange(101))
        cases.append(case)
    return cases
