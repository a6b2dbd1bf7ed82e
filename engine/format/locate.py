"""Which knowledge base a command means, when the author may not have named one.

The order: a path given explicitly wins; otherwise the nearest folder holding a
`manifest.yaml`, searching up from the working directory (an author working inside their own
knowledge base, perhaps in its `rules/` or `cases/` folder); otherwise the HSV knowledge base
shipped inside the package, so `pip install guidekb` users can run `guidekb run case.yaml` from
any directory. The answer says how it was chosen, so an error can name the knowledge base it
is about and why that one was used.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

# Installed, this file is guidekb/engine/format/locate.py and the default knowledge base is
# package data in guidekb/knowledge/; in the repository both paths lead to knowledge/.
PACKAGED_KB = Path(__file__).parents[2] / "knowledge" / "hsv-resistance"

MANIFEST = "manifest.yaml"
GIVEN = "given explicitly"
SEARCHED = "found by searching up from the working directory"
PACKAGED = "the default knowledge base shipped with guidekb"


class FoundKnowledgeBase(NamedTuple):
    """A knowledge-base folder and how it was chosen (one of GIVEN, SEARCHED, PACKAGED)."""

    path: Path
    how: str

    def describe(self) -> str:
        """`knowledge base /path (how it was chosen)`, for the last line of an error."""
        return f"knowledge base {self.path} ({self.how})"


def find_knowledge_base(explicit: Path | None, cwd: Path) -> FoundKnowledgeBase:
    """The knowledge base to use: `explicit` if given, else the nearest folder at or above
    `cwd` holding a manifest.yaml, else the packaged default. Never fails: a folder that is
    not a knowledge base is reported by the loader, named with how it was chosen."""
    if explicit is not None:
        return FoundKnowledgeBase(explicit, GIVEN)
    start = cwd.absolute()
    for folder in (start, *start.parents):
        if (folder / MANIFEST).is_file():
            return FoundKnowledgeBase(folder, SEARCHED)
    return FoundKnowledgeBase(PACKAGED_KB.resolve(), PACKAGED)


def inside_installed_package(path: Path) -> bool:
    """Whether `path` lies inside an installed Python distribution (site-packages): there, a
    knowledge base is package data, shared by every user of that Python and replaced by the
    next upgrade, so nothing guidekb does may write into it. (A repository checkout's own
    knowledge/ folder, even when installed editable, is the author's working tree.)"""
    return any(part in {"site-packages", "dist-packages"} for part in path.absolute().parts)


__all__ = ["GIVEN", "PACKAGED", "PACKAGED_KB", "SEARCHED", "FoundKnowledgeBase", "find_knowledge_base",
           "inside_installed_package"]
