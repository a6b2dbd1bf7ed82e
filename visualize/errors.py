"""Errors of the flowchart commands, in guidekb's one exception hierarchy."""

from __future__ import annotations

from guidekb.engine.errors import GuidekbError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.suggest import did_you_mean

INSTALL_GRAPHVIZ = ("install graphviz, which provides it: `sudo apt-get install graphviz` "
                    "(Debian/Ubuntu), `brew install graphviz` (macOS) or see https://graphviz.org/download/")


class VisualizeError(GuidekbError):
    """A flowchart cannot be drawn as asked; the message says what to do instead."""


class GraphvizMissing(VisualizeError):
    """The graphviz `dot` program, needed for SVG, PNG, PDF and HTML, is not on PATH."""

    def __init__(self, fmt: str) -> None:
        super().__init__(
            f"the {fmt.upper()} format needs the graphviz `dot` program, which is not on PATH.\n"
            f"    {INSTALL_GRAPHVIZ}.\n"
            "    Without it, --format dot and --format mermaid still work.")


class UnknownCode(VisualizeError):
    def __init__(self, code: str, kb: KnowledgeBase) -> None:
        super().__init__(f"unknown code '{code}' in {kb.id}: {did_you_mean(code, kb.outcomes, 'codes')}")
