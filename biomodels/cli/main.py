"""The ``biomodels`` command: one small module per verb, each a thin layer over the library.

The command starts fast: ``biomodels --help`` and ``--version`` import neither torch nor pandas,
RDKit, scikit-learn or matplotlib (``benchmarks/cli_startup.py`` measures it). Every verb module
imports its library code inside its command function, and option help lists choices from
torch-free catalogues (:data:`biomodels.registry.MODELS`, :mod:`biomodels.screen.options`).
"""

from __future__ import annotations

import typer

from biomodels import __version__
from biomodels.cli import diagnostics, dta, generate
from biomodels.cli.bench import bench
from biomodels.cli.common import setup_logging
from biomodels.cli.demo import demo
from biomodels.cli.export import export
from biomodels.cli.featurize import featurize
from biomodels.cli.predict import predict
from biomodels.cli.report import report
from biomodels.cli.screen import screen
from biomodels.cli.serve import serve
from biomodels.cli.train import train
from biomodels.cli.tune import tune

app = typer.Typer(
    name="biomodels",
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
app.command()(export)
app.command()(serve)
app.command()(tune)
app.command()(bench)
app.add_typer(diagnostics.app, name="diagnostics")
app.add_typer(dta.app, name="dta")
app.add_typer(generate.app, name="generate")

if __name__ == "__main__":
    app()
