"""Escaping knowledge-base text for each output format, so that it is always plain text.

Rule titles, outcome texts, fact questions and source quotes are written by authors and must
never become markup: a title holding `<script>`, quotes, braces, backslashes or a newline is
shown as written in DOT, SVG, HTML and Mermaid. Every renderer passes all KB text through one
of these functions and nothing else. Line breaks inside KB text become spaces: layout breaks
are added by the renderers only, after escaping. Control, bidi and zero-width characters are
shown as escapes (`\\x1b`, `\\u202e`) by the same function the terminal uses
(guidekb.engine.format.inert): an entity would still be obeyed by the browser or the viewer,
and XML forbids most controls even as entities.
"""

from __future__ import annotations

import html
import re
import textwrap

import graphviz

from guidekb.engine.format.inert import inert

_SPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Collapse newlines, tabs and runs of spaces; show any other control or invisible
    character as its escape."""
    return inert(_SPACE.sub(" ", text).strip())


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most about `width` characters (long words are not broken)."""
    return textwrap.wrap(one_line(text), width, break_long_words=False, break_on_hyphens=False) or [""]


def dot_text(text: str, width: int | None = None) -> str:
    """A plain (non-HTML) DOT string: backslash sequences and `<...>` disabled, lines
    joined with DOT's centred line break."""
    lines = wrap(text, width) if width else [one_line(text)]
    joined = "\\n".join(str(graphviz.escape(line)) for line in lines)
    result: str = graphviz.nohtml(joined)
    return result


# Graphviz 2.43 expands `\N`, `\G`, ... in tooltips even when the backslash is escaped, so
# a backslash in a tooltip is shown as a look-alike that has no special meaning.
_TOOLTIP_BACKSLASH = "\uff3c"  # FULLWIDTH REVERSE SOLIDUS


def dot_tooltip(text: str) -> str:
    """A plain DOT string for a tooltip (one line, backslashes made inert)."""
    return dot_text(text.replace("\\", _TOOLTIP_BACKSLASH))


def dot_html(text: str, width: int | None = None, align: str = "LEFT") -> str:
    """Text for inside a DOT HTML-like label: entities escaped, and backslashes doubled,
    since graphviz expands `\\N` (the node's name) even there; lines joined by <BR/>."""
    lines = wrap(text, width) if width else [one_line(text)]
    return f'<BR ALIGN="{align}"/>'.join(html.escape(line, quote=True).replace("\\", "\\\\")
                                         for line in lines)


def dot_html_attr(text: str) -> str:
    """Text for an attribute value inside a DOT HTML-like label (e.g. TOOLTIP)."""
    return html.escape(one_line(text.replace("\\", _TOOLTIP_BACKSLASH)), quote=True)


def html_text(text: str) -> str:
    """Text for an HTML page, element content or quoted attribute value."""
    return html.escape(one_line(text), quote=True)


# Mermaid reads `#name;` / `#123;` entity codes inside quoted labels. Everything but letters,
# digits, spaces and harmless punctuation is written as a numeric entity: no markup, no
# quote, bracket, brace, pipe, backtick or semicolon can reach Mermaid's parser.
_MERMAID_SAFE = re.compile(r"[\w .,:/()+?!%≥≤–-]", re.UNICODE)


def mermaid_text(text: str) -> str:
    """Text for inside a double-quoted Mermaid label."""
    return "".join(ch if _MERMAID_SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in one_line(text))


def mermaid_lines(text: str, width: int) -> str:
    """Wrapped Mermaid label text, lines joined with <br/> (added after escaping)."""
    return "<br/>".join(mermaid_text(line) for line in wrap(text, width))
