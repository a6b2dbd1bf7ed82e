"""A cache of loaded, verified knowledge bases, keyed by content (a prototype: not yet used by
`load_knowledge_base` or the command line).

Loading the HSV knowledge base costs about 0.2 s on an idle core, four fifths of it composing the
YAML with locations in pure Python and a tenth verifying the quotes; `guidekb run CASE` pays
that on every call. A cached knowledge base is the pickled `KnowledgeBase` object, stored under
the user's cache folder (`$XDG_CACHE_HOME/guidekb/kb/`, else `~/.cache/guidekb/kb/`) by a key
that changes whenever anything it depends on changes:

* every file under the knowledge-base folder (names and bytes; hidden files aside), read and
  hashed on each call, so an edit to any file, even one the loader does not read, misses;
* the folder's resolved path (locations in messages name it);
* the source of guidekb's format layer and the Python version (a pickle of an older model
  shape is never unpickled into a newer one).

A pickle runs code when loaded, so only a file this user wrote is trusted, the way Python
trusts its own `__pycache__`: the cache folder must be owned by the user and closed to others
(0700), the file owned by the user and writable by nobody else; otherwise it is ignored and
the knowledge base is loaded from its files. Writes are atomic (a temporary file renamed), so a
reader never sees half a file; anything unreadable is a miss, never an error.

Wiring it in (proposal): `load_knowledge_base(root)` -> `load_cached(root)` in the CLI's
`options.load`, behind `GUIDEKB_NO_CACHE=1` to turn it off.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import os
import pickle
import stat
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base

_FORMAT_PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "guidekb" / "kb"


def _code_fingerprint() -> bytes:
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(_FORMAT_PACKAGE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def content_key(root: Path) -> str:
    """The cache key of a knowledge-base folder: every file's relative name and bytes, the
    folder's resolved path, guidekb's format code and the Python version."""
    root = root.resolve()
    digest = hashlib.sha256(_code_fingerprint())
    digest.update(str(root).encode() + b"\0")
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            data = path.read_bytes()
            digest.update(f"{relative}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def _private_to_user(path: Path, is_dir: bool) -> bool:
    try:
        info = path.stat()
    except OSError:
        return False
    if info.st_uid != os.getuid() or stat.S_ISDIR(info.st_mode) != is_dir:
        return False
    forbidden = 0o077 if is_dir else 0o022
    return info.st_mode & forbidden == 0


def _read(path: Path) -> KnowledgeBase | None:
    if not (_private_to_user(path.parent, is_dir=True) and _private_to_user(path, is_dir=False)):
        return None
    try:
        kb = pickle.loads(path.read_bytes())
    except Exception:  # a truncated or stale file is a miss, never an error
        return None
    return kb if isinstance(kb, KnowledgeBase) else None


def _dumps(kb: KnowledgeBase) -> bytes:
    """Pickle, with the read-only mappings a KnowledgeBase holds stored as their dicts."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table,
                              types.MappingProxyType: lambda m: (types.MappingProxyType, (dict(m),))}
    pickler.dump(kb)
    return buffer.getvalue()


def _write(path: Path, kb: KnowledgeBase) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private_to_user(path.parent, is_dir=True):
            return
        data = _dumps(kb)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return  # no cache is not a failure


def load_cached(root: Path | str, *, cache: Path | None = None,
                loader: Callable[[Path], KnowledgeBase] = load_knowledge_base) -> KnowledgeBase:
    """The knowledge base in `root`, from the cache when its content was loaded before, else
    loaded (and verified) by `loader` and cached. Problems raise exactly as `loader` raises them:
    a knowledge base with problems is never cached."""
    root = Path(root)
    path = (cache or cache_dir()) / f"{content_key(root)}.pickle"
    kb = _read(path)
    if kb is None:
        kb = loader(root)
        _write(path, kb)
    return kb


__all__ = ["cache_dir", "content_key", "load_cached"]
