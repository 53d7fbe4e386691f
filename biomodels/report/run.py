"""Plots of a training run, drawn from its run directory into ``RUN/plots``.

Training writes data (metrics, histories, predictions); this module reads them back and draws
the figures, so ``biomodels report RUN`` redraws a finished run and nothing below ``report``
imports matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from biomodels.exceptions import CheckpointError
from biomodels.report.plots import plot_parity, plot_roc_pr, plot_training_curves
from biomodels.utils import read_json

__all__ = ["report_run"]


def report_run(run_dir: str | Path) -> list[Path]:
    """Draw the figures of the run in ``run_dir`` into ``run_dir/plots``; returns their paths.

    Raises:
        CheckpointError: ``run_dir`` has no ``metrics.json`` (not a finished run).
    """
    run_dir = Path(run_dir)
    if not (run_dir / "metrics.json").is_file():
        raise CheckpointError(run_dir, "no metrics.json; not a finished biomodels run")
    metrics = read_json(run_dir / "metrics.json")
    plots = run_dir / "plots"
    paths = []
    history = metrics.get("history") or []
    if history:
        paths.append(plot_training_curves(history[0], plots / "training_curves.png"))
    test = run_dir / "predictions_test.csv"
    if test.is_file():
        paths.extend(_molecule_test_plots(pd.read_csv(test), metrics.get("data", {}).get("task"), plots))
    return paths


def _molecule_test_plots(frame: pd.DataFrame, task: str | None, plots: Path) -> list[Path]:
    """Parity plot (regression) or ROC / PR curves (classification) of the test predictions."""
    targets = [c.removesuffix("_true") for c in frame.columns if c.endswith("_true")]
    if not targets:
        return []
    if task == "regression":
        t = targets[0]
        return [
            plot_parity(
                frame[f"{t}_true"],
                frame[t],
                plots / "parity.png",
                y_std=frame[f"{t}_std"],
                title=f"{t} (test)",
            )
        ]
    if task == "binary":
        truth = frame[[f"{t}_true" for t in targets]].to_numpy(float)
        return [plot_roc_pr(truth, frame[targets].to_numpy(float), plots / "roc_pr.png", names=targets)]
    t = targets[0]
    classes = [c.removeprefix(f"{t}_prob_") for c in frame.columns if c.startswith(f"{t}_prob_")]
    probs = frame[[f"{t}_prob_{c}" for c in classes]].to_numpy(float)
    return [plot_roc_pr(frame[f"{t}_true"].to_numpy(float), probs, plots / "roc_pr.png", names=classes)]
