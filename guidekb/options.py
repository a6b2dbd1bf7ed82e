"""Options shared by several commands.

`--kb` (or the KB argument) left out does not mean "knowledge/hsv-resistance relative to the
working directory": the knowledge base is found by `find_knowledge_base` (the folder around the
working directory holding a manifest.yaml, else the packaged default), and errors in a knowledge
base the author did not name say which one it is and how it was chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guidekb.engine.errors import KnowledgeBaseError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import DEFAULT_KB, load_knowledge_base
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


def load(path: Path) -> KnowledgeBase:
    """Load a knowledge base; problems propagate to `main`, which prints them and exits 2. A
    knowledge base the author did not name is named in the error, with how it was found (the
    command's KB option has already resolved `path`; here it is only recognised, statelessly)."""
    discovered = find_knowledge_base(None, Path.cwd())
    found = discovered if discovered.path == path else FoundKnowledgeBase(path, GIVEN)
    try:
        return load_knowledge_base(found.path)
    except KnowledgeBaseError as exc:
        if found.how == GIVEN:
            raise
        raise KnowledgeBaseError(exc.problems, what=found.describe()) from None


__all__ = ["DEFAULT_KB", "KbArgument", "KbOption", "load"]
