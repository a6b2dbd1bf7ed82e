"""What a YAML scalar means in guidekb: the YAML 1.2 core schema, narrowed for a clinical tool.

PyYAML reads YAML 1.1, where `days_on_therapy: 010` is 8 (octal), `0x0E` is 14, `1:30` is 90
(base 60), `1_0` is 10 and `yes`, `on`, `y` are true: a typing habit silently changes a
clinical value. YAML 1.2 fixed some of this but still reads `0x0E` and `0o17` as numbers, and
editors and other tools disagree on the rest. So a plain (unquoted) scalar here is exactly one
of:

- null: `null`, `Null`, `NULL`, `~` or nothing;
- a boolean: `true`, `True`, `TRUE`, `false`, `False`, `FALSE` (never `yes`, `no`, `on`, `off`);
- a whole number in plain decimal digits: `14`, `-3`, `+5`, `0`, up to 2**53 - 1;
- text: everything else (`yes`, `on`, `2026-02-08`, `0.1.0`);

except that anything a YAML 1.1 or 1.2 reader could take for a number other than a plain
decimal whole number (a leading zero, hexadecimal, octal, binary, base 60, digit underscores,
a decimal point, an exponent, `.inf`, `.nan`) is refused, with a hint saying how to write it:
for a clinical value an ambiguous number is an error, never a guess. Quoted scalars are
always text, and so is a scalar with the non-specific tag `!`.
"""

from __future__ import annotations

import re
from typing import Any

from guidekb.engine.errors import AMBIGUOUS_NUMBER, INPUT_LIMIT, UNSUPPORTED_YAML, ErrorCode

STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"
# Tags given to plain scalars by `resolve_plain`; a file cannot write them (its own explicit
# tags other than !!str are refused by the builder).
NULL_TAG = "tag:guidekb,2026:null"
TRUE_TAG = "tag:guidekb,2026:true"
FALSE_TAG = "tag:guidekb,2026:false"
INT_TAG = "tag:guidekb,2026:int"
AMBIGUOUS_TAG = "tag:guidekb,2026:ambiguous-number"
MERGE_TAG = "tag:guidekb,2026:merge"  # a plain `<<` (YAML 1.1 merge key): refused as a key

# The largest whole number read: beyond it JSON readers (and the rule engine) lose exactness.
MAX_INTEGER = 2**53 - 1

_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")
# Everything YAML 1.1 (as PyYAML reads it) or the YAML 1.2 core schema takes for a number,
# by kind, each with what a reader would make of it.
_NUMBER_KINDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), hint) for pattern, hint in (
        (r"[-+]?0[xX][0-9a-fA-F_]+", "hexadecimal: YAML reads 0x0E as 14"),
        (r"[-+]?0[oO][0-7_]+", "octal: YAML 1.2 reads 0o17 as 15"),
        (r"[-+]?0[bB][01_]+", "binary: YAML 1.1 reads 0b101 as 5"),
        (r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?", "base 60: YAML 1.1 reads 1:30 as 90"),
        (r"[-+]?[0-9][0-9_]*", "digit separators: YAML 1.1 reads 1_0 as 10, YAML 1.2 as text"),
        (r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*|[0-9]+)(?:[eE][-+]?[0-9]+)?"
         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
         "not a whole number (guidekb has no fractions)"),
    )
)

_NUMBER_START = frozenset("0123456789+-.")  # every pattern above starts with one of these
Refusal = tuple[str, str, ErrorCode]  # message, hint, code
_SHOWN = 40  # characters of a refused value repeated in its message


# The plain scalars that are words, not text: nulls, booleans and the YAML 1.1 merge key.
_WORDS = {
    "": NULL_TAG, "~": NULL_TAG, "null": NULL_TAG, "Null": NULL_TAG, "NULL": NULL_TAG,
    "true": TRUE_TAG, "True": TRUE_TAG, "TRUE": TRUE_TAG,
    "false": FALSE_TAG, "False": FALSE_TAG, "FALSE": FALSE_TAG, "<<": MERGE_TAG,
}
# The first characters of those words and of every number pattern: a plain scalar starting
# with any other character is text, decided without a lookup or a regular expression (most
# scalars of a knowledge base: every id, title and quote is resolved on every load).
_NOT_TEXT_START = frozenset({word[0] for word in _WORDS if word} | _NUMBER_START)


def resolve_plain(text: str) -> str:
    """The tag of a plain (unquoted) scalar: null, true, false, int, text -- or ambiguous."""
    if text and text[0] not in _NOT_TEXT_START:
        return STR_TAG
    word = _WORDS.get(text)
    if word is not None:
        return word
    if _DECIMAL.fullmatch(text):
        return INT_TAG
    if text[0] not in _NUMBER_START:  # most text: no number pattern can match
        return STR_TAG
    if _LEADING_ZERO.fullmatch(text) or any(p.fullmatch(text) for p, _ in _NUMBER_KINDS):
        return AMBIGUOUS_TAG
    return STR_TAG


def construct(tag: str, text: str) -> tuple[Any, Refusal | None]:
    """The Python value of a scalar with a resolved tag, or why it is refused.

    Text (`STR_TAG`, `MERGE_TAG` as a value) is returned unchecked: the caller checks it for
    control characters. Any other tag is one the file wrote itself (`!!int`, `!!binary`,
    `!!python/object`): refused, so that no tag can change how a value is read.
    """
    if tag in (STR_TAG, MERGE_TAG):
        return text, None
    if tag == NULL_TAG:
        return None, None
    if tag in (TRUE_TAG, FALSE_TAG):
        return tag == TRUE_TAG, None
    if tag == INT_TAG:
        # bounded before int(): Python refuses to convert more than 4300 digits
        if len(text.lstrip("+-")) > 16 or abs(int(text)) > MAX_INTEGER:
            return None, (f"number '{shown(text)}' is too large: guidekb reads whole numbers up to "
                          f"{MAX_INTEGER:,}", "no clinical value needs more; check the number",
                          INPUT_LIMIT)
        return int(text), None
    if tag == AMBIGUOUS_TAG:
        return None, (*ambiguous_number(text), AMBIGUOUS_NUMBER)
    return None, unsupported_tag(tag)


def unsupported_tag(tag: str) -> Refusal:
    return (f"unsupported YAML value: tag {tag}",
            "only plain YAML scalars, lists and mappings are allowed", UNSUPPORTED_YAML)


def ambiguous_number(text: str) -> tuple[str, str]:
    """(message, hint) for a plain scalar that looks like a number but is no plain integer."""
    written = shown(text)
    quote = f"quote it ('{written}') if it is text"
    if _LEADING_ZERO.fullmatch(text):
        digits = text.lstrip("+-")
        plain = shown(text[: len(text) - len(digits)] + (digits.lstrip("0") or "0"))
        octal = set(digits) <= set("01234567") and len(digits) <= _SHOWN
        yaml11 = (f"YAML 1.1 reads {written} as {int(text, 8)} (octal)" if octal
                  else f"YAML 1.1 reads {written} as text")
        return (f"number '{written}' has a leading zero: write {plain}",
                f"{yaml11} and YAML 1.2 as {plain}; guidekb refuses to guess: write {plain}, "
                f"or {quote}")
    kind = next(hint for pattern, hint in _NUMBER_KINDS if pattern.fullmatch(text))
    return (f"number '{written}' is not a plain decimal whole number",
            f"{kind}; write a whole number in decimal digits (like 14), or {quote}")


def shown(text: str) -> str:
    """`text` cut to a length a message can repeat (a refused value may be 20,000 characters)."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
