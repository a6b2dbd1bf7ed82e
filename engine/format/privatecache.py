"""guidekb's folders in the user's cache, used only when nobody else can write them.

Three caches keep their entries under one root, `$XDG_CACHE_HOME/guidekb/` (else
`~/.cache/guidekb/`): verified knowledge bases in `kb/` (engine/format/kbcache.py), chart
groupings in `charts/` (visualize/bookcache.py) and graphviz's drawing sizes in the root's
`layouts.sqlite3` (visualize/measure.py). Each entry only saves time, so whatever is wrong
with a folder or an entry is a miss -- nothing read, nothing written -- never an error.

Trust, as Python trusts its own `__pycache__`:

* the root is a real folder (not a link), the user's, and writable by nobody else, who could
  otherwise swap a cache folder or plant a database in it; it is created 0700;
* a cache folder in it (`kb/`, `charts/`) is a real folder, the user's and closed to others
  (no permission for group or others), created 0700;
* an entry is a regular file (not a link), the user's and writable by nobody else.

Entries are written atomically -- a temporary file in the same folder, renamed -- so
concurrent writers and readers never see half an entry, and only the most recent are kept.
`GUIDEKB_NO_CACHE=1` turns every cache off.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def cache_enabled() -> bool:
    """False when `GUIDEKB_NO_CACHE` is set to anything but empty or 0."""
    return os.environ.get("GUIDEKB_NO_CACHE", "").strip() in ("", "0")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "guidekb"


def _owned(info: os.stat_result, forbidden: int) -> bool:
    return info.st_uid == os.getuid() and info.st_mode & forbidden == 0


def _safe_folder(folder: Path, forbidden: int, create: bool, close: bool = False) -> bool:
    """Whether `folder` (created 0700 first if `create`) is a real folder, not a link, that is
    the user's and has none of the `forbidden` permission bits. With `close` (and `create`),
    such a folder of the user's that has them loses them first."""
    try:
        if create:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
        if close and create and stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() \
                and info.st_mode & forbidden:
            os.chmod(folder, stat.S_IMODE(info.st_mode) & ~forbidden)
            info = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _owned(info, forbidden)


def private_folder(folder: Path, *, create: bool) -> Path | None:
    """`folder`, created 0700 if missing and `create`, when it is a real folder of the user's
    closed to others; None otherwise (a miss)."""
    return folder if _safe_folder(folder, 0o077, create) else None


def cache_folder(name: str = "", *, create: bool) -> Path | None:
    """guidekb's cache folder `name` (the root itself when empty), created if missing and
    `create`; None when caching is off or the root or the folder is not safe to use."""
    if not cache_enabled():
        return None
    root = cache_root()
    # An older guidekb made the root under the user's umask: 0775 under the common 002. Left so,
    # every cache would be off for good, silently; the first write closes it instead (what is
    # in it is still checked entry by entry, so nothing another user put there is read).
    if not _safe_folder(root, 0o022, create, close=True):
        return None
    return private_folder(root / name, create=create) if name else root


def safe_file(path: Path, *, missing_ok: bool = False) -> bool:
    """Whether `path` is a regular file, not a link, the user's and writable by nobody else
    (or, with `missing_ok`, does not exist)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return missing_ok
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and _owned(info, 0o022)


def read_entry(path: Path) -> bytes | None:
    """The bytes of the entry `path`, if it is a file `safe_file` accepts (checked on the
    opened file, so it cannot be swapped in between); None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as entry:
            info = os.fstat(entry.fileno())
            if not (stat.S_ISREG(info.st_mode) and _owned(info, 0o022)):
                return None
            return entry.read()
    except OSError:
        return None


def write_entry(folder: Path, name: str, data: bytes, *, keep: int) -> bool:
    """Write `data` as the entry `name` of `folder` atomically (a temporary file, renamed),
    then remove all but the `keep` most recently written entries of its suffix (never this
    one). Whether it was written: no cache (a read-only home, a full disk) is no failure."""
    path = folder / name
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=path.suffix)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            return False
        raise
    _prune(folder, f"*{path.suffix}", keep, newest=path)
    return True


def _prune(folder: Path, pattern: str, keep: int, newest: Path) -> None:
    """Remove all but the `keep` most recent entries; another process removing one first, or
    writing its temporary file, is no failure."""
    written: list[tuple[int, Path]] = []
    for entry in folder.glob(pattern):
        if entry.name.startswith("."):
            continue  # another writer's temporary file
        try:
            written.append((entry.lstat().st_mtime_ns, entry))
        except OSError:
            continue
    written.sort(key=lambda item: item[0], reverse=True)
    for _, old in written[keep:]:
        if old != newest:
            try:
                old.unlink(missing_ok=True)
            except OSError:
                continue


__all__ = ["cache_enabled", "cache_folder", "cache_root", "private_folder", "read_entry",
           "safe_file", "write_entry"]
