"""`guidekb schema`: the JSON Schema of the knowledge-base format, for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from guidekb.engine.schema import FILE_KINDS, schema_for


def schema(
    kind: Annotated[str, typer.Argument(help=f"Which file: {', '.join(FILE_KINDS)}.")] = "rules",
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Write every schema into this folder.")] = None,
) -> None:
    """Print the JSON Schema of one knowledge-base file kind (or write them all)."""
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in FILE_KINDS:
            (out_dir / f"{name}.schema.json").write_text(
                json.dumps(schema_for(name), indent=2) + "\n", encoding="utf-8")
        typer.echo(f"wrote {len(FILE_KINDS)} schemas to {out_dir}")
        return
    if kind not in FILE_KINDS:
        typer.echo(f"error: unknown file kind '{kind}'; choose one of {', '.join(FILE_KINDS)}", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps(schema_for(kind), indent=2))


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)


