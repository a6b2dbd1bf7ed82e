"""`guidekb init DIR`: a new knowledge base that validates, tests and proves out of the box.

Writes the skeleton of guidekb.scaffold (manifest, one source text, facts, outcomes, one rules
file, one scenario, one invariant, one case, each commented to teach its format) and the JSON
Schemas its files name in their `yaml-language-server` headers: the skeleton's own (`guidekb
schema --kb DIR`), so an editor completes its fact names, values, codes and section headings;
written through guidekb.visualize.output_files, so `guidekb schema --kb DIR --out-dir
DIR/schema` refreshes them later without --force. Never overwrites anything: DIR must not
exist or be an empty folder, and every file is created exclusively (a file appearing meanwhile
stops the command instead of being replaced).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from guidekb.console import console, error, shown
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.schema import kb_schemas
from guidekb.exits import INVALID
from guidekb.scaffold import SCHEMA_DIR, files
from guidekb.visualize.output_files import OutputFolder


def init(
    folder: Annotated[Path, typer.Argument(
        help="The new knowledge base's folder: must not exist, or be empty.", show_default=False)],
) -> None:
    """Create a small, working knowledge base to start from (docs/authoring.md)."""
    if os.path.lexists(folder) and not (folder.is_dir() and not folder.is_symlink()):
        error(f"{shown(folder)} exists and is not a folder: guidekb init never overwrites; "
              "name a new folder")
        raise typer.Exit(INVALID)
    if folder.is_dir() and any(folder.iterdir()):
        error(f"{shown(folder)} is not empty: guidekb init never overwrites; name a new or "
              "empty folder")
        raise typer.Exit(INVALID)
    try:
        for relative_path, text in files(folder.resolve().name).items():
            _create(folder / relative_path, text)
        _write_schemas(folder)
    except OSError as exc:
        error(f"cannot write {shown(exc.filename or folder)}: {exc.strerror}; nothing was overwritten")
        raise typer.Exit(INVALID) from None
    console.print(f"created {shown(folder)}: a knowledge base that validates, tests and proves. Next:",
                  soft_wrap=True)
    for step in (f"guidekb validate --kb {folder}", f"guidekb test --kb {folder}",
                 f"guidekb check --prove --kb {folder}",
                 f"guidekb run --kb {folder} {folder / 'cases' / 'example.yaml'}"):
        console.print(f"  {shown(step)}", soft_wrap=True)
    console.print("then replace the example source text and the files written from it "
                  "(docs/authoring.md).", soft_wrap=True)


def _write_schemas(folder: Path) -> None:
    """The skeleton's own schemas (its names as enums) into DIR/schema, as a set guidekb owns."""
    schemas = kb_schemas(load_knowledge_base(folder))
    with OutputFolder(folder / SCHEMA_DIR) as out:
        names = {f"{kind}.schema.json": schema for kind, schema in schemas.items()}
        out.begin_set(names)
        for name, schema in names.items():
            out.write(name, (json.dumps(schema, indent=2) + "\n").encode())
        out.end_set()


def _create(path: Path, text: str) -> None:
    """Create `path` with `text`; fails if anything is already there (never follows a link)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o644)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as out:
        out.write(text)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
