"""The cache of verified knowledge bases (engine/format/kbcache.py): a hit answers exactly as a
cold load, any change to any file the loader reads misses, and nothing in the cache is ever
trusted blindly -- a corrupted, foreign or unsafe entry is a miss, never an error or another
answer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format import kbcache
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.kbcache import content_key, load_cached
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.evaluation import Engine
from tests.conftest import HSV_KB

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((HSV_KB / "cases").glob("*.yaml"))


class CountingLoader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, root: Path) -> KnowledgeBase:
        self.calls += 1
        return load_knowledge_base(root)


def refuse(root: Path) -> KnowledgeBase:
    raise AssertionError("a warm cache must not load the files again")


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(HSV_KB, tmp_path / "kb"))


@pytest.fixture(autouse=True)
def cache_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIDEKB_NO_CACHE", raising=False)


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json")) if cache.is_dir() else []


def test_warm_and_cold_give_identical_answers_for_every_bundled_case(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = load_cached(HSV_KB, cache=cache)
    warm = load_cached(HSV_KB, cache=cache, loader=refuse)
    assert warm is not cold and warm.content_hash == cold.content_hash
    assert warm.rule_locations == cold.rule_locations and warm.fact_locations == cold.fact_locations
    assert warm.outcome_locations == cold.outcome_locations
    assert CASES
    for path in CASES:
        answers = [Engine(kb).evaluate(load_case(path, kb)).model_dump(mode="json") for kb in (cold, warm)]
        assert answers[0] == answers[1], path.name


def test_the_command_line_answers_the_same_cold_and_warm(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("GUIDEKB_NO_CACHE", None)
    command = [sys.executable, "-m", "guidekb", "run", *map(str, CASES), "--format", "json", "--kb", str(HSV_KB)]
    outputs = [subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=True).stdout
               for _ in range(2)]
    assert entries(tmp_path / "xdg" / "guidekb" / "kb"), "the first run fills the cache"
    assert outputs[0] == outputs[1]
    uncached = subprocess.run([*command, "--no-cache"], capture_output=True, text=True, env=env, cwd=ROOT,
                              check=True).stdout
    assert uncached == outputs[0]


def test_an_entry_is_plain_json_in_a_private_folder(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_cached(HSV_KB, cache=cache)
    [entry] = entries(cache)
    assert cache.stat().st_mode & 0o777 == 0o700
    assert entry.stat().st_mode & 0o077 == 0
    data = json.loads(entry.read_text(encoding="utf-8"))  # data, never a pickle
    assert data["format"] == kbcache.FORMAT and data["key"] == entry.stem
    assert not list(cache.glob(".tmp-*")), "no temporary file is left behind"


def _files_the_loader_reads(kb: Path) -> list[Path]:
    loaded = load_knowledge_base(kb)
    rules = sorted(p for p in (kb / "rules").rglob("*") if p.suffix in (".yaml", ".yml"))
    sources = sorted({text.path for text in loaded.sources.values()})
    return [kb / "manifest.yaml", kb / "facts.yaml", kb / "outcomes.yaml", *rules, *sources]


def _change_one_byte(path: Path) -> None:
    """Swap the case of the last letter of the file (or change its last digit)."""
    data = bytearray(path.read_bytes())
    for i in range(len(data) - 1, -1, -1):
        char = chr(data[i])
        if char.isascii() and char.isalpha():
            data[i] = ord(char.swapcase())
            break
        if char.isdigit():
            data[i] = ord("1" if char == "0" else "0")
            break
    path.write_bytes(bytes(data))


def _outcome(load: Callable[[], KnowledgeBase]) -> str:
    try:
        return load().content_hash
    except KnowledgeBaseError as exc:
        return "problems: " + "; ".join(sorted(str(p) for p in exc.problems))


def invalidated(kb: Path, changed: Path, cache: Path) -> bool:
    """Whether, after one byte of `changed` changed, the cached load misses and gives what a
    fresh load of the files gives."""
    load_cached(kb, cache=cache)
    _change_one_byte(changed)
    loader = CountingLoader()
    got = _outcome(lambda: load_cached(kb, cache=cache, loader=loader))
    return loader.calls == 1 and got == _outcome(lambda: load_knowledge_base(kb))


def test_every_file_the_loader_reads_is_covered(tmp_path: Path) -> None:
    names = [p.relative_to(HSV_KB) for p in _files_the_loader_reads(HSV_KB)]
    assert any(n.parts[0] == "sources" for n in names) and any(n.parts[0] == "rules" for n in names)
    for i, name in enumerate(names):
        kb = Path(shutil.copytree(HSV_KB, tmp_path / f"kb{i}"))
        assert invalidated(kb, kb / name, tmp_path / f"cache{i}"), f"a change to {name} was not seen"


def test_a_change_to_a_quoted_passage_is_reported_not_served_from_the_cache(kb_copy: Path,
                                                                         tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    kb = load_cached(kb_copy, cache=cache)
    quote = kb.rules[0].provenance[0].quote
    source = kb.sources[kb.rules[0].provenance[0].source].path
    text = source.read_text(encoding="utf-8")
    words = quote.split()
    assert words[-1] in text
    source.write_text(text.replace(words[-1], words[-1] + "x"), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError):
        load_cached(kb_copy, cache=cache)


def test_a_cache_keyed_on_too_little_would_be_caught(kb_copy: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation: a key over rules/ alone. The invalidation check must fail on it, for a change
    to facts.yaml -- or the test above proves nothing."""
    def rules_only(root: Path) -> str:
        files = sorted((root / "rules").rglob("*.yaml"))
        return "k" + str(abs(hash(tuple(p.read_bytes() for p in files))))

    monkeypatch.setattr(kbcache, "content_key", rules_only)
    assert not invalidated(kb_copy, kb_copy / "facts.yaml", tmp_path / "cache")


def test_a_change_in_a_case_file_does_not_matter(kb_copy: Path, tmp_path: Path) -> None:
    """Files the loader does not read (cases, scenarios) are not part of the key."""
    key = content_key(kb_copy)
    case = next((kb_copy / "cases").glob("*.yaml"))
    case.write_text(case.read_text() + "\n# edited\n")
    assert content_key(kb_copy) == key


CORRUPTIONS: dict[str, Callable[[Path], object]] = {
    "not json": lambda p: p.write_bytes(b"\x80\x04not json at all"),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "a list": lambda p: p.write_text("[1, 2, 3]"),
    "another format": lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "format": 0})),
    "another key": lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "key": "0" * 64})),
    "a rule changed": lambda p: p.write_text(json.dumps(_edit_rule(json.loads(p.read_text())))),
    "a field of the wrong type": lambda p: p.write_text(json.dumps({**json.loads(p.read_text()),
                                                                    "facts": {"x": 1}})),
    "a bad location": lambda p: p.write_text(json.dumps({**json.loads(p.read_text()),
                                                         "rule_locations": {"r": ["f", "1", 1]}})),
    "a folder": lambda p: _replace_by_folder(p),
    "a source outside the knowledge base": lambda p: p.write_text(json.dumps(_source_outside(json.loads(p.read_text())))),
}


def _source_outside(entry: dict[str, Any]) -> dict[str, Any]:
    for text in entry["sources"].values():
        text["file"] = "/etc/hostname"
    return entry


def _replace_by_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _edit_rule(entry: dict[str, object]) -> dict[str, object]:
    rules = entry["rules"]
    assert isinstance(rules, list)
    rules[0]["title"] = rules[0]["title"] + " (forged)"
    return entry


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_a_corrupted_entry_is_ignored(kb_copy: Path, tmp_path: Path, corrupt: str) -> None:
    cache = tmp_path / "cache"
    expected = load_cached(kb_copy, cache=cache)
    [entry] = entries(cache)
    CORRUPTIONS[corrupt](entry)
    loader = CountingLoader()
    got = load_cached(kb_copy, cache=cache, loader=loader)
    assert loader.calls == 1 and got.content_hash == expected.content_hash
    assert all(r.title == e.title for r, e in zip(got.rules, expected.rules, strict=True))


def test_an_entry_others_could_write_is_ignored(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_cached(kb_copy, cache=cache)
    [entry] = entries(cache)
    entry.chmod(0o666)
    loader = CountingLoader()
    load_cached(kb_copy, cache=cache, loader=loader)
    assert loader.calls == 1
    entry.chmod(0o600)
    cache.chmod(0o777)
    load_cached(kb_copy, cache=cache, loader=loader)
    assert loader.calls == 2


def test_no_cache_turns_it_off(kb_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    load_cached(kb_copy, cache=cache, use_cache=False)
    assert not entries(cache)
    monkeypatch.setenv("GUIDEKB_NO_CACHE", "1")
    loader = CountingLoader()
    load_cached(kb_copy, cache=cache, loader=loader)
    load_cached(kb_copy, cache=cache, loader=loader)
    assert loader.calls == 2 and not entries(cache)


def test_an_unwritable_cache_is_no_failure(kb_copy: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert load_cached(kb_copy, cache=blocked / "cache").id == "hsv-resistance"


def test_a_knowledge_base_with_problems_raises_and_is_not_cached(kb_copy: Path, tmp_path: Path) -> None:
    (kb_copy / "facts.yaml").write_text("facts: [not, a, mapping]\n")
    for _ in range(2):
        with pytest.raises(KnowledgeBaseError):
            load_cached(kb_copy, cache=tmp_path / "cache")
    assert not entries(tmp_path / "cache")


def test_concurrent_writers_leave_one_good_entry(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    results: list[str] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            results.append(load_cached(kb_copy, cache=cache).content_hash)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 1
    assert len(entries(cache)) == 1
    assert not list(cache.glob(".tmp-*"))
    assert load_cached(kb_copy, cache=cache, loader=refuse).content_hash == results[0]


@pytest.fixture
def in_folder(tmp_path: Path) -> Iterator[Path]:
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def test_locations_follow_the_working_directory(kb_copy: Path, tmp_path: Path, in_folder: Path) -> None:
    """Messages name files relative to the working directory, so the key includes it."""
    cache = tmp_path / "cache"
    first = load_cached(kb_copy, cache=cache)
    os.chdir(kb_copy)
    again = load_cached(kb_copy, cache=cache)
    assert again.rule_locations == load_knowledge_base(kb_copy).rule_locations
    assert again.rule_locations != first.rule_locations


def test_old_entries_are_pruned(kb_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kbcache, "KEEP", 2)
    cache = tmp_path / "cache"
    for edit in range(4):
        (kb_copy / "outcomes.yaml").write_text((kb_copy / "outcomes.yaml").read_text() + f"# edit {edit}\n")
        load_cached(kb_copy, cache=cache)
    assert len(entries(cache)) == 2
    assert load_cached(kb_copy, cache=cache, loader=refuse).id == "hsv-resistance"  # the newest kept
