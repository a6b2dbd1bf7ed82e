"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import DEFAULT_KB, load_knowledge_base

KbOption = Annotated[
    Path, typer.Option("--kb", help="Knowledge-base folder.", show_default=True)
]
KbArgument = Annotated[
    Path, typer.Argument(help="Knowledge-base folder.", show_default=True)
]


def load(path: Path) -> KnowledgeBase:
    """Load a knowledge base; problems propagate to `main`, which prints them and exits 2."""
    return load_knowledge_base(path)


__all__ = ["DEFAULT_KB", "KbArgument", "KbOption", "load"]
