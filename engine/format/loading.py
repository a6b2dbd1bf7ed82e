"""Load a knowledge-base folder: parse every file, validate, cross-check, verify provenance.

Every problem of every file is collected in one pass and raised together as a
`KnowledgeBaseError`, so an author sees the whole list at once.

Layout of a knowledge base folder::

    manifest.yaml      id, title, version, authors, source documents
    facts.yaml         the fact vocabulary (case facts and derived conclusions)
    outcomes.yaml      the codes rules may recommend or forbid
    rules/**/*.yaml    the rules, any number of files (.yml too, subfolders too)
    sources/*.txt      the verbatim source texts named by the manifest
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from guidekb.engine.errors import (
    DUPLICATE_ID,
    MISSING_FILE,
    NOT_A_MAPPING,
    SECTION_NOT_IN_TEXT,
    KnowledgeBaseError,
    Problem,
    relative,
)
from guidekb.engine.format.checking import check_manifest, check_rules
from guidekb.engine.format.kbfiles import YAML_SUFFIXES, list_files
from guidekb.engine.format.knowledge import KnowledgeBase, Location
from guidekb.engine.format.locate import PACKAGED_KB
from guidekb.engine.format.models import FactsFile, Manifest, OutcomesFile, RulesFile
from guidekb.engine.format.sources import SourceRefused, SourceText, read_source
from guidekb.engine.format.validation import validate
from guidekb.engine.format.yamlsource import YamlDocument, load_yaml

DEFAULT_KB = PACKAGED_KB  # the HSV knowledge base shipped as package data
M = TypeVar("M", Manifest, FactsFile, OutcomesFile, RulesFile)


def load_knowledge_base(root: Path | str) -> KnowledgeBase:
    """Load and verify the knowledge base in `root`, or raise KnowledgeBaseError with all problems."""
    kb, problems = diagnose_knowledge_base(root)
    if problems or kb is None:
        raise KnowledgeBaseError(problems)
    return kb


def diagnose_knowledge_base(root: Path | str) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Every problem of the knowledge base in `root`, and the knowledge base as far as it
    could be built (None when its manifest, facts or outcomes do not load).

    With problems, the knowledge base returned is for checking the files that refer to its
    vocabulary (invariants, scenarios, cases) in the same pass -- never for answering a case:
    `load_knowledge_base` is the only way to a knowledge base that answers."""
    root = Path(root)
    problems: list[Problem] = []
    if not os.path.isfile(root / "manifest.yaml"):  # never raises (a name too long: False)
        where = relative(root / "manifest.yaml")
        hint = ("a knowledge base is a folder holding manifest.yaml, facts.yaml, outcomes.yaml "
                "and rules/*.yaml")
        return None, [Problem(where, 1, 1, "no manifest.yaml here", hint, code=MISSING_FILE)]

    manifest_doc, manifest = _read(root / "manifest.yaml", Manifest, problems)
    facts_doc, facts_file = _read(root / "facts.yaml", FactsFile, problems)
    outcomes_doc, outcomes_file = _read(root / "outcomes.yaml", OutcomesFile, problems)

    rule_docs: list[tuple[YamlDocument, RulesFile]] = []
    listing = list_files(root / "rules", YAML_SUFFIXES, "rule")
    problems += listing.problems
    rule_files = listing.files
    if not rule_files:
        problems.append(Problem(relative(root / "rules"), 1, 1, "no rule files found",
                                "put rules in rules/*.yaml", code=MISSING_FILE))
    for path in rule_files:
        doc, parsed = _read(path, RulesFile, problems)
        if doc is not None and parsed is not None:
            rule_docs.append((doc, parsed))

    sources: dict[str, SourceText] = {}
    if manifest is not None and manifest_doc is not None:
        sources = _read_sources(root, manifest, manifest_doc, problems)

    if manifest is None or facts_file is None or outcomes_file is None:
        return None, problems

    assert facts_doc is not None and outcomes_doc is not None
    kb = KnowledgeBase(
        root=root,
        manifest=manifest,
        facts=dict(facts_file.facts),
        outcomes=dict(outcomes_file.outcomes),
        rules=tuple(rule for _, parsed in rule_docs for rule in parsed.rules),
        sources=sources,
        fact_locations={n: _at(facts_doc, ("facts", n)) for n in facts_file.facts},
        outcome_locations={n: _at(outcomes_doc, ("outcomes", n)) for n in outcomes_file.outcomes},
    )
    problems += check_rules(kb, rule_docs)
    assert manifest_doc is not None
    problems += check_manifest(kb, manifest_doc)
    if problems:
        return kb, problems
    return replace(kb, rule_locations={
        rule.id: _at(doc, ("rules", i)) for doc, parsed in rule_docs
        for i, rule in enumerate(parsed.rules)
    }), []


def _read(path: Path, model: type[M], problems: list[Problem]) -> tuple[YamlDocument | None, M | None]:
    if not os.path.lexists(path):  # anything else there (a folder, a FIFO) load_yaml refuses
        problems.append(Problem(relative(path), 1, 1, f"missing file {path.name}",
                                f"every knowledge base needs {path.name}", code=MISSING_FILE))
        return None, None
    doc, syntax = load_yaml(path)
    problems += syntax
    if syntax:
        return doc, None
    if not isinstance(doc.data, dict):
        said = "the file is empty" if doc.data is None else "expected a mapping at the top of the file"
        problems.append(Problem(doc.file, 1, 1, said,
                                f"see docs/format.md for the layout of {path.name}",
                                code=NOT_A_MAPPING))
        return doc, None
    parsed, errors = validate(model, doc)
    problems += errors
    return doc, parsed


def _read_sources(root: Path, manifest: Manifest, doc: YamlDocument,
                  problems: list[Problem]) -> dict[str, SourceText]:
    texts: dict[str, SourceText] = {}
    seen: set[str] = set()
    for i, source in enumerate(manifest.sources):
        here = ("sources", i)
        if source.id in seen:
            problems.append(doc.problem((*here, "id"), f"duplicate source id '{source.id}'",
                                        code=DUPLICATE_ID))
        seen.add(source.id)
        text = read_source(root, source.id, source.file, source.sections)
        if isinstance(text, SourceRefused):  # missing, outside the knowledge base, unreadable
            problems.append(text.problem(doc, (*here, "file")))
            continue
        for title in text.missing_sections:
            j = source.sections.index(title)
            problems.append(doc.problem(
                (*here, "sections", j),
                f"section '{title}' is not a line of {source.file} (after the sections before it)",
                "sections are listed in document order, each exactly as its heading line",
                code=SECTION_NOT_IN_TEXT))
        texts[source.id] = text
    return texts


def _at(doc: YamlDocument, path: tuple[str | int, ...]) -> Location:
    pos = doc.position(path, prefer_key=True)
    return Location(doc.file, pos.line, pos.column)
