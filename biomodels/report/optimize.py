"""Curves of a goal-directed optimisation run (``biomodels generate optimize``), drawn from its
``steps.csv`` into ``RUN/plots``:

- ``best_so_far.png``: the best score and the top-10 mean so far, and each batch's mean score,
  against scoring calls;
- ``unique_fraction.png``: the share of each batch that is valid and distinct molecules, per
  step: a fall toward 0 is mode collapse (the run also logs a warning then).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from biomodels.exceptions import CheckpointError
from biomodels.report.plots import _decorate, _figure, _save

__all__ = ["report_optimization"]


def report_optimization(run_dir: str | Path) -> list[Path]:
    """Draw the curves of the optimisation run in ``run_dir``; returns the two PNG paths.

    Raises:
        CheckpointError: ``run_dir`` has no ``steps.csv`` (not an optimisation run).
    """
    run_dir = Path(run_dir)
    path = run_dir / "steps.csv"
    if not path.is_file():
        raise CheckpointError(run_dir, "no steps.csv; not a `biomodels generate optimize` run")
    steps = pd.read_csv(path)
    plots = run_dir / "plots"
    fig = _figure(6.0, 4.0)
    ax = fig.axes[0]
    ax.plot(steps["calls"], steps["best_score"], label="best so far")
    ax.plot(steps["calls"], steps["top10_mean"], label="top-10 mean so far")
    ax.plot(steps["calls"], steps["mean_score"], label="batch mean", alpha=0.6)
    ax.set_ylim(0, 1.02)
    _decorate(ax, "Scores over the budget", "scoring calls", "score")
    best = _save(fig, plots / "best_so_far.png")
    fig = _figure(6.0, 4.0)
    ax = fig.axes[0]
    ax.plot(steps["step"], steps["unique_fraction"], label="distinct valid")
    ax.plot(steps["step"], steps["valid_fraction"], label="valid", alpha=0.6)
    ax.set_ylim(0, 1.02)
    _decorate(ax, "Distinct molecules per batch", "step", "fraction of the batch")
    return [best, _save(fig, plots / "unique_fraction.png")]
