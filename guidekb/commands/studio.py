"""`guidekb studio [--kb KB] [--host H] [--port N] [--no-browser]`: the live authoring page.

A local web page beside the author's editor that shows, within a second of each save, every
problem of every file, the scenario results, the invariant proofs, lint findings, source
coverage and the flowcharts, and a case playground (docs/authoring.md, "The studio"). It needs
the optional `studio` extra (Starlette, uvicorn): without it, exit 2 saying how to install it.
Ctrl-C stops it (exit 130). It never writes into the knowledge base except when the author
clicks "save as scenario", which creates a new file in `scenarios/`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from guidekb.engine.errors import GuidekbError
from guidekb.options import DEFAULT_KB, KbOption

INSTALL_HINT = "pip install 'guidekb[studio]'"


class StudioUnavailable(GuidekbError):
    """The studio's web server packages are not installed (exit 2)."""


def studio(
    kb: KbOption = DEFAULT_KB,
    host: Annotated[str, typer.Option(
        help="Address to listen on. The default answers this computer only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        help="Port to listen on (0: any free port; the address is printed).", min=0, max=65535)] = 8765,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Do not open the page in a web browser.")] = False,
) -> None:
    """Open the live authoring page: problems, scenarios, proofs, lint, coverage, flowcharts
    and a case playground, updated on every save."""
    if not kb.is_dir():
        raise GuidekbError(f"knowledge-base folder not found: {kb}")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise StudioUnavailable(f"guidekb studio needs the web server packages of the 'studio' "
                                f"extra ({exc.name} is missing): {INSTALL_HINT}") from None
    from guidekb.studio.server import serve

    serve(kb, host=host, port=port, open_browser=not no_browser)


def register(app: typer.Typer) -> None:
    app.command("studio")(studio)
