"""The knowledge-base cache prototype (engine/format/kbcache.py): a hit gives the same knowledge
base, any change to any file misses, and a cache file others could have written is ignored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.kbcache import content_key, load_cached
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB


class CountingLoader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, root: Path) -> KnowledgeBase:
        self.calls += 1
        return load_knowledge_base(root)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(HSV_KB, tmp_path / "kb"))


def test_a_hit_is_the_same_knowledge_base(kb_copy: Path, tmp_path: Path) -> None:
    loader = CountingLoader()
    cache = tmp_path / "cache"
    first = load_cached(kb_copy, cache=cache, loader=loader)
    again = load_cached(kb_copy, cache=cache, loader=loader)
    assert loader.calls == 1
    assert again.content_hash == first.content_hash and again is not first
    [stored] = cache.glob("*.pickle")
    assert stored.stat().st_mode & 0o777 == 0o600
    case = {"susceptibility_result": "acyclovir_resistant", "renal_impairment": True}
    assert Engine(again).evaluate(case) == Engine(first).evaluate(case)


def test_any_change_to_any_file_misses(kb_copy: Path, tmp_path: Path) -> None:
    loader = CountingLoader()
    cache = tmp_path / "cache"
    load_cached(kb_copy, cache=cache, loader=loader)
    key = content_key(kb_copy)
    case = next((kb_copy / "cases").glob("*.yaml"))  # a file the loader does not even read
    case.write_text(case.read_text() + "\n# edited\n")
    assert content_key(kb_copy) != key
    load_cached(kb_copy, cache=cache, loader=loader)
    assert loader.calls == 2


def test_a_cache_file_others_could_write_is_ignored(kb_copy: Path, tmp_path: Path) -> None:
    loader = CountingLoader()
    cache = tmp_path / "cache"
    load_cached(kb_copy, cache=cache, loader=loader)
    [stored] = cache.glob("*.pickle")
    stored.chmod(0o666)
    load_cached(kb_copy, cache=cache, loader=loader)
    assert loader.calls == 2
    stored.write_bytes(b"not a pickle")
    stored.chmod(0o600)
    assert load_cached(kb_copy, cache=cache, loader=loader).id == "hsv-resistance"  # a miss, not an error


def test_a_knowledge_base_with_problems_raises_and_is_not_cached(kb_copy: Path, tmp_path: Path) -> None:
    (kb_copy / "facts.yaml").write_text("facts: [not, a, mapping]\n")
    with pytest.raises(KnowledgeBaseError):
        load_cached(kb_copy, cache=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.pickle"))
