"""Cross-reference checks that need the whole knowledge base: facts, values, codes, sources,
duplicate ids, derived-fact polarity and cycles, and provenance verification."""

from __future__ import annotations

import graphlib
from typing import Protocol

from guidekb.engine.errors import (
    DERIVED_CYCLE,
    DERIVED_FACT_MISUSE,
    DUPLICATE_ID,
    OPERATOR_FOR_TYPE,
    PATHWAY_REPEAT,
    UNKNOWN_CODE,
    UNKNOWN_FACT,
    UNKNOWN_SOURCE,
    UNKNOWN_STAGE,
    VALUE_NOT_IN_DOMAIN,
    ErrorCode,
    Problem,
)
from guidekb.engine.format.conditions import LeafSite, leaves
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import (
    OPERATOR_FACT_TYPES,
    Compare,
    Condition,
    FactSpec,
    Known,
    Provenance,
    Rule,
    RulesFile,
    Unknown,
)
from guidekb.engine.format.provenance import verify
from guidekb.engine.format.suggest import did_you_mean
from guidekb.engine.format.yamlsource import PathKey, YamlDocument


def check_rules(kb: KnowledgeBase, rule_docs: list[tuple[YamlDocument, RulesFile]]) -> list[Problem]:
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    derives: dict[str, list[tuple[str, YamlDocument, PathKey]]] = {}
    for doc, parsed in rule_docs:
        for i, rule in enumerate(parsed.rules):
            here: PathKey = ("rules", i)
            if rule.id in first_seen:
                problems.append(doc.problem((*here, "id"), f"duplicate rule id '{rule.id}'",
                                            f"first defined at {first_seen[rule.id]}",
                                            code=DUPLICATE_ID))
            else:
                pos = doc.position((*here, "id"))
                first_seen[rule.id] = f"{doc.file}:{pos.line}"
            owner = f"rule '{rule.id}'"
            problems += check_condition(kb, owner, rule.when, doc, (*here, "when"))
            problems += _check_then(kb, rule, doc, (*here, "then"))
            problems += check_provenance(kb, owner, rule.provenance, doc, (*here, "provenance"))
            for j, name in enumerate(rule.then.derive):
                derives.setdefault(name, []).append((rule.id, doc, (*here, "then", "derive", j)))
    problems += _check_cycles(kb, rule_docs)
    return problems


def check_manifest(kb: KnowledgeBase, doc: YamlDocument) -> list[Problem]:
    """Facts named by the manifest (the flowchart's question order) must be case facts, and
    the pathway must name conclusions and case facts, each in one stage only."""
    problems = [doc.problem(("flowchart", "question_order", j), f"unknown case fact '{name}' in the "
                            "flowchart's question order", did_you_mean(name, kb.case_facts, "case facts"),
                            code=UNKNOWN_FACT)
                for j, name in enumerate(kb.manifest.flowchart.question_order) if name not in kb.case_facts]
    return problems + _check_pathway(kb, doc)


def _check_pathway(kb: KnowledgeBase, doc: YamlDocument) -> list[Problem]:
    """Every stage of `pathway.stages` is a conclusion or a group of conclusions, every
    question a case fact; a conclusion or a question belongs to one stage, and at most one
    stage comes before any conclusion (`conclusions: []`). The charts trust all of this."""
    if kb.manifest.pathway is None:
        return []
    problems: list[Problem] = []
    placed: dict[str, str] = {}  # conclusion or question -> the stage it is in
    first: str | None = None
    names: set[str] = set()
    for i, stage in enumerate(kb.manifest.pathway.stages):
        here: PathKey = ("pathway", "stages", i)
        if stage.stage in names:
            problems.append(doc.problem((*here, "stage"), f"two pathway stages are named '{stage.stage}'",
                                        "give each stage its own name", code=PATHWAY_REPEAT))
        names.add(stage.stage)
        members: list[tuple[PathKey, str]]
        if stage.conclusions is None:
            members = [((*here, "stage"), stage.stage)]
        else:
            members = [((*here, "conclusions", j), name) for j, name in enumerate(stage.conclusions)]
            if not stage.conclusions:
                if first is not None:
                    problems.append(doc.problem((*here, "conclusions"), f"stage '{stage.stage}': a second "
                                                "stage before any conclusion", f"'{first}' is already one",
                                                code=PATHWAY_REPEAT))
                first = first or stage.stage
        for path, name in members:
            if name not in kb.derived_facts:
                problems.append(doc.problem(path, f"stage '{stage.stage}': '{name}' is not a conclusion "
                                            "the rules draw",
                                            did_you_mean(name, kb.derived_facts, "conclusions"),
                                            code=UNKNOWN_STAGE))
            elif name in placed:
                problems.append(doc.problem(path, f"conclusion '{name}' is in two pathway stages",
                                            f"already in stage '{placed[name]}'", code=PATHWAY_REPEAT))
            else:
                placed[name] = stage.stage
        for j, name in enumerate(stage.questions):
            path = (*here, "questions", j)
            if name not in kb.case_facts:
                problems.append(doc.problem(path, f"stage '{stage.stage}': unknown case fact '{name}'",
                                            did_you_mean(name, kb.case_facts, "case facts"),
                                            code=UNKNOWN_FACT))
            elif f"?{name}" in placed:
                problems.append(doc.problem(path, f"question '{name}' is asked in two pathway stages",
                                            f"already in stage '{placed[f'?{name}']}'", code=PATHWAY_REPEAT))
            else:
                placed[f"?{name}"] = stage.stage
    return problems


def check_condition(kb: KnowledgeBase, owner: str, condition: Condition, doc: YamlDocument,
                    base: PathKey) -> list[Problem]:
    """Facts, operators and values of a condition tree; `owner` names it in messages
    ("rule 'x'", "invariant 'y'"), since rules and invariants share the condition language."""
    problems: list[Problem] = []
    for site in leaves(condition):
        path = (*base, *site.path)

        def report(code: ErrorCode, message: str, hint: str = "", key: str | None = None,
                   p: PathKey = path) -> None:
            problems.append(doc.problem((*p, key) if key else p, message, hint, code=code))

        name = site.fact
        spec = kb.facts.get(name)
        field = "fact" if isinstance(site.leaf, Compare) else (
            "known" if isinstance(site.leaf, Known) else "unknown")
        if spec is None:
            report(UNKNOWN_FACT, f"{owner} uses undeclared fact '{name}'",
                   did_you_mean(name, kb.facts, "facts"), field)
            continue
        if spec.derived:
            _check_derived_use(owner, site, report)
        elif isinstance(site.leaf, Compare):
            _check_compare(site.leaf, spec, report)
    return problems


def _check_derived_use(owner: str, site: LeafSite, report: _Report) -> None:
    leaf = site.leaf
    why = ("a derived conclusion that no rule established is unknown, not false; "
           "write the condition over the case facts instead")
    if isinstance(leaf, Unknown):
        report(DERIVED_FACT_MISUSE, f"{owner} tests 'unknown: {leaf.unknown}' on a derived fact", why,
               "unknown")
    elif site.negated:
        report(DERIVED_FACT_MISUSE, f"{owner} negates derived fact '{site.fact}'", why)
    elif isinstance(leaf, Compare) and not (leaf.operator == "equals" and leaf.equals is True):
        report(DERIVED_FACT_MISUSE, f"{owner} tests derived fact '{site.fact}' with "
               f"'{leaf.operator}: {leaf.operand!r}'",
               f"derived facts are only ever true: write 'equals: true' or 'known: {site.fact}'")


class _Report(Protocol):
    def __call__(self, code: ErrorCode, message: str, hint: str = "", key: str | None = None) -> None: ...


def _check_compare(leaf: Compare, spec: FactSpec, report: _Report) -> None:
    op, operand = leaf.operator, leaf.operand
    key = op
    fact = leaf.fact
    allowed_ops = {name for name, types in OPERATOR_FACT_TYPES.items() if spec.type in types}
    if op not in allowed_ops:
        report(OPERATOR_FOR_TYPE, f"'{op}' cannot test {spec.type} fact '{fact}'",
               f"{'an' if spec.type[0] in 'aeiou' else 'a'} {spec.type} fact is tested with "
               f"{', '.join(sorted(allowed_ops))}", key)
        return
    values = operand if isinstance(operand, list) else [operand]
    for value in values:
        if spec.type == "boolean" and not isinstance(value, bool):
            report(VALUE_NOT_IN_DOMAIN, f"value {value!r} is not allowed for boolean fact '{fact}'",
                   "write true or false", key)
        elif spec.type in ("enum", "enum_list") and value not in (spec.values or []):
            hint = did_you_mean(str(value), spec.values or [], "values")
            if not hint.startswith("known values"):
                hint += " allowed values: " + ", ".join(spec.values or [])
            report(VALUE_NOT_IN_DOMAIN, f"value {value!r} is not allowed for fact '{fact}'", hint, key)
        elif spec.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                report(VALUE_NOT_IN_DOMAIN, f"value {value!r} is not an integer, as fact '{fact}' is", "",
                       key)
            elif spec.min is not None and spec.max is not None and not spec.min <= value <= spec.max:
                report(VALUE_NOT_IN_DOMAIN,
                       f"value {value} is outside the range {spec.min}..{spec.max} of fact '{fact}'",
                       "a test outside the fact's range can never change the answer", key)


def _check_then(kb: KnowledgeBase, rule: Rule, doc: YamlDocument, base: PathKey) -> list[Problem]:
    problems: list[Problem] = []
    for j, name in enumerate(rule.then.derive):
        spec = kb.facts.get(name)
        if spec is None:
            problems.append(doc.problem((*base, "derive", j), f"rule '{rule.id}' derives undeclared "
                                        f"fact '{name}'", did_you_mean(name, kb.derived_facts,
                                                                         "derived facts"),
                                        code=UNKNOWN_FACT))
        elif not spec.derived:
            problems.append(doc.problem((*base, "derive", j), f"rule '{rule.id}' derives case fact "
                                        f"'{name}'", "declare it in facts.yaml with 'derived: true'; "
                                        "case facts come only from the case",
                                        code=DERIVED_FACT_MISUSE))
    for j, code in enumerate(rule.then.recommend):
        if code not in kb.outcomes:
            problems.append(doc.problem((*base, "recommend", j), f"rule '{rule.id}' recommends "
                                        f"unknown code '{code}'", did_you_mean(code, kb.outcomes,
                                                                                "codes"),
                                        code=UNKNOWN_CODE))
    for j, prohibition in enumerate(rule.then.forbid):
        if prohibition.code not in kb.outcomes:
            problems.append(doc.problem((*base, "forbid", j, "code"), f"rule '{rule.id}' forbids "
                                        f"unknown code '{prohibition.code}'",
                                        did_you_mean(prohibition.code, kb.outcomes, "codes"),
                                        code=UNKNOWN_CODE))
    return problems


def check_provenance(kb: KnowledgeBase, owner: str, provenance: list[Provenance], doc: YamlDocument,
                     base: PathKey) -> list[Problem]:
    """Verify each quote against its source; shared by rules and invariants."""
    problems: list[Problem] = []
    for j, prov in enumerate(provenance):
        here = (*base, j)
        document = kb.documents.get(prov.source)
        text = kb.sources.get(prov.source)
        if document is None:
            problems.append(doc.problem((*here, "source"), f"{owner} cites unknown source "
                                        f"'{prov.source}'", did_you_mean(prov.source, kb.documents,
                                                                         "sources"),
                                        code=UNKNOWN_SOURCE))
            continue
        if text is None:
            continue  # the manifest already reported the missing file

        def report(code: ErrorCode, message: str, hint: str, field: str, at: PathKey = here) -> None:
            problems.append(doc.problem((*at, field), f"{owner}: {message}", hint, code=code))

        verify(prov, document, text, report)
    return problems


def _check_cycles(kb: KnowledgeBase, rule_docs: list[tuple[YamlDocument, RulesFile]]) -> list[Problem]:
    where: dict[tuple[str, str], tuple[YamlDocument, PathKey, str]] = {}
    for doc, parsed in rule_docs:
        for i, rule in enumerate(parsed.rules):
            reads = {s.fact for s in leaves(rule.when) if s.fact in kb.derived_facts}
            for source in reads:
                for target in rule.then.derive:
                    where.setdefault((source, target), (doc, ("rules", i, "then", "derive"), rule.id))
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for source, target in where:
        sorter.add(target, source)
    try:
        sorter.prepare()
        return []  # no cycle: networkx (slow to import, and `guidekb run` loads through here) not needed
    except graphlib.CycleError:
        pass
    import networkx as nx

    graph: nx.DiGraph = nx.DiGraph()
    graph.add_edges_from(where)
    problems = []
    for found in sorted(nx.simple_cycles(graph)):
        start = found.index(min(found))  # the same cycle reads the same way on every run
        cycle = found[start:] + found[:start]
        edges = list(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
        doc, path, _ = where[edges[0]]
        chain = " -> ".join([*cycle, cycle[0]])
        rules = ", ".join(sorted({where[e][2] for e in edges}))
        problems.append(doc.problem(path, f"derived facts form a cycle: {chain}",
                                    f"rules involved: {rules}; a conclusion cannot justify itself",
                                    code=DERIVED_CYCLE))
    return problems
