"""Options shared by several commands.

`--kb` (or the KB argument) left out does not mean "knowledge/hsv-resistance relative to the
working directory": the knowledge base is found by `find_knowledge_base` (the folder around the
working directory holding a manifest.yaml, else the packaged default), and errors in a knowledge
base the author did not name say which one it is and how it was chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from guidekb.engine.errors import KnowledgeBaseError, Problem
from guidekb.engine.format.kbcache import load_cached
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import DEFAULT_KB
from guidekb.engine.format.locate import GIVEN, FoundKnowledgeBase, find_knowledge_base

_HELP = "Knowledge-base folder."
_DEFAULT_SHOWN = ("the nearest folder with manifest.yaml at or above the working directory, "
                  "else the packaged HSV knowledge base")


def _locate(ctx: typer.Context, param: typer.CallbackParam, value: Path) -> Path:
    """Resolve the KB option: a value the user typed (or set in the environment) wins; left at
    its default, the knowledge base is found by `find_knowledge_base`."""
    source = ctx.get_parameter_source(param.name) if param.name else None
    explicit = source is not None and source.name != "DEFAULT"
    return find_knowledge_base(value if explicit else None, Path.cwd()).path


KbOption = Annotated[
    Path, typer.Option("--kb", help=_HELP, show_default=_DEFAULT_SHOWN, callback=_locate)
]
KbArgument = Annotated[
    Path, typer.Argument(help=_HELP, show_default=_DEFAULT_SHOWN, callback=_locate)
]
# The knowledge base given positionally (`guidekb validate KB`), as before `--kb` was the one
# way in every command: still accepted, hidden from --help, with a note on stderr.
KbPositional = Annotated[
    Path | None, typer.Argument(hidden=True, show_default=False, help="Deprecated: use --kb.")
]


def chosen_kb(kb: Path, positional: Path | None) -> Path:
    """The knowledge base of a command taking `--kb` and the deprecated positional form."""
    if positional is None:
        return kb
    from guidekb.console import err_console

    err_console.print("guidekb: note: the knowledge base as an argument is deprecated; "
                      "use --kb PATH", soft_wrap=True, markup=False)
    return positional


def load(path: Path, *, use_cache: bool = True) -> KnowledgeBase:
    """Load a knowledge base; problems propagate to `main`, which prints them and exits 2. A
    knowledge base the author did not name is named in the error, with how it was found (the
    command's KB option has already resolved `path`; here it is only recognised, statelessly).

    Every command loads through here, so every command uses the cache of verified knowledge
    bases (guidekb.engine.format.kbcache: keyed by the content of every file the loader reads;
    off with GUIDEKB_NO_CACHE=1): a knowledge base loaded before unchanged skips the YAML and
    the quote verification, one with problems is loaded, and reported, every time."""
    found = how_found(path)
    try:
        return load_cached(found.path, use_cache=use_cache)
    except KnowledgeBaseError as exc:
        raise problems_error(exc.problems, found) from None


def how_found(path: Path) -> FoundKnowledgeBase:
    """`path` (already resolved by the KB option) with how it was chosen, recognised statelessly."""
    discovered = find_knowledge_base(None, Path.cwd())
    return discovered if discovered.path == path else FoundKnowledgeBase(path, GIVEN)


def problems_error(problems: Iterable[Problem], found: FoundKnowledgeBase) -> KnowledgeBaseError:
    """The error for a knowledge base's problems, naming it when the author did not."""
    if found.how == GIVEN:
        return KnowledgeBaseError(problems)
    return KnowledgeBaseError(problems, what=found.describe())


__all__ = ["DEFAULT_KB", "KbArgument", "KbOption", "KbPositional", "chosen_kb", "how_found", "load",
           "problems_error"]
