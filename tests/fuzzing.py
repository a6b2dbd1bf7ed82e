"""Mutations of knowledge-base files and case files, and a harness that loads each mutant and
classifies what happened: loaded (exit 0), refused with located problems (exit 2), or a crash
(a traceback, or a load slower than the time bound).

The mutations are the ways hostile or broken input was seen to break guidekb (issue 9):
deleted keys, wrong types, truncation, random bytes, deep nesting, aliases (a billion-laughs
bomb, an alias that contains itself), control characters, huge strings, values swapped
between files, `equals: null`, ambiguous numbers (`010`, `0x0E`, `1:30`), long file names,
source paths outside the knowledge base, and files that are folders, FIFOs, devices or links.

Speed matters (`make fuzz` runs over 100,000 mutants): the knowledge base is copied once per
process into a tmpfs folder, a mutation rewrites only the files it changes and is undone after
the load, and the parse of every file the mutation did not touch is taken from a cache (the
parse of an unchanged file is a pure function of its bytes; `Harness.check_cache` verifies
that the cached parses are still equal to fresh ones).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from hypothesis import strategies as st

import guidekb.engine.format.loading as loading
from guidekb.engine.errors import GuidekbError, Problem, ProblemsError
from guidekb.engine.format.cases import load_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.yamlsource import Limits, YamlDocument, load_yaml, parse_yaml
from guidekb.engine.runtime.evaluation import Engine

HSV = Path(__file__).resolve().parent.parent / "knowledge" / "hsv-resistance"
TIME_BOUND = 10.0  # seconds one load (and evaluation) may take
WATCHDOG = 60  # seconds after which a load is interrupted as a hang
# Characters that never reach a problem's text: the reader refuses them in every file and
# value. (Tab and line feed may: a message can quote a value holding them; the terminal output
# escapes them.)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# --- the pristine files ----------------------------------------------------------------------


def _kb_files() -> dict[str, bytes]:
    """The files `load_knowledge_base` reads, by path relative to the knowledge base."""
    names = ["manifest.yaml", "facts.yaml", "outcomes.yaml"]
    names += [f"rules/{p.name}" for p in sorted((HSV / "rules").glob("*.yaml"))]
    names += [f"sources/{p.name}" for p in sorted((HSV / "sources").iterdir())]
    return {name: (HSV / name).read_bytes() for name in names}


KB_FILES = _kb_files()
YAML_FILES = sorted(name for name in KB_FILES if name.endswith(".yaml"))
SOURCE_FILES = sorted(name for name in KB_FILES if name.startswith("sources/"))


def _parse(text: str, name: str) -> YamlDocument:
    doc, problems = parse_yaml(text, name)
    assert not problems, problems
    return doc


DOCS = {name: _parse(KB_FILES[name].decode(), name) for name in YAML_FILES}
# Every place in every YAML file: where a data-level mutation can strike.
PLACES = {name: sorted((p for p in doc.values if p), key=repr) for name, doc in DOCS.items()}
OPERATOR_PLACES = [(name, place) for name in YAML_FILES for place in PLACES[name]
                   if place and place[-1] in ("equals", "in", "lt", "le", "gt", "ge", "contains",
                                              "fact", "known", "unknown", "always")]


def _case_seeds() -> list[str]:
    """Case files to mutate: the shipped cases and the case of every scenario, as YAML."""
    seeds = [p.read_text(encoding="utf-8") for p in sorted((HSV / "cases").glob("*.yaml"))]
    for path in sorted((HSV / "scenarios").glob("*.yaml")):
        doc, problems = load_yaml(path)
        if not problems and isinstance(doc.data, dict) and isinstance(doc.data.get("case"), dict):
            seeds.append(dump(doc.data["case"]))
    return seeds


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1_000_000)


# --- nasty values ------------------------------------------------------------------------------

# The classic alias bomb, 324 bytes: nine levels of nine aliases each, 9**9 strings expanded.
BILLION_LAUGHS = "a: &a [" + ",".join(["lol"] * 9) + "]\n" + "".join(
    f"{k}: &{k} [" + ",".join([f"*{j}"] * 9) + "]\n" for j, k in zip("abcdefgh", "bcdefghi", strict=True))
# Plain-scalar spellings that YAML readers disagree on, and YAML constructs guidekb refuses.
NASTY_SCALARS = [
    "010", "-010", "09", "0x0E", "0o17", "0b101", "1:30", "1:30:00", "1_0", "1e3", "1.5", ".inf",
    "-.inf", ".nan", "yes", "no", "on", "off", "y", "n", "~", "null", "", "''", '""', "[]", "{}",
    "99999999999999999999", "-1", "0", "3651", "true", "True", "FALSE", "2026-02-08",
    "&a [*a]", "&a {x: *a}", "*undefined", "&a", "!!binary aGk=", "!!int 010", "!!float 1",
    "!!python/object/apply:os.system ['true']", "!!set {a, b}", "! 010", "{<<: {a: 1}}",
    "[" * 60 + "]" * 60, "{a: " * 60 + "1" + "}" * 60, '"\\e[2J"', '"\\x00"', '"\\r"', '"\\x85"',
    '"\\u202e"', "'\u202eevil'", "\u200b", "x" * 25_000, "[" + ", ".join(["1"] * 1000) + "]",
]
NASTY_SNIPPETS = [
    *NASTY_SCALARS, "\x00", "\x1b[2J", "\x1b]0;title\x07", "\x7f", "\x85", "\u2028", "\ufeff",
    "\ufffe", "\r", "\r\n", "\t", "\n", ": ", "- ", "? ", "{", "}", "[", "]", "'", '"', "|", ">",
    "#", "&", "*", "!", "%", "@", "`", ",", "---\n", "...\n", "%YAML 1.1\n---\n",
    "%TAG ! tag:evil.com,2026:\n---\n", BILLION_LAUGHS, "<<: *a\n", "  " * 100 + "x: 1\n",
    "".join(" " * i + "k:\n" for i in range(80)), "x" * 100_000, "\n" * 10_000,
]
# Wrong values of every type, for data-level mutations.
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 3651, 2**53, -(2**53), 2**64, "", " ", "x", "010", "yes",
    "immunocompromised", "iv_foscarnet", "suspected", "days_on_therapy", "\u202efoscarnet",
    "a\x00b", "\x1b[2J", "\U0001f600", "x" * 1000, "x" * 30_000, [], [None], [1, 2], ["a", "a"],
    {}, {"fact": "x"}, {"equals": None}, {"all": []}, {"any": [{"always": True}]},
    {"not": {"always": True}}, {"always": True}, {"always": False},
    {"fact": "days_on_therapy", "ge": 10}, {"fact": "immune_status", "equals": None},
    {"fact": "immune_status", "in": []}, {"fact": "days_on_therapy", "lt": True},
    {"known": "suspected"}, {"unknown": "nonexistent"}, 1.5, float("inf"), float("nan"),
]
SOURCE_PATHS = [
    "../x.txt", "../../../../etc/passwd", "/etc/passwd", "/dev/urandom", "/dev/zero", "x" * 300,
    "sources/" + "y" * 300 + ".txt", "a/" * 2100 + "x.txt", "sources", "sources/", "", ".",
    "sources/../manifest.yaml", "sources/../../hsv-resistance/sources/x.txt", "sources/link-out.txt",
    "sources/link-loop.txt", "sources/fifo.txt", "sources/dir.txt", "manifest.yaml",
    "rules/dosing.yaml", "~/x.txt", "sources/*.txt", "C:\\x.txt", "sources/\u202e.txt",
]
FILE_KINDS = ["missing", "empty", "folder", "fifo", "link-urandom", "link-zero", "link-outside",
              "link-loop", "link-folder", "link-missing", "binary", "utf16", "bom"]


# --- the workspace -------------------------------------------------------------------------------


def _fast_tmp() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


PREFIX = "guidekb-fuzz-"
OWNER = ".owner"  # a file in each workspace, locked (flock) by the process using it


def remove_abandoned(parent: Path) -> list[Path]:
    """Remove the workspaces in `parent` whose process is gone: one killed (SIGKILL, SIGTERM, a
    pytest-xdist worker ended by Ctrl-C) never ran its clean-up, and /dev/shm is memory, kept
    until reboot (found: 19 left there). The kernel drops a dead process's lock, so a
    workspace whose owner file can be locked is abandoned; one in use, even by a process of
    another PID namespace, stays. Folders without an owner file are not this code's."""
    removed = []
    for base in parent.glob(PREFIX + "*"):
        try:
            owner = os.open(base / OWNER, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # in use
        else:
            shutil.rmtree(base, ignore_errors=True)
            removed.append(base)
        finally:
            os.close(owner)
    return removed


def _locked_folder(parent: Path) -> tuple[Path, int]:
    """A new folder `PREFIX...` in `parent` and the descriptor of its locked owner file. The
    lock is taken before the folder gets its name, so `remove_abandoned` in another process
    never sees it unlocked."""
    staging = Path(tempfile.mkdtemp(prefix="." + PREFIX, dir=parent))
    owner = os.open(staging / OWNER, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(owner, fcntl.LOCK_EX)
    base = staging.with_name(staging.name[1:])
    staging.rename(base)
    return base, owner


class Workspace:
    """A knowledge base copied once into a temporary (tmpfs when available) folder; mutations
    change files in it, `restore` puts back exactly the pristine files. `close` removes it;
    if the process is killed first, the next workspace made in the same place does."""

    def __init__(self, files: dict[str, bytes], parent: Path | None = None) -> None:
        parent = _fast_tmp() if parent is None else parent
        remove_abandoned(parent)
        self.base, self._owner = _locked_folder(parent)
        try:
            self.kb = self.base / "kb"
            self.outside = self.base / "outside.txt"
            self.outside.write_text("a file outside the knowledge base\n", encoding="utf-8")
            self.files = files
            self.touched: set[str] = set()
            for name, data in files.items():
                path = self.kb / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            os.symlink(self.outside, self.kb / "sources" / "link-out.txt")
            os.symlink(self.kb / "sources" / "link-loop.txt", self.kb / "sources" / "link-loop.txt")
            os.mkfifo(self.kb / "sources" / "fifo.txt")
            (self.kb / "sources" / "dir.txt").mkdir()
        except BaseException:  # nothing left behind by a workspace that failed to fill
            self.close()
            raise

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        owner, self._owner = self._owner, -1
        if owner >= 0:
            with contextlib.suppress(OSError):
                os.close(owner)

    def text(self, name: str) -> str:
        return self.files[name].decode("utf-8")

    def path(self, name: str) -> Path:
        return self.kb / name

    def clear(self, name: str) -> Path:
        """Remove whatever is at `name` (file, folder, FIFO or link), remembering to restore it."""
        self.touched.add(name)
        path = self.kb / name
        if path.is_symlink() or path.exists() or _is_fifo(path):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        return path

    def write(self, name: str, data: bytes | str) -> None:
        path = self.clear(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)

    def restore(self) -> None:
        for name in sorted(self.touched, key=len, reverse=True):
            path = self.kb / name
            if path.is_symlink() or path.exists() or _is_fifo(path):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            if name in self.files:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.files[name])
        self.touched.clear()


def _is_fifo(path: Path) -> bool:
    try:
        return path.is_fifo()
    except OSError:
        return False


# --- mutations -------------------------------------------------------------------------------------


class Mutation:
    """One change to a workspace. Subclasses are frozen dataclasses: Hypothesis prints them."""

    def apply(self, ws: Workspace) -> None:
        raise NotImplementedError


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


@dataclass(frozen=True)
class Truncate(Mutation):
    file: str
    at: int

    def apply(self, ws: Workspace) -> None:
        ws.write(self.file, ws.files[self.file][: self.at])


@dataclass(frozen=True)
class InsertText(Mutation):
    file: str
    at: int
    text: str

    def apply(self, ws: Workspace) -> None:
        old = ws.text(self.file)
        at = min(self.at, len(old))
        ws.write(self.file, old[:at] + self.text + old[at:])


@dataclass(frozen=True)
class InsertBytes(Mutation):
    file: str
    at: int
    data: bytes

    def apply(self, ws: Workspace) -> None:
        old = ws.files[self.file]
        at = min(self.at, len(old))
        ws.write(self.file, old[:at] + self.data + old[at:])


@dataclass(frozen=True)
class ReplaceValue(Mutation):
    """Replace what follows the first `: ` (or `- `) of a line: a scalar written by hand."""

    file: str
    line: int
    value: str

    def apply(self, ws: Workspace) -> None:
        lines = _lines(ws.text(self.file))
        i = self.line % len(lines)
        match = re.match(r"^(\s*(?:- )?[^:#]*:\s|\s*- )", lines[i])
        head = match.group(1) if match else ""
        lines[i] = head + self.value + "\n"
        ws.write(self.file, "".join(lines))


@dataclass(frozen=True)
class EditLine(Mutation):
    """Delete, duplicate, re-indent or swap a line."""

    file: str
    line: int
    how: str  # delete, duplicate, indent, dedent, swap
    amount: int = 1

    def apply(self, ws: Workspace) -> None:
        lines = _lines(ws.text(self.file))
        i = self.line % len(lines)
        if self.how == "delete":
            del lines[i]
        elif self.how == "duplicate":
            lines.insert(i, lines[i])
        elif self.how == "indent":
            lines[i] = " " * self.amount + lines[i]
        elif self.how == "dedent":
            lines[i] = lines[i][min(self.amount, len(lines[i]) - len(lines[i].lstrip(" "))):]
        else:
            j = (i + self.amount) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        ws.write(self.file, "".join(lines))


def _set(data: Any, place: tuple[Any, ...], value: Any) -> Any:
    """A copy of `data` with `value` at `place` (the `_DELETE` marker removes the entry)."""
    if not place:
        return value
    head, rest = place[0], place[1:]
    if isinstance(data, dict):
        copy = dict(data)
        if rest or value is not _DELETE:
            copy[head] = _set(copy.get(head), rest, value)
        else:
            copy.pop(head, None)
        return copy
    if isinstance(data, list) and isinstance(head, int) and head < len(data):
        items = list(data)
        if rest or value is not _DELETE:
            items[head] = _set(items[head], rest, value)
        else:
            del items[head]
        return items
    return data


_DELETE = object()


@dataclass(frozen=True)
class SetValue(Mutation):
    """Put a value of any type at any place of a file (data level, then written as YAML)."""

    file: str
    place: tuple[Any, ...]
    value: Any

    def apply(self, ws: Workspace) -> None:
        ws.write(self.file, dump(_set(DOCS[self.file].data, self.place, self.value)))


@dataclass(frozen=True)
class DeleteKey(Mutation):
    file: str
    place: tuple[Any, ...]

    def apply(self, ws: Workspace) -> None:
        ws.write(self.file, dump(_set(DOCS[self.file].data, self.place, _DELETE)))


@dataclass(frozen=True)
class Nest(Mutation):
    """Wrap the value at a place in `depth` lists or mappings."""

    file: str
    place: tuple[Any, ...]
    depth: int
    mapping: bool

    def apply(self, ws: Workspace) -> None:
        value = _get(DOCS[self.file].data, self.place)
        for _ in range(self.depth):
            value = {"x": value} if self.mapping else [value]
        ws.write(self.file, dump(_set(DOCS[self.file].data, self.place, value)))


@dataclass(frozen=True)
class SwapValues(Mutation):
    """Swap the values at two places, possibly of two different files."""

    file_a: str
    place_a: tuple[Any, ...]
    file_b: str
    place_b: tuple[Any, ...]

    def apply(self, ws: Workspace) -> None:
        a = _get(DOCS[self.file_a].data, self.place_a)
        b = _get(DOCS[self.file_b].data, self.place_b)
        if self.file_a == self.file_b:
            ws.write(self.file_a, dump(_set(_set(DOCS[self.file_a].data, self.place_a, b),
                                            self.place_b, a)))
        else:
            ws.write(self.file_a, dump(_set(DOCS[self.file_a].data, self.place_a, b)))
            ws.write(self.file_b, dump(_set(DOCS[self.file_b].data, self.place_b, a)))


def _get(data: Any, place: tuple[Any, ...]) -> Any:
    for part in place:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


@dataclass(frozen=True)
class ReplaceFile(Mutation):
    """Replace a file by nothing, an empty file, a folder, a FIFO, a link, binary or UTF-16."""

    file: str
    kind: str

    def apply(self, ws: Workspace) -> None:
        replace_file(ws, self.file, self.kind, ws.files[self.file])


def replace_file(ws: Workspace, name: str, kind: str, original: bytes) -> None:
    path = ws.clear(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind.startswith("link-"):
        target = {"link-urandom": Path("/dev/urandom"), "link-zero": Path("/dev/zero"),
                  "link-outside": ws.outside, "link-loop": path, "link-folder": ws.kb,
                  "link-missing": ws.base / "missing"}[kind]
        os.symlink(target, path)
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "utf16":
        path.write_bytes(original.decode("utf-8").encode("utf-16"))
    elif kind == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + original)


@dataclass(frozen=True)
class SwapFiles(Mutation):
    file_a: str
    file_b: str

    def apply(self, ws: Workspace) -> None:
        a, b = ws.files[self.file_a], ws.files[self.file_b]
        ws.write(self.file_a, b)
        ws.write(self.file_b, a)


@dataclass(frozen=True)
class AddRuleFile(Mutation):
    """An extra rules file: long name, odd content, or not a file at all."""

    name: str
    content: str

    def apply(self, ws: Workspace) -> None:
        name = f"rules/{self.name}.yaml"
        if self.content == "<fifo>":
            ws.clear(name)
            os.mkfifo(ws.path(name))
        elif self.content == "<folder>":
            ws.clear(name)
            ws.path(name).mkdir()
        else:
            ws.write(name, self.content)


@dataclass(frozen=True)
class SourcePath(Mutation):
    """Point a manifest source's `file:` somewhere else (outside, too long, not a file)."""

    index: int
    file: str

    def apply(self, ws: Workspace) -> None:
        sources = DOCS["manifest.yaml"].data["sources"]
        place = ("sources", self.index % len(sources), "file")
        ws.write("manifest.yaml", dump(_set(DOCS["manifest.yaml"].data, place, self.file)))


@dataclass(frozen=True)
class Several(Mutation):
    """Mutations applied one after the other (later ones win on the same file)."""

    steps: tuple[Mutation, ...]

    def apply(self, ws: Workspace) -> None:
        for step in self.steps:
            step.apply(ws)


# --- strategies --------------------------------------------------------------------------------------

_any_text = st.text(max_size=40)
_snippet = st.sampled_from(NASTY_SNIPPETS) | _any_text


def _places(file: str) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.sampled_from(PLACES[file])


def _file_place() -> st.SearchStrategy[tuple[str, tuple[Any, ...]]]:
    return st.sampled_from(YAML_FILES).flatmap(lambda f: st.tuples(st.just(f), _places(f)))


odd_values = st.sampled_from(ODD_VALUES) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12)


def _text_mutations(files: list[str]) -> st.SearchStrategy[Mutation]:
    def for_file(name: str) -> st.SearchStrategy[Mutation]:
        size = len(KB_FILES[name])
        lines = max(1, KB_FILES[name].count(b"\n"))
        positions = st.integers(0, size)
        return st.one_of(
            st.builds(Truncate, st.just(name), positions),
            st.builds(InsertText, st.just(name), positions, _snippet),
            st.builds(InsertBytes, st.just(name), positions, st.binary(min_size=1, max_size=32)),
            st.builds(ReplaceValue, st.just(name), st.integers(0, lines),
                      st.sampled_from(NASTY_SCALARS) | _any_text),
            st.builds(EditLine, st.just(name), st.integers(0, lines),
                      st.sampled_from(["delete", "duplicate", "indent", "dedent", "swap"]),
                      st.integers(1, 12)),
        )

    return st.sampled_from(files).flatmap(for_file)


def _data_mutations() -> st.SearchStrategy[Mutation]:
    return st.one_of(
        _file_place().flatmap(lambda fp: st.builds(SetValue, st.just(fp[0]), st.just(fp[1]),
                                                   odd_values)),
        _file_place().map(lambda fp: DeleteKey(*fp)),
        _file_place().flatmap(lambda fp: st.builds(Nest, st.just(fp[0]), st.just(fp[1]),
                                                   st.integers(1, 80), st.booleans())),
        st.builds(lambda a, b: SwapValues(a[0], a[1], b[0], b[1]), _file_place(), _file_place()),
        st.sampled_from(OPERATOR_PLACES).flatmap(
            lambda fp: st.builds(SetValue, st.just(fp[0]), st.just(fp[1]),
                                 st.sampled_from([None, [], {}, [None], "", 1.5]) | odd_values)),
    )


def _file_mutations() -> st.SearchStrategy[Mutation]:
    names = st.sampled_from(["x", "a" * 250, "\u202e", " ", "-", "日本", ".hidden", "x.yaml"])
    contents = st.sampled_from(["", "rules: []\n", "<fifo>", "<folder>", BILLION_LAUGHS,
                                "rules:\n" + KB_FILES["rules/dosing.yaml"].decode().split("rules:", 1)[1],
                                "\x00", "rules: [" + "[" * 100])
    return st.one_of(
        st.builds(ReplaceFile, st.sampled_from(sorted(KB_FILES)), st.sampled_from(FILE_KINDS)),
        st.builds(SwapFiles, st.sampled_from(sorted(KB_FILES)), st.sampled_from(sorted(KB_FILES))),
        st.builds(AddRuleFile, names, contents),
        st.builds(SourcePath, st.integers(0, 3), st.sampled_from(SOURCE_PATHS) | _any_text),
    )


def kb_mutations() -> st.SearchStrategy[Mutation]:
    """Any one mutation of the knowledge base, or two together."""
    one = st.one_of(_text_mutations(YAML_FILES), _text_mutations(SOURCE_FILES), _data_mutations(),
                    _file_mutations())
    return one | st.tuples(one, one).map(lambda pair: Several(pair))


# --- cases ------------------------------------------------------------------------------------------

CASE_SEEDS = _case_seeds()
CASE_FILE = "case.yaml"


@dataclass(frozen=True)
class CaseMutation:
    """A case file: a seed, changed at the text or data level, or replaced by a non-file."""

    seed: int
    how: str  # text, bytes, set, delete, nest, file
    at: int = 0
    text: str = ""
    data: bytes = b""
    key: Any = None
    value: Any = None

    def write(self, ws: Workspace) -> Path:
        seed = CASE_SEEDS[self.seed % len(CASE_SEEDS)]
        path = ws.clear(CASE_FILE)
        if self.how == "text":
            at = self.at % (len(seed) + 1)
            path.write_text(seed[:at] + self.text + seed[at:], encoding="utf-8",
                            errors="surrogatepass")
        elif self.how == "truncate":
            path.write_text(seed[: self.at % (len(seed) + 1)], encoding="utf-8")
        elif self.how == "bytes":
            raw = seed.encode()
            at = self.at % (len(raw) + 1)
            path.write_bytes(raw[:at] + self.data + raw[at:])
        elif self.how == "value":
            lines = _lines(seed) or ["x: 1\n"]
            i = self.at % len(lines)
            match = re.match(r"^(\s*(?:- )?[^:#]*:\s|\s*- )", lines[i])
            lines[i] = (match.group(1) if match else "") + self.text + "\n"
            path.write_text("".join(lines), encoding="utf-8")
        elif self.how in ("set", "delete", "nest"):
            data = dict(_parse(seed, "seed").data or {})
            key = self.key if self.key is not None else (sorted(data) or ["x"])[self.at % max(1, len(data))]
            if self.how == "delete":
                data.pop(key, None)
            elif self.how == "nest":
                value = data.get(key)
                for _ in range(self.at % 80 + 1):
                    value = [value]
                data[key] = value
            else:
                data[key] = self.value
            path.write_text(dump(data), encoding="utf-8")
        else:
            replace_file(ws, CASE_FILE, self.text, seed.encode())
        return path


def case_mutations(kb: KnowledgeBase) -> st.SearchStrategy[CaseMutation]:
    facts = sorted(kb.facts)
    seeds = st.integers(0, len(CASE_SEEDS) - 1)
    keys = st.sampled_from(facts) | st.sampled_from(["unknown_fact", "", "010", "<<", "\u202e"]) | st.none()
    fact_values = [v for spec in kb.facts.values() for v in (spec.values or [])]
    values = odd_values | st.sampled_from(fact_values) | st.lists(st.sampled_from(fact_values),
                                                                  max_size=8)
    return st.one_of(
        st.builds(CaseMutation, seeds, st.just("text"), st.integers(0, 2000), text=_snippet),
        st.builds(CaseMutation, seeds, st.just("truncate"), st.integers(0, 2000)),
        st.builds(CaseMutation, seeds, st.just("bytes"), st.integers(0, 2000),
                  data=st.binary(min_size=1, max_size=32)),
        st.builds(CaseMutation, seeds, st.just("value"), st.integers(0, 40),
                  text=st.sampled_from(NASTY_SCALARS) | _any_text),
        st.builds(CaseMutation, seeds, st.just("set"), st.integers(0, 40), key=keys, value=values),
        st.builds(CaseMutation, seeds, st.just("delete"), st.integers(0, 40)),
        st.builds(CaseMutation, seeds, st.just("nest"), st.integers(0, 200)),
        st.builds(CaseMutation, seeds, st.just("file"), text=st.sampled_from(FILE_KINDS)),
    )


# --- the harness --------------------------------------------------------------------------------------


class Hang(Exception):
    """A load that ran past the watchdog."""


@contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Interrupt the code inside with `Hang` after `seconds` (main thread only)."""
    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    """What one mutant did: its exit code as the CLI would give it, and the time it took."""

    exit_code: int  # 0 loaded, 2 refused with problems, 3 crash (a traceback)
    seconds: float
    error: BaseException | None = None
    codes: tuple[str, ...] = ()


@dataclass
class Stats:
    """Counts over a run, written as JSON by the thorough profile (`make fuzz`)."""

    name: str
    runs: int = 0
    exit_codes: Counter[int] = field(default_factory=Counter)
    problem_codes: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)
    max_seconds: float = 0.0

    def add(self, what: Any, outcome: Outcome) -> None:
        self.runs += 1
        self.exit_codes[outcome.exit_code] += 1
        self.problem_codes.update(outcome.codes)
        self.max_seconds = max(self.max_seconds, outcome.seconds)
        if outcome.exit_code == 3:
            self.crashes.append(f"{what!r:.300}: {outcome.error!r:.300}")
        if outcome.seconds > TIME_BOUND:
            self.slow.append(f"{what!r:.300}: {outcome.seconds:.1f} s")

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        report = {"name": self.name, "runs": self.runs, "exit_codes": dict(self.exit_codes),
                  "tracebacks": len(self.crashes), "over_time_bound": len(self.slow),
                  "max_seconds": round(self.max_seconds, 3), "crashes": self.crashes[:50],
                  "slow": self.slow[:50], "problem_codes": dict(self.problem_codes.most_common())}
        (folder / f"{self.name}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


def classify(action: Callable[[], Any]) -> Outcome:
    """Run `action`, timing it: loaded, refused with located inert problems, or crashed."""
    start = time.monotonic()
    try:
        with watchdog(WATCHDOG):
            action()
    except ProblemsError as error:
        seconds = time.monotonic() - start
        bad = [p for p in error.problems if not _well_located(p)]
        if bad:
            return Outcome(3, seconds, AssertionError(f"problem without location or not inert: {bad[0]!r}"))
        return Outcome(2, seconds, error, tuple(p.code.id for p in error.problems))
    except GuidekbError as error:
        return Outcome(2, time.monotonic() - start, error, (type(error).__name__,))
    except Exception as error:  # a crash: what the fuzzer looks for
        return Outcome(3, time.monotonic() - start, error)
    return Outcome(0, time.monotonic() - start)


def _well_located(problem: Any) -> bool:
    return (bool(problem.file) and problem.line >= 1 and problem.column >= 1 and bool(problem.message)
            and not _CONTROL.search(problem.message) and not _CONTROL.search(problem.hint))


class Harness:
    """One workspace per process; loads mutants of the knowledge base and of case files."""

    def __init__(self) -> None:
        self.ws = Workspace(KB_FILES)
        try:
            self._cache: dict[tuple[str, tuple[Limits, ...]], tuple[YamlDocument, list[Problem]]] = {}
            assert vars(loading).get("load_yaml") is load_yaml, "loading reads files with load_yaml"
            self._real_load_yaml: Callable[..., tuple[YamlDocument, list[Problem]]] = load_yaml
            self.kb = loading.load_knowledge_base(self.ws.kb)
            self.engine = Engine.for_kb(self.kb)
        except BaseException:
            self.ws.close()
            raise

    def _load_yaml(self, path: Path, *args: Limits) -> tuple[YamlDocument, list[Problem]]:
        """`load_yaml`, from the cache for a file this mutation did not touch."""
        name = path.relative_to(self.ws.kb).as_posix() if path.is_relative_to(self.ws.kb) else ""
        if name not in self.ws.files or name in self.ws.touched:
            return self._real_load_yaml(path, *args)
        key = (name, args)
        if key not in self._cache:
            self._cache[key] = self._real_load_yaml(path, *args)
        return self._cache[key]

    def check_cache(self) -> None:
        """The cached parses equal fresh ones: nothing downstream changed them."""
        for (name, args), (doc, problems) in self._cache.items():
            fresh, fresh_problems = self._real_load_yaml(self.ws.path(name), *args)
            assert (fresh.data, fresh.values, fresh.keys, fresh_problems) == \
                   (doc.data, doc.values, doc.keys, problems), f"cached parse of {name} changed"

    def load_kb(self, mutation: Mutation) -> Outcome:
        try:
            mutation.apply(self.ws)
            vars(loading)["load_yaml"] = self._load_yaml
            try:
                outcome = classify(lambda: loading.load_knowledge_base(self.ws.kb))
            finally:
                vars(loading)["load_yaml"] = self._real_load_yaml
        finally:
            self.ws.restore()
        return outcome

    def load_case(self, mutation: CaseMutation) -> Outcome:
        try:
            path = mutation.write(self.ws)
            outcome = classify(lambda: self.engine.evaluate(load_case(path, self.kb)))
        finally:
            self.ws.restore()
        return outcome


def summary(folder: Path) -> str:
    """The figures of a thorough run, added up over the JSON files its workers wrote."""
    totals: dict[str, Counter[str]] = {}
    lines = []
    for path in sorted(folder.glob("*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        kind = report["name"].split("-")[0]
        total = totals.setdefault(kind, Counter())
        total["runs"] += report["runs"]
        total["tracebacks"] += report["tracebacks"]
        total["over_time_bound"] += report["over_time_bound"]
        for code, count in report["exit_codes"].items():
            total[f"exit {code}"] += count
        total["max_ms"] = max(total["max_ms"], int(report["max_seconds"] * 1000))
        lines += [f"  {report['name']}: {c}" for c in report["crashes"] + report["slow"]]
    for kind, total in totals.items():
        exits = ", ".join(f"{k}: {v}" for k, v in sorted(total.items()) if k.startswith("exit"))
        lines.insert(0, f"{kind}: {total['runs']} mutations; {exits}; tracebacks {total['tracebacks']}; "
                        f"over {TIME_BOUND:.0f} s {total['over_time_bound']}; slowest "
                        f"{total['max_ms'] / 1000:.2f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(Path(sys.argv[1] if len(sys.argv) > 1 else "out/fuzz")))
