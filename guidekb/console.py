"""The two consoles every command prints to (answers on stdout, problems on stderr), and the
one way data reaches them.

Data -- anything from a knowledge base, a case file, a file name or a command-line argument --
is printed through `shown` (inside Rich markup) or `plain` (without markup): its control, bidi
and zero-width characters appear as escapes (`\\x1b`, `\\u202e`, see
guidekb.engine.format.inert) and its brackets are never Rich markup. Emoji codes are off: in
`c.yaml:100:16:` the `:100:` is a location, not an emoji.

Nothing is hard-wrapped unless a person is reading a terminal: piped into a file, an editor or
a CI log, `file:line:col: message` and quoted passages stay on one line whatever the width.
Problems on stderr are never wrapped at all.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from guidekb.engine.format.inert import inert, inert_lines
from guidekb.exits import error_text, reader_left

# Piped, lines are as long as their content: "no width" for Rich, which needs a number.
PIPED_WIDTH = 1_000_000


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich exits 1 when the reader of its output goes away: for guidekb, 1 means "a
        check failed". Exit as every other command does then (guidekb.exits.BROKEN_PIPE)."""
        self.quiet = True
        raise SystemExit(reader_left())


def _console(stderr: bool) -> Console:
    console = _Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=stderr)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


console = _console(stderr=False)
err_console = _console(stderr=True)


def counted(number: int, noun: str) -> str:
    """`1 rule`, `2 rules`: a new author's first knowledge base has one of most things."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def shown(value: object) -> str:
    """`value` as text to put inside a Rich markup string: inert, and never markup."""
    return escape(inert(str(value)))


def shown_lines(text: str) -> str:
    """Like `shown`, for text guidekb laid out on several lines itself (a finding and its
    indented hint): its own line breaks are kept, everything else is made inert."""
    return escape(inert_lines(text))


def plain(text: str) -> str:
    """Text guidekb laid out itself around data (a rendered problem and its hint lines), for
    printing with `markup=False`: its own line breaks kept, everything else made inert."""
    return inert_lines(text)


def error(message: str) -> None:
    """One `error: ...` line (hint lines indented below it) on stderr, as guidekb.exits
    prints errors. `message` is plain text, made inert here, never read as markup; data with
    line breaks of its own belongs inside it as `inert(data)`, on one line."""
    err_console.print(error_text(message), markup=False)
