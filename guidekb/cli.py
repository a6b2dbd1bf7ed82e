"""The `guidekb` command. Each module of `guidekb.commands` registers its own subcommands,
so adding a command never means editing this file."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from guidekb import commands
from guidekb.console import err_console
from guidekb.engine.errors import ProblemsError

app = typer.Typer(
    name="guidekb",
    help="Clinical-guideline knowledge bases: validate, run cases, explain, test, draw.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
    module.register(app)


def main() -> None:
    """Entry point: user errors print their problems and exit 2, never a traceback."""
    try:
        app()
    except ProblemsError as exc:
        for problem in exc.problems:
            err_console.print(problem.render(), markup=False, highlight=False)
        count = len(exc.problems)
        err_console.print(f"{count} problem{'s' if count != 1 else ''} found in the {exc.what}.",
                          markup=False, highlight=False)
        sys.exit(2)
