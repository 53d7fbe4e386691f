"""The ``biomodels`` command: one small module per verb, each a thin layer over the library.

The command starts fast: ``biomodels --help`` and ``--version`` import neither torch nor pandas,
RDKit, scikit-learn or matplotlib (``benchmarks/cli_startup.py`` measures it). Every verb module
imports its library code inside its command function, and option help lists choices from
torch-free catalogues (:data:`biomodels.registry.MODELS`, :mod:`biomodels.screen.options`).
Sub-apps whose modules still import heavy code at the top are named in :data:`LAZY_APPS` and
imported only when invoked.
"""

from __future__ import annotations

import importlib

import click
import typer
from typer.core import TyperGroup

from biomodels import __version__
from biomodels.cli.common import setup_logging
from biomodels.cli.demo import demo
from biomodels.cli.featurize import featurize
from biomodels.cli.predict import predict
from biomodels.cli.report import report
from biomodels.cli.screen import screen
from biomodels.cli.train import train

LAZY_APPS = {
    "diagnostics": (
        "biomodels.cli.diagnostics:app",
        "Diagnostic models: image/text classifiers, autoencoder, GAN, classical baselines.",
    ),
}
"""Sub-app name -> (``"module:typer_app"``, its help as ``biomodels --help`` lists it)."""


class LazyGroup(TyperGroup):
    """The verbs, plus the :data:`LAZY_APPS`, imported when their name is the command run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(name for name in LAZY_APPS if name not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_APPS:
            return click.Group(cmd_name, help=LAZY_APPS[cmd_name][1])  # listed, not imported
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in LAZY_APPS and args[0] not in self.commands:
            module, _, attribute = LAZY_APPS[args[0]][0].partition(":")
            sub_app = getattr(importlib.import_module(module), attribute)
            self.add_command(typer.main.get_group(sub_app), args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="biomodels",
    cls=LazyGroup,
    help="Drug discovery toolkit: featurize, train, predict, screen, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"biomodels {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """biomodels command line."""
    setup_logging(verbose)


app.command()(featurize)
app.command()(train)
app.command()(predict)
app.command()(demo)
app.command()(screen)
app.command()(report)

if __name__ == "__main__":
    app()
