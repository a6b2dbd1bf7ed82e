"""Reading a text file that anyone may have written: a regular file, of bounded size, in strict
UTF-8, without control characters -- or a refusal that says which rule it broke and where.

Every file guidekb reads (a case, a knowledge-base YAML file, a source text) comes through
here, so that `/dev/urandom`, a FIFO or a directory is refused at once instead of hanging, a
50 MB file is refused before it is read, a stray byte is located instead of ending in a
traceback, and no ESC, NUL or DEL reaches a message, a terminal or the rule engine.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from guidekb.engine.errors import CONTROL_CHARACTER, INPUT_LIMIT, UNREADABLE_FILE, ErrorCode

MiB = 1024 * 1024

# Raw characters refused anywhere in a file: C0 controls except tab, line feed and carriage
# return; DEL; the C1 controls (U+0080..U+009F, NEL included); lone surrogates; and the two
# non-characters U+FFFE and U+FFFF, which YAML also forbids.
FORBIDDEN_IN_FILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# In a value (where YAML escapes such as "\e" or "\x1b" can put them) a carriage return is
# refused too: it would overwrite a line on a terminal. Tab and line feed stay: text has them.
FORBIDDEN_IN_VALUE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

_CONTROL_NAMES = {
    0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x0B: "VT", 0x0C: "FF", 0x0D: "CR", 0x1B: "ESC",
    0x7F: "DEL", 0x85: "NEL", 0x9B: "CSI", 0xFFFE: "non-character", 0xFFFF: "non-character",
}
# Line breaks as PyYAML counts them, so positions agree with the YAML parser's.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@dataclass(eq=False)
class TextRefused(Exception):
    """A file guidekb will not read, and why; the caller turns it into a located problem."""

    message: str
    hint: str
    code: ErrorCode
    line: int = 1
    column: int = 1
    missing: bool = False  # the file does not exist (callers may word that their own way)
    located: bool = False  # line and column point into the file's text


def describe_character(char: str) -> str:
    """`U+001B (ESC)`: a control character named so that the message itself stays inert."""
    point = ord(char)
    name = _CONTROL_NAMES.get(point)
    if name is None and 0xD800 <= point <= 0xDFFF:
        name = "lone surrogate"
    return f"U+{point:04X}" + (f" ({name})" if name else "")


def text_position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of `text[index]`, counting line breaks as YAML does."""
    line, start = 1, 0
    for brk in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, brk.end()
    return line, index - start + 1


def read_bounded(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of `path` if it is a regular file of at most `max_bytes`, else TextRefused.

    The type and size are checked with stat before opening, and again on the open descriptor
    (the file may be swapped in between); the file is opened non-blocking, so even a FIFO that
    slipped through cannot block, and at most `max_bytes + 1` bytes are ever read.
    """
    try:
        info = os.stat(path)
        _check_kind_and_size(info, max_bytes, what)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise _unreadable(exc) from None
    try:
        _check_kind_and_size(os.fstat(fd), max_bytes, what)
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise _unreadable(exc) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:  # the file grew after stat
        raise _too_large(len(data), max_bytes, what)
    return data


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8 (a leading byte-order mark is allowed), located at the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8")
        line, column = text_position(prefix, len(prefix))
        hint = "save the file as UTF-8"
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            hint = "the file looks like UTF-16; save it as UTF-8"
        raise TextRefused(f"invalid UTF-8: byte 0x{data[exc.start]:02x} cannot start or continue a "
                          "character here", hint, UNREADABLE_FILE, line, column, located=True) from None


def check_characters(text: str) -> str:
    """`text` unchanged, or TextRefused at the first control character it holds."""
    found = FORBIDDEN_IN_FILE.search(text)
    if found is None:
        return text
    line, column = text_position(text, found.start())
    count = len(FORBIDDEN_IN_FILE.findall(text))
    more = f" ({count - 1} more after it)" if count > 1 else ""
    raise TextRefused(f"control character {describe_character(found.group())} is not allowed{more}",
                      "only tab, line feed and carriage return may appear in a file; "
                      "remove the character (it may come from a copy and paste or a binary file)",
                      CONTROL_CHARACTER, line, column, located=True)


def read_text(path: Path, max_bytes: int, what: str) -> str:
    """The text of a regular file within `max_bytes`, in UTF-8, without control characters."""
    return check_characters(decode_utf8(read_bounded(path, max_bytes, what)))


def _check_kind_and_size(info: os.stat_result, max_bytes: int, what: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise TextRefused("this is a folder, not a file", f"name the {what} itself", UNREADABLE_FILE)
    if not stat.S_ISREG(info.st_mode):
        raise TextRefused("not a regular file (a device, FIFO or socket): refused, it could "
                          "block or never end", f"give the path of a {what} saved on disk",
                          UNREADABLE_FILE)
    if info.st_size > max_bytes:
        raise _too_large(info.st_size, max_bytes, what)


def _too_large(size: int, max_bytes: int, what: str) -> TextRefused:
    return TextRefused(f"file too large: {size:,} bytes; the limit for a {what} is "
                       f"{_size(max_bytes)}", "split it into smaller files, or check that it is "
                       "the file you meant", INPUT_LIMIT)


def _size(count: int) -> str:
    return f"{count // MiB} MiB" if count % MiB == 0 else f"{count:,} bytes"


def _unreadable(exc: OSError | ValueError) -> TextRefused:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    hint = ""
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        hint = "a file name is limited to 255 bytes and a path to 4096 on most systems"
    missing = isinstance(exc, OSError) and exc.errno in (errno.ENOENT, errno.ENOTDIR)
    return TextRefused(f"cannot read file: {reason[:1].lower()}{reason[1:]}", hint, UNREADABLE_FILE,
                       missing=missing)
