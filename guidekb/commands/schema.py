"""`guidekb schema`: the JSON Schemas of the knowledge-base files, for editors.

Without `--kb`, the static schemas: the format's structure, the same for every knowledge base
(docs/schema/). With `--kb KB`, that knowledge base's own: wherever a fact name, a value, a
code, a source id, a section heading or a reference number goes, an enum of KB's names, so an
editor completes them and underlines a misspelling as it is typed; plus `case`, the schema of
a case file (guidekb.engine.schema.kb_schemas). Those go stale when facts, outcomes or sources
change: write them again then.

`--out-dir` writes every schema as a set (guidekb.visualize.output_files): atomically, never
through a symbolic link, and over an existing file only if guidekb wrote it, or with --force.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from guidekb.console import console, error, shown
from guidekb.engine.schema import CASE_KIND, FILE_KINDS, KB_FILE_KINDS, kb_schemas, schema_for
from guidekb.exits import INVALID
from guidekb.options import load
from guidekb.visualize.output_files import OutputFolder


def schema(
    kind: Annotated[str, typer.Argument(
        help=f"Which file: {', '.join(KB_FILE_KINDS)} ({CASE_KIND} with --kb only).")] = "rules",
    kb: Annotated[Path | None, typer.Option(
        "--kb", help="Schemas of this knowledge base: its fact names, values, codes, source "
        "ids and section headings as enums, for completion. Without it: the static format.",
        show_default="the static schemas")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Write every schema into this folder.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite existing files that guidekb did not write.")] = False,
) -> None:
    """Print the JSON Schema of one knowledge-base file kind (or write them all)."""
    schemas = _schemas(kb)
    if out_dir is not None:
        files = {f"{name}.schema.json": _text(document) for name, document in schemas.items()}
        with OutputFolder(out_dir, force=force) as folder:
            folder.begin_set(files)
            for name, text in files.items():
                folder.write(name, text.encode())
            folder.end_set()
        whose = f" of {kb}" if kb is not None else ""
        console.print(f"wrote {len(files)} schemas{shown(whose)} to {shown(out_dir)}", soft_wrap=True)
        return
    if kind not in schemas:
        choices = ", ".join(schemas)
        extra = f" ('{CASE_KIND}' needs --kb)" if kind == CASE_KIND else ""
        error(f"unknown file kind '{shown(kind)}'{extra}; choose one of {choices}")
        raise typer.Exit(INVALID)
    typer.echo(_text(schemas[kind]), nl=False)


def _schemas(kb: Path | None) -> dict[str, dict[str, Any]]:
    if kb is None:
        return {name: schema_for(name) for name in FILE_KINDS}
    return kb_schemas(load(kb))  # a knowledge base with problems: exit 2 with them, as everywhere


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"  # ASCII: nothing a terminal would obey


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
