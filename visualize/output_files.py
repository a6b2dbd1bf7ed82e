"""Writing output files without ever losing a user's file.

Every file guidekb writes (flowcharts, reports, schemas) goes through `write_file` or an
`OutputFolder`, which promise (docs/reliability.md, "Output files"):

* **Atomic**: a file is written to a new temporary file in the same folder (opened with
  O_CREAT|O_EXCL|O_NOFOLLOW, flushed to disk), then renamed over the target. A reader, or a
  run killed half-way, sees the old file or the new one, never part of one.
* **Never through a symbolic link**: a symlink at a target path, or in place of a sub-folder
  such as `by-code/`, is refused, and files are reached relative to the opened folder with
  O_NOFOLLOW, so a link placed in the folder cannot redirect a write outside it. (The folder
  the user names may itself be a link: that is the user's own choice.)
* **Never over a file guidekb did not write**, unless `force`: each folder guidekb writes into
  gets a manifest, `.guidekb-outputs.json`, listing the files it wrote there with the SHA-256
  of each. An existing file that is not listed, or has changed since (someone edited it), is
  the user's and is refused. Folders, devices, pipes and sockets are refused even with force.
* **A set is fresh or marked incomplete**: while a set of files is written (`flowchart
  --all`), the folder holds a file named `INCOMPLETE` saying so and the manifest says
  `"complete": false`; both are cleared once every file is written, and files of the previous
  set that this one no longer has are removed (only if unchanged since guidekb wrote them).
* **Clear refusals**: a path that cannot be written (a folder, a parent that is a file, a
  device, no permission, a full disk) raises `OutputError`, which the command line prints as
  one message with exit status 2.

POSIX only: the safety rests on openat-style calls (`dir_fd`) and O_NOFOLLOW.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, NoReturn

from guidekb.engine.errors import GuidekbError

MANIFEST = ".guidekb-outputs.json"
INCOMPLETE = "INCOMPLETE"
INCOMPLETE_TEXT = (
    "guidekb did not finish writing the files of this folder (it was interrupted or failed):\n"
    "they may be a mix of old and new files. Run the same command again; it removes this file\n"
    "once every file is written.\n")
_MANIFEST_FORMAT = 1
_MANIFEST_LIMIT = 1 << 20  # bytes: a manifest lists file names and hashes, nothing bigger
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC
_FORCE_HINT = "use --force to replace it, or choose another path"


class OutputError(GuidekbError):
    """A file cannot be written safely where it was asked for; the message says why and what
    to do instead. Nothing was written over an existing file."""


class ForeignFile(OutputError):
    """The file exists and guidekb did not write it (or it changed since): it is the user's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(self.message(path))

    @staticmethod
    def message(path: Path) -> str:
        return (f"'{path}' exists and was not written by guidekb, or was changed since: not "
                f"overwritten ({_FORCE_HINT})")


def write_file(path: Path, data: bytes, *, force: bool = False) -> Path:
    """Write one file safely (see the module docstring); return its path."""
    if path.name in ("", ".", ".."):
        raise OutputError(f"'{path}' is a folder: give a file name, e.g. {path / 'chart.svg'}")
    with OutputFolder(path.parent, force=force) as folder:
        return folder.write(path.name, data)


@contextlib.contextmanager
def open_output(path: Path, *, force: bool = False) -> Iterator[BinaryIO]:
    """A binary file to stream one output into, with the promises of `write_file` (for
    output too big to hold in memory, e.g. a batch of answers)."""
    if path.name in ("", ".", ".."):
        raise OutputError(f"'{path}' is a folder: give a file name, e.g. {path / 'answers.ndjson'}")
    with OutputFolder(path.parent, force=force) as folder, folder.stream(path.name) as out:
        yield out


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OutputFolder:
    """A folder guidekb writes into, opened once; every file in it is reached relative to the
    opened folder, never through a symbolic link. Use as a context manager."""

    def __init__(self, path: Path, *, force: bool = False) -> None:
        self.path = path
        self.force = force
        self._fds: dict[str, int] = {}  # "" is the folder itself, then sub-folders by name
        self._files: dict[str, str] = {}  # manifest: name -> SHA-256 of what guidekb wrote
        self._set: list[str] = []  # the names of the last complete set written here
        self._planned: list[str] = []  # the names of the set being written
        self._complete = True

    # --- opening and closing ----------------------------------------------------------------

    def __enter__(self) -> OutputFolder:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OutputError(f"'{self.path}' is a file, not a folder: cannot write into it") from None
        except NotADirectoryError:
            raise OutputError(f"cannot create the folder '{self.path}': part of that path is a "
                              "file, not a folder") from None
        except OSError as exc:
            raise OutputError(f"cannot create the folder '{self.path}': {_reason(exc)}") from None
        try:
            self._fds[""] = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise OutputError(f"cannot open the folder '{self.path}': {_reason(exc)}") from None
        try:
            self._load_manifest()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    # --- checking ---------------------------------------------------------------------------

    def check(self, name: str) -> None:
        """Raise OutputError now if `name` (relative, `/`-separated) cannot be written: a
        symlink, a folder or a device in its place, or a file guidekb did not write."""
        located = self._locate(name, create=False)
        if located is not None:
            self._check_target(name, *located)

    def _check_target(self, name: str, fd: int, leaf: str) -> None:
        where = self.path / name
        try:
            info = os.stat(leaf, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise OutputError(f"cannot write '{where}': {_reason(exc)}") from None
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(f"'{where}' is a symbolic link: guidekb never writes through one "
                              "(it could point anywhere); remove the link or choose another path")
        if stat.S_ISDIR(info.st_mode):
            raise OutputError(f"'{where}' is a folder: give a file name, e.g. {where / 'chart.svg'}")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"'{where}' is not a regular file (a device, a pipe or a socket): "
                              "guidekb writes regular files only")
        if not self.force and not self._is_ours(name, fd, leaf):
            raise ForeignFile(where)

    def _is_ours(self, name: str, fd: int, leaf: str) -> bool:
        recorded = self._files.get(name)
        return recorded is not None and recorded == self._hash(fd, leaf)

    def _hash(self, fd: int, leaf: str) -> str:
        """The SHA-256 of a file in an opened folder, read in pieces (it may be large)."""
        digest = hashlib.sha256()
        handle = os.open(leaf, os.O_RDONLY | _NOFOLLOW, dir_fd=fd)
        try:
            while chunk := os.read(handle, 1 << 20):
                digest.update(chunk)
        finally:
            os.close(handle)
        return digest.hexdigest()

    # --- writing ----------------------------------------------------------------------------

    def write(self, name: str, data: bytes) -> Path:
        """Write `data` to `name` (relative, `/`-separated) atomically; return its path."""
        located = self._locate(name, create=True)
        assert located is not None  # created when missing
        fd, leaf = located
        self._check_target(name, fd, leaf)
        self._replace(fd, leaf, data, self.path / name)
        self._files[name] = _digest(data)
        self._save_manifest()
        return self.path / name

    def begin_set(self, names: Iterable[str]) -> None:
        """Start writing a set of files: every one is checked first (a refusal leaves the
        folder untouched), then the set is marked incomplete until `end_set`."""
        planned = list(names)
        foreign: list[str] = []
        refusals: list[str] = []
        for name in [INCOMPLETE, *planned]:
            try:
                self.check(name)
            except ForeignFile:
                foreign.append(name)
            except OutputError as refused:
                if str(refused) not in refusals:  # e.g. one sub-folder that is a link
                    refusals.append(str(refused))
        if len(foreign) > 1:
            refusals.append(f"{len(foreign)} files in '{self.path}' exist and were not written by "
                            f"guidekb, or were changed since: {', '.join(foreign)}; not overwritten "
                            "(use --force to replace them, or choose another folder)")
        elif foreign:
            refusals.append(ForeignFile.message(self.path / foreign[0]))
        if len(refusals) == 1:
            raise OutputError(refusals[0] + "; nothing was written")
        if refusals:
            raise OutputError(f"{len(refusals)} problems; nothing was written:\n"
                              + "\n".join(f"    {refusal}" for refusal in refusals))
        self._complete = False
        self._planned = planned
        self.write(INCOMPLETE, INCOMPLETE_TEXT.encode())

    def end_set(self) -> None:
        """Every file of the set is written: remove what the previous set had and this one
        has not (when unchanged since guidekb wrote it), and clear the incomplete mark."""
        for name in sorted(set(self._set) - set(self._planned)):
            self._remove_if_ours(name)
        self._remove_if_ours(INCOMPLETE)
        self._set = self._planned
        self._complete = True
        self._save_manifest()

    def _remove_if_ours(self, name: str) -> None:
        located = self._locate(name, create=False)
        if located is not None:
            fd, leaf = located
            try:
                info = os.stat(leaf, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and self._is_ours(name, fd, leaf):
                    os.unlink(leaf, dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise OutputError(f"cannot remove '{self.path / name}': {_reason(exc)}") from None
        self._files.pop(name, None)

    @contextlib.contextmanager
    def stream(self, name: str) -> Iterator[BinaryIO]:
        """A binary file to write `name` (relative, `/`-separated) through, for output too
        big to hold in memory, with the promises of `write`: it is renamed over `name` when
        the block ends normally; on an error or Ctrl-C it is removed and any previous file
        is unchanged."""
        located = self._locate(name, create=True)
        assert located is not None  # created when missing
        fd, leaf = located
        self._check_target(name, fd, leaf)
        where = self.path / name
        temp, handle = self._temporary(fd, leaf, where)
        try:
            with os.fdopen(handle, "wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            self._files[name] = self._hash(fd, temp)
            os.replace(temp, leaf, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException as exc:
            self._files.pop(name, None)
            self._discard(fd, temp, exc, where)
        self._save_manifest()

    def _replace(self, fd: int, leaf: str, data: bytes, where: Path) -> None:
        """Write a temporary file beside `leaf`, then rename it over `leaf`."""
        temp, handle = self._temporary(fd, leaf, where)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(handle, view):]
                os.fsync(handle)
            finally:
                os.close(handle)
            os.replace(temp, leaf, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException as exc:
            self._discard(fd, temp, exc, where)

    def _discard(self, fd: int, temp: str, exc: BaseException, where: Path) -> NoReturn:
        """Remove the temporary file after a failure, and raise it (an OSError in words)."""
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=fd)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write '{where}': {_reason(exc)}; "
                              "any previous file there is unchanged") from None
        raise exc

    def _temporary(self, fd: int, leaf: str, where: Path) -> tuple[str, int]:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
        for _ in range(100):
            temp = f".{leaf[:100]}.{secrets.token_hex(4)}.tmp"
            try:
                return temp, os.open(temp, flags, 0o666, dir_fd=fd)
            except FileExistsError:
                continue
            except OSError as exc:
                raise OutputError(f"cannot write '{where}': {_reason(exc)}") from None
        raise OutputError(f"cannot write '{where}': no free temporary file name beside it")

    # --- sub-folders --------------------------------------------------------------------------

    def _locate(self, name: str, *, create: bool) -> tuple[int, str] | None:
        """The opened folder holding `name` and its last part; None when a sub-folder does not
        exist and `create` is false. Sub-folders are opened without following links."""
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"not a relative file name: {name!r}")
        fd = self._fds[""]
        for k, part in enumerate(parts[:-1]):
            key = "/".join(parts[: k + 1])
            if key not in self._fds:
                opened = self._open_folder(fd, part, self.path / key, create)
                if opened is None:
                    return None
                self._fds[key] = opened
            fd = self._fds[key]
        return fd, parts[-1]

    def _open_folder(self, parent: int, part: str, where: Path, create: bool) -> int | None:
        flags = os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW
        try:
            return os.open(part, flags, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise OutputError(f"'{where}' is not a folder (a symbolic link or a file): guidekb "
                                  "never writes through a link; remove it or choose another "
                                  "folder") from None
            raise OutputError(f"cannot open the folder '{where}': {_reason(exc)}") from None
        try:
            os.mkdir(part, 0o777, dir_fd=parent)
            return os.open(part, flags, dir_fd=parent)
        except OSError as exc:
            raise OutputError(f"cannot create the folder '{where}': {_reason(exc)}") from None

    # --- the manifest -------------------------------------------------------------------------

    def _read(self, fd: int, leaf: str, limit: int) -> bytes:
        handle = os.open(leaf, os.O_RDONLY | _NOFOLLOW, dir_fd=fd)
        try:
            chunks: list[bytes] = []
            size = 0
            while chunk := os.read(handle, 1 << 20):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    break
            return b"".join(chunks)
        finally:
            os.close(handle)

    def _load_manifest(self) -> None:
        where = self.path / MANIFEST
        fd = self._fds[""]
        try:
            info = os.stat(MANIFEST, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise OutputError(f"cannot read '{where}': {_reason(exc)}") from None
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"'{where}' is not a regular file; guidekb keeps there the list of "
                              "files it wrote in this folder: remove it")
        try:
            manifest = _parse_manifest(self._read(fd, MANIFEST, _MANIFEST_LIMIT))
        except OSError as exc:
            raise OutputError(f"cannot read '{where}': {_reason(exc)}") from None
        if manifest is None:
            if self.force:
                return
            raise OutputError(f"'{where}' is not the list of files guidekb wrote in this folder: "
                              f"not overwritten; {_FORCE_HINT}")
        self._files, self._set, self._complete = manifest

    def _save_manifest(self) -> None:
        document = {
            "written_by": "guidekb",
            "format": _MANIFEST_FORMAT,
            "about": "The files guidekb wrote in this folder, with the SHA-256 of each: it replaces "
                     "them (unchanged) without --force, and nothing else. See docs/reliability.md.",
            "complete": self._complete,
            "set": self._set,
            "files": dict(sorted(self._files.items())),
        }
        data = (json.dumps(document, indent=2) + "\n").encode()
        self._replace(self._fds[""], MANIFEST, data, self.path / MANIFEST)


def _parse_manifest(data: bytes) -> tuple[dict[str, str], list[str], bool] | None:
    """The files, last set and completeness of a manifest, or None if it is not one."""
    try:
        document: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("written_by") != "guidekb" \
            or document.get("format") != _MANIFEST_FORMAT:
        return None
    files, names, complete = document.get("files"), document.get("set", []), document.get("complete")
    if not (isinstance(files, dict) and all(isinstance(k, str) and isinstance(v, str)
                                            for k, v in files.items())):
        return None
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        return None
    if not isinstance(complete, bool):
        return None
    return files, names, complete


def _reason(exc: OSError) -> str:
    """An OSError in words, without its errno number or a repeated file name."""
    reasons = {
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOSPC: "no space left on the device",
        errno.EROFS: "the file system is read-only",
        errno.EDQUOT: "disk quota exceeded",
        errno.ENOTDIR: "part of the path is a file, not a folder",
        errno.EISDIR: "it is a folder",
        errno.ENAMETOOLONG: "the name is too long",
        errno.ELOOP: "it is a symbolic link",
    }
    if exc.errno in reasons:
        return reasons[exc.errno]
    return exc.strerror or type(exc).__name__
