"""Text from a knowledge base, a case file or a command line, made inert for display.

Anyone can write a rule title, an enum value, a case key or a file name, and a terminal obeys
what it is sent: `ESC[2J` clears the screen, `ESC]0;...BEL` retitles the window, a newline
starts a line that looks like guidekb's own output, a right-to-left override (U+202E) makes
`famciclovir` read backwards, a zero-width space makes two different codes look the same.
Such text is shown, never obeyed: every character that is a control, a format character
(bidi marks, zero-width characters, byte-order marks, tag characters), a line or paragraph
separator, an invisible filler or a lone surrogate (an undecodable byte of a file name) is
written as the escape a programmer would type for it: `\\x1b`, `\\n`, `\\u202e`.

`inert` is the one function every layer uses: the command line for the terminal, the
flowchart exports before their own format's escaping (guidekb.visualize.escaping), and
`json_inert` for JSON, which must keep the exact value and so uses JSON's own escapes.
"""

from __future__ import annotations

import re
import unicodedata

# Control (Cc), format (Cf: bidi, zero-width, BOM, tags), surrogate (Cs), line and paragraph
# separators (Zl, Zp): none of them is text a reader should receive raw.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Letters and marks that display as nothing at all (Unicode default-ignorable code points),
# used to make two identifiers look alike. Variation selectors are left alone: an emoji's
# presentation depends on them and they cannot hide a character.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Outside strings JSON has only ASCII and these (json.dumps escapes them inside strings).
_JSON_WHITESPACE = frozenset("\n\r\t")
# Printable ASCII is always safe; only the rest is looked up (fast for the common case).
_CANDIDATE = re.compile(r"[^\x20-\x7e]")


def is_unsafe(char: str) -> bool:
    """Whether one character must not reach a terminal or a document raw."""
    return char in _INVISIBLE or unicodedata.category(char) in _UNSAFE_CATEGORIES


def escape_char(char: str) -> str:
    """The escape a programmer would type for `char`: `\\n`, `\\x1b`, `\\u202e`, `\\U000e0041`."""
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _inert_match(match: re.Match[str]) -> str:
    char = match.group()
    return escape_char(char) if is_unsafe(char) else char


def inert(text: str) -> str:
    """`text` with every unsafe character shown as its escape, on one line: a newline in a
    title becomes `\\n`, so it can never forge a line of output."""
    return _CANDIDATE.sub(_inert_match, text)


def inert_lines(text: str) -> str:
    """Like `inert`, but keeping the line breaks of text whose lines guidekb laid out itself
    (a problem and its indented hint); everything else in each line is escaped."""
    return "\n".join(inert(line) for line in text.split("\n"))


def _json_match(match: re.Match[str]) -> str:
    char = match.group()
    if char in _JSON_WHITESPACE or not is_unsafe(char):
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells characters beyond the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_inert(json_text: str) -> str:
    """A JSON document with every unsafe character written as a JSON `\\uXXXX` escape.

    The value is unchanged for any JSON reader (outside strings there is only ASCII and the
    line breaks and tabs of indentation, which are kept; inside strings json.dumps has already
    escaped those), but a terminal or an editor showing the document sees no
    bidi override, zero-width character, C1 control or lone surrogate. `json.dumps` already
    escapes C0 controls; with `ensure_ascii=False` it leaves the rest raw.
    """
    return _CANDIDATE.sub(_json_match, json_text)
