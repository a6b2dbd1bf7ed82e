"""`guidekb schema`: the JSON Schema of the knowledge-base format, for editors.

`--out-dir` writes every schema as a set (guidekb.visualize.output_files): atomically, never
through a symbolic link, and over an existing file only if guidekb wrote it, or with --force.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from guidekb.console import console, error, shown
from guidekb.engine.schema import FILE_KINDS, schema_for
from guidekb.visualize.output_files import OutputFolder


def schema(
    kind: Annotated[str, typer.Argument(help=f"Which file: {', '.join(FILE_KINDS)}.")] = "rules",
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Write every schema into this folder.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite existing files that guidekb did not write.")] = False,
) -> None:
    """Print the JSON Schema of one knowledge-base file kind (or write them all)."""
    if out_dir is not None:
        files = {f"{name}.schema.json": json.dumps(schema_for(name), indent=2) + "\n" for name in FILE_KINDS}
        with OutputFolder(out_dir, force=force) as folder:
            folder.begin_set(files)
            for name, text in files.items():
                folder.write(name, text.encode())
            folder.end_set()
        console.print(f"wrote {len(FILE_KINDS)} schemas to {shown(out_dir)}")
        return
    if kind not in FILE_KINDS:
        error(f"unknown file kind '{kind}'; choose one of {', '.join(FILE_KINDS)}")
        raise typer.Exit(2)
    typer.echo(json.dumps(schema_for(kind), indent=2))


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
