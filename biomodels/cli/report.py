"""``biomodels report``: redraw a training run's figures from its run directory."""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli.common import console, friendly_errors


@friendly_errors
def report(
    run_dir: Path = typer.Argument(..., help="Run directory written by `biomodels train`."),
) -> None:
    """Draw the figures of RUN_DIR into RUN_DIR/plots and print their paths.

    Training curves, then a parity plot (regression) or ROC and precision-recall curves
    (classification) of the test predictions; existing figures are replaced.
    """
    from biomodels.report import report_run

    paths = report_run(run_dir)
    if not paths:
        console.print(f"nothing to draw in {run_dir}: no training history and no test predictions")
    for path in paths:
        console.print(str(path), highlight=False, soft_wrap=True)
