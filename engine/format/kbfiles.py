"""Which files of a knowledge-base folder are read: no file an author saved there is skipped.

`rules/`, `scenarios/` and `cases/` may hold subfolders (an author grouping rules by topic)
and files ending in `.yaml` or `.yml` alike. A file there that guidekb would not read (a
`.txt`, a rules file saved as `.json`), or a linked folder it will not follow, is reported as
a problem rather than skipped: an author who saved `rules/antibiotics.yml` or
`rules/drafts/new.yaml` expects it to count, and `validate` saying `ok` while ignoring it
would be a silent failure. Hidden entries (a name starting with a dot: editor swap files,
`.git`) are the one documented exception.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from guidekb.engine.errors import NOT_READ, Problem, relative

YAML_SUFFIXES = (".yaml", ".yml")
CASE_SUFFIXES = (".yaml", ".yml", ".json")  # a case file may be JSON too (format/cases.py)


@dataclass(frozen=True)
class Listing:
    """The files of a folder that are read, sorted by path, and a problem for each entry that
    is there but would not be read."""

    files: tuple[Path, ...]
    problems: tuple[Problem, ...]


def list_files(folder: Path, suffixes: tuple[str, ...], what: str) -> Listing:
    """Every file under `folder` (subfolders included) ending in one of `suffixes`, sorted by
    path; anything else there that is not hidden is a problem naming it. A missing folder is
    an empty listing: whether that is a problem is the caller's business."""
    if not os.path.isdir(folder):  # never raises (a name too long is simply not a folder)
        return Listing((), ())
    files: list[Path] = []
    problems: list[Problem] = []
    for here, subfolders, names in os.walk(folder, onerror=lambda exc: problems.append(
            _problem(Path(exc.filename or folder), f"cannot list this folder: {exc.strerror}",
                     "check its permissions"))):
        base = Path(here)
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in list(subfolders):
            if (base / name).is_symlink():  # os.walk does not follow it: say so, never skip
                subfolders.remove(name)
                problems.append(_problem(base / name, f"linked folder not read ({what} files "
                                         "are read from real subfolders only)",
                                         "move the files into a real subfolder"))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = base / name
            if name.lower().endswith(suffixes):
                files.append(path)
            else:
                problems.append(_problem(path, f"not read: {what} files end in "
                                         f"{' or '.join(suffixes)}",
                                         f"rename it to end in {suffixes[0]}, or move it out "
                                         f"of {relative(folder)}/"))
    return Listing(tuple(sorted(files)), tuple(problems))


def file_name(path: Path, folder: Path) -> str:
    """The name of a file within its folder, without the suffix: `hiv/first-line` for
    `scenarios/hiv/first-line.yml` (the file stem when it lies outside `folder`)."""
    try:
        inner = path.relative_to(folder)
    except ValueError:
        return path.stem
    return inner.with_suffix("").as_posix()


def _problem(path: Path, message: str, hint: str) -> Problem:
    # The parent made relative, not the path: a linked folder is named as the author sees it.
    return Problem(str(Path(relative(path.parent)) / path.name), 1, 1, message, hint, code=NOT_READ)


__all__ = ["CASE_SUFFIXES", "YAML_SUFFIXES", "Listing", "file_name", "list_files"]
