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

# A command whose name is not its module's name (a module `foo.py` registering command `foo`
# needs no entry; an unlisted one is still found, by loading every module).
_MODULE_OF_COMMAND = {"test": "testing"}


def _module_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__))


def _commands_of(module_name: str) -> list[Any]:
    """The click commands a module of `guidekb.commands` registers, converted as Typer would."""
    module = importlib.import_module(f"{commands.__name__}.{module_name}")
    own = typer.Typer(add_completion=False)
    module.register(own)
    return [typer.main.get_command_from_info(info, pretty_exceptions_short=True,
                                             rich_markup_mode=own.rich_markup_mode)
            for info in own.registered_commands]


class GuardedGroup(TyperGroup):
    """Runs a subcommand; a problem, an error, a bug or Ctrl-C inside it is reported and
    turned into its exit status, never a traceback.

    Subcommands are loaded on demand: `guidekb run` imports the module of `run` and what it
    needs, not z3, networkx, Hypothesis or graphviz for commands it is not running (they cost
    more than the run itself). Help and an unknown name load every command module.
    """

    _loaded: set[str]

    def _load(self, module_name: str) -> None:
        loaded = self.__dict__.setdefault("_loaded", set())
        if module_name in loaded:
            return
        loaded.add(module_name)
        for command in _commands_of(module_name):
            if command.name not in self.commands:
                self.add_command(command)

    def _load_all(self) -> None:
        for name in _module_names():
            self._load(name)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            module_name = _MODULE_OF_COMMAND.get(cmd_name, cmd_name)
            if module_name in _module_names():
                self._load(module_name)
            if cmd_name not in self.commands:
                self._load_all()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        self._load_all()
        return sorted(super().list_commands(ctx))

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


