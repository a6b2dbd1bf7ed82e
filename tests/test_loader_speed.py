"""The loader's shortcuts for speed give the answers of the code they replaced.

Verifying provenance used to scan every statement of a source for every quote (quadratic:
1.6 s of the 2,000-rule benchmark's load) and to look every character of every non-ASCII
line up in the typographic table. Both now take a shortcut; each is compared here with the
code it replaced (kept below, verbatim), on the shipped and synthetic knowledge bases and on
Hypothesis input. The YAML reading has its own comparison: tests/test_yaml_fast_compose.py.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.format.sources import (
    _TYPOGRAPHIC,
    Section,
    SourceText,
    Statement,
    _overlap,
    normalize,
)
from tests.conftest import HSV_KB, ROOT


def reference_normalize(text: str) -> str:
    """`sources.normalize` before the typographic table was skipped for texts without them."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHIC)
    return " ".join(text.split())


def reference_statements_containing(source: SourceText, quote: str,
                                    section: Section | None = None) -> list[Statement]:
    """`SourceText.statements_containing` before statements were grouped by section."""
    wanted = reference_normalize(quote)
    candidates = [s for s in source.statements if section is None or s.section == section.title]
    inside = [s for s in candidates if wanted in s.text or s.text in wanted]
    if inside:
        return inside
    return [s for s in candidates if _overlap(wanted, s.text) >= 30]


TYPOGRAPHIC = "".join(chr(point) for point in _TYPOGRAPHIC)


@given(st.text(alphabet=st.sampled_from(TYPOGRAPHIC + "ab •é\u00a0\u2003\ufb01\u2028\t\n")
               | st.characters(), max_size=30))
def test_normalize_as_it_was(text: str) -> None:
    assert normalize(text) == reference_normalize(text)


@pytest.fixture(scope="module")
def knowledge_bases(tmp_path_factory: pytest.TempPathFactory) -> list[KnowledgeBase]:
    spec = importlib.util.spec_from_file_location("synthetic", ROOT / "benchmarks" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    synthetic: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synthetic)
    root = synthetic.write_synthetic_kb(tmp_path_factory.mktemp("kb") / "synthetic", scale=0.1)
    return [load_knowledge_base(HSV_KB), load_knowledge_base(root)]


def test_every_quote_finds_the_statements_it_found(knowledge_bases: list[KnowledgeBase]) -> None:
    """Every quote of every rule, in its own section, in no section and in every other one."""
    compared = 0
    for kb in knowledge_bases:
        for rule in kb.rules:
            for prov in rule.provenance:
                source = kb.sources[prov.source]
                for section in [source.section(prov.section), None, *source.sections[:3]]:
                    found = source.statements_containing(prov.quote, section)
                    assert found == reference_statements_containing(source, prov.quote, section)
                    compared += 1
    assert compared > 600


def _hsv_source() -> SourceText:
    return next(iter(load_knowledge_base(HSV_KB).sources.values()))


HSV_SOURCE = _hsv_source()


@given(start=st.integers(0, 10_000), length=st.integers(0, 400), section=st.integers(-1, 12),
       edit=st.sampled_from(["", " x", "\u2019", "  "]))
def test_passages_and_near_passages_find_the_statements_they_found(start: int, length: int, section: int,
                                                                   edit: str) -> None:
    """A stretch of the source (a quote across statements too), as written or slightly off."""
    body = HSV_SOURCE.body
    start %= max(1, len(body))
    quote = body[start:start + length] + edit
    chosen = HSV_SOURCE.sections[section] if 0 <= section < len(HSV_SOURCE.sections) else None
    assert HSV_SOURCE.statements_containing(quote, chosen) == \
        reference_statements_containing(HSV_SOURCE, quote, chosen)


def test_the_synthetic_source_is_read_as_before(knowledge_bases: list[KnowledgeBase]) -> None:
    """Its 200 bullets hold '•', so every line took the typographic table's slow way."""
    source = next(iter(knowledge_bases[1].sources.values()))
    assert [normalize(line) for line in source.lines] == [reference_normalize(line) for line in source.lines]
    assert Path(source.path).read_text(encoding="utf-8").count("\u2022") == len(source.statements)
