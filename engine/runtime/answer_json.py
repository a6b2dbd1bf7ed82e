"""The answer to a case as JSON bytes, written straight from what fired, without the models.

Why. Building the `Answer` models and serialising them cost about 190 µs a case on the
default knowledge base, a third of firing its rules (cProfile and interleaved timings,
2,000 sampled cases): too much for population runs, which only need the bytes and the codes.
Almost all of an answer does not depend on the case: each rule's title, conclusions and
source passages, each outcome's text and details. Those are serialised once per knowledge
base, by the models' own serialiser (`_Fragments`); what depends on the case (the case, the
chains' facts and `because`, which rules fired) is serialised per answer with orjson, the
serialiser of the batch output.

One definition. What an answer contains is `build_answer` (engine/runtime/assembly.py): this
writer reuses its verdict (`decide`), its order of derivations and its chains (`Chains`), and
only writes the same objects, keys in the models' order. tests/test_answer_json.py checks the
bytes equal `build_answer`'s answer serialised, for every bundled case and scenario and for
generated cases, and that the check catches a difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from guidekb.engine.format.cases import validate_case
from guidekb.engine.runtime.answer import Conflict
from guidekb.engine.runtime.assembly import Chains, RuleIndex, decide, derivations_in_order
from guidekb.engine.runtime.evaluation import Engine

BECAUSE_KEPT = 16384  # `because` JSON kept per knowledge base (~200 bytes each): memory stays flat
CodeRules = tuple[tuple[str, tuple[str, ...]], ...]  # (code, every rule giving it, KB order)


@dataclass(frozen=True, slots=True)
class AnswerJson:
    """An answer as compact JSON (the bytes `answer_json(engine.evaluate(case))` gives) and the
    verdict a population summary counts."""

    json: bytes
    recommended: CodeRules
    forbidden: CodeRules
    conflicts: tuple[str, ...]


_dumps = orjson.dumps  # compact, UTF-8 unescaped: the serialiser of the batch output lines


class _Fragments:
    """The JSON of everything in an answer that does not depend on the case, per knowledge
    base: written once by the models' serialiser, then only joined."""

    def __init__(self, index: RuleIndex) -> None:
        self.index = index
        self.kb = b'{"kb":' + _model_json(index.kb_ref) + b',"case":'
        self.rule = {rule_id: _dumps(rule_id) for rule_id in index.order}
        self.provenance = {rule_id: b"[" + b",".join(map(_model_json, passages)) + b"]"
                           for rule_id, passages in index.passages.items()}
        self.step_head = {rule_id: b'{"rule":' + self.rule[rule_id] + b',"title":'
                          + _dumps(rule.title) + b',"facts":' for rule_id, rule in index.rules.items()}
        self.step_tail = {rule_id: b',"concludes":' + _dumps(list(index.concludes[rule_id]))
                          + b',"provenance":' + self.provenance[rule_id] + b"}" for rule_id in index.order}
        self.verdict_head = {code: b'{"code":' + _dumps(code) + b',"text":' + _dumps(text) + b',"rule":'
                             for code, text in index.texts.items()}
        self.details = {code: b',"details":' + _dumps(details) + b"}"
                        for code, details in index.details.items()}
        self.resolution = b',"resolution":' + _dumps(_RESOLUTION) + b"}"


_RESOLUTION: str = Conflict.model_fields["resolution"].default


def _model_json(model: Any) -> bytes:
    serialised: bytes = model.__pydantic_serializer__.to_json(model)
    return serialised


class AnswerWriter:
    """Writes the JSON of answers for one knowledge base (its `RuleIndex`)."""

    def __init__(self, index: RuleIndex) -> None:
        self.index = index
        self.fragments = _Fragments(index)
        # Rules that read no conclusion: their chain is themselves alone, so their `because`
        # depends only on the case facts they read. Populations repeat those few values
        # (measured on the HSV KB: 92% of lookups over 2,000 sampled cases hit, 96% over
        # 20,000; 2,753 distinct), so their `because` JSON is kept, at most BECAUSE_KEPT.
        self._alone = frozenset(rule_id for rule_id in index.order if not index.reads_derived[rule_id])
        self._because_kept: dict[tuple[str, bytes], bytes] = {}

    def write(self, case: dict[str, Any], fired: list[str], derived_by: dict[str, str]) -> AnswerJson:
        """The answer `build_answer(index, case, fired, derived_by)` makes, as JSON bytes:
        pieces appended to one list and joined once (no intermediate copies of the quotes)."""
        index, parts = self.index, self.fragments
        fired_rules, decided = decide(index, fired)
        chains = Chains(index, case, derived_by)
        steps: dict[str, bytes] = {}
        because: dict[str, bytes] = {}
        facts: dict[str, bytes] = {}
        alone, kept = self._alone, self._because_kept
        out: list[bytes] = [parts.kb, _dumps(case), b',"recommendations":[']
        put = out.append

        def facts_of(rule_id: str) -> bytes:
            """The JSON of the case facts the rule read: its step's `facts`."""
            found = facts.get(rule_id)
            if found is None:
                found = facts[rule_id] = _dumps(chains.known_facts(rule_id))
            return found

        def because_of(rule_id: str) -> bytes:
            found = because.get(rule_id)
            if found is None:
                if rule_id in alone:  # a function of the rule and the facts it read: kept
                    key = (rule_id, facts_of(rule_id))
                    found = kept.get(key)
                    if found is None:
                        if len(kept) >= BECAUSE_KEPT:
                            kept.clear()
                        found = kept[key] = _dumps(chains.because(rule_id))
                else:
                    found = _dumps(chains.because(rule_id))
                because[rule_id] = found
            return found

        def put_verdict(code: str, rule_id: str, also_by: list[str]) -> None:
            """Every key of a recommendation or prohibition up to its chain, included."""
            out.extend((parts.verdict_head[code], parts.rule[rule_id], b',"because":', because_of(rule_id),
                        b',"provenance":', parts.provenance[rule_id], b',"also_by":', _dumps(also_by),
                        b',"chain":['))
            if rule_id in alone:  # the chain is the rule's own step, which uses no conclusion
                out.extend((parts.step_head[rule_id], facts_of(rule_id), b',"uses":[]',
                            parts.step_tail[rule_id], b"]"))
                return
            for i, current in enumerate(chains.rules_behind(rule_id)):
                step = steps.get(current)
                if step is None:
                    step = steps[current] = b"".join((
                        parts.step_head[current], facts_of(current),
                        b',"uses":', _dumps(chains.uses(current)), parts.step_tail[current]))
                if i:
                    put(b",")
                put(step)
            put(b"]")

        recommended = decided.recommended
        for n, (code, rules) in enumerate(recommended.items()):
            if n:
                put(b",")
            put_verdict(code, rules[0], list(rules[1:]))
            put(parts.details[code])
        put(b'],"prohibitions":[')
        for n, (code, bans) in enumerate(decided.forbidden.items()):
            if n:
                put(b",")
            put_verdict(code, bans[0][0], [r for r, _ in bans[1:]])
            out.extend((b',"reason":', _dumps(bans[0][1]), b"}"))
        put(b'],"derived":[')
        for n, (name, rule_id) in enumerate(derivations_in_order(index, derived_by)):
            out.extend((b',{"fact":' if n else b'{"fact":', _dumps(name), b',"value":true,"rule":',
                        parts.rule[rule_id], b',"because":', because_of(rule_id), b',"provenance":',
                        parts.provenance[rule_id], b"}"))
        put(b'],"conflicts":[')
        conflicts = decided.conflicts
        for n, (code, (by, against)) in enumerate(conflicts.items()):
            out.extend((b',{"code":' if n else b'{"code":', _dumps(code), b',"recommended_by":',
                        parts.rule[by], b',"forbidden_by":', parts.rule[against], parts.resolution))
        out.extend((b'],"fired":', _dumps(fired_rules), b"}"))
        return AnswerJson(
            b"".join(out),
            recommended=tuple(recommended.items()),
            forbidden=tuple((code, tuple(r for r, _ in bans)) for code, bans in decided.forbidden.items()),
            conflicts=tuple(conflicts),
        )


_writers: dict[str, AnswerWriter] = {}  # by content hash, as Engine keeps its compiled rulesets


def writer_for(engine: Engine) -> AnswerWriter:
    """The answer writer of an engine's knowledge base, made once per content."""
    writer = _writers.get(engine.kb.content_hash)
    if writer is None:  # the same content has the same index, whatever KnowledgeBase object holds it
        writer = _writers[engine.kb.content_hash] = AnswerWriter(engine.index)
    return writer


def evaluate_json(engine: Engine, case: Mapping[str, Any], *, validated: bool = False) -> AnswerJson:
    """`engine.evaluate(case)` as JSON bytes (with the verdict's codes), without the models.

    Validated as `Engine.evaluate` validates (CaseError on any invalid fact) unless
    `validated` says the case came from `validate_case`; fails closed as it does
    (EvaluationError, never a partial answer), since the firing is the engine's own.
    """
    checked = dict(case) if validated else validate_case(case, engine.kb)
    session = engine.fire(checked, validated=True)
    return writer_for(engine).write(checked, session.fired, session.derived_by)


__all__ = ["AnswerJson", "AnswerWriter", "evaluate_json", "writer_for"]
