"""The `guidekb` Typer application. Each module of `guidekb.commands` registers its own
subcommands, so adding a command never means editing this file.

Whatever stops a subcommand becomes one message and an exit status here (guidekb.exits), not
only in `guidekb.cli.main`: a test driving the app with Typer's CliRunner, or a program
embedding it, gets the same exit statuses as the `guidekb` command.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from guidekb import commands
from guidekb.exits import EPILOG, report


class GuardedGroup(TyperGroup):
    """Runs a subcommand; a problem, an error, a bug or Ctrl-C inside it is reported and
    turned into its exit status, never a traceback."""

    def invoke(self, ctx: Any) -> Any:  # Any: Typer's context class is private to typer
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # Typer's own ways to stop: typer.Exit(n), usage errors (2)
        except (Exception, KeyboardInterrupt) as exc:
            raise typer.Exit(report(exc)) from None


app = typer.Typer(
    name="guidekb",
    cls=GuardedGroup,
    help="Clinical-guideline knowledge bases: validate, run cases, explain, test, draw.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("guidekb")
        except PackageNotFoundError:  # run from a checkout that was never installed
            number = "unknown (not installed)"
        typer.echo(f"guidekb {number}")
        raise typer.Exit(0)


@app.callback()
def _options(
    show_version: Annotated[bool, typer.Option(
        "--version", help="Print guidekb's version and exit.", is_eager=True,
        callback=_version)] = False,
) -> None:
    """Clinical-guideline knowledge bases: validate, run cases, explain, test, draw."""


for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
    module.register(app)
