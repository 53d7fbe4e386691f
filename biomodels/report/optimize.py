"""Curves of a goal-directed optimisation run (``biomodels generate optimize``), drawn from its
``steps.csv`` into ``RUN/plots``:

- ``best_so_far.png``: the best score and the top-10 mean so far, and each batch's mean score,
  against scoring calls;
- ``unique_fraction.png``: the share of each batch that is valid and distinct molecules, per
  step: a fall toward 0 is mode collapse (the run also logs a warning then).

:func:`write_optimization_report` puts them in one HTML page with the run's metrics and a grid
of chosen molecules (``pipelines/design_cycle.py`` writes one for its diverse top 20).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rdkit import Chem
from rdkit.Chem import Draw

from biomodels.exceptions import CheckpointError
from biomodels.report.html import HtmlReport
from biomodels.report.plots import _decorate, _figure, _save
from biomodels.utils import read_json

__all__ = ["report_optimization", "write_optimization_report"]


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


def write_optimization_report(
    run_dir: str | Path,
    picks: pd.DataFrame,
    path: str | Path,
    title: str = "Design cycle",
    notes: list[str] | None = None,
    columns: list[str] | None = None,
) -> Path:
    """One self-contained HTML page: ``notes`` (paragraphs), the run's metrics, its curves, a
    grid of ``picks`` (``smiles``, ``score`` and ``columns``) and their table.

    Args:
        run_dir: the optimisation run (``metrics.json``, ``steps.csv``).
        picks: the molecules to draw, in order.
        columns: the columns of ``picks`` shown in the table (default: every one).
    """
    run_dir = Path(run_dir)
    report = HtmlReport(title)
    for note in notes or []:
        report.paragraph(note)
    metrics = read_json(run_dir / "metrics.json")
    report.heading("Optimisation")
    report.table([[k, v] for k, v in metrics.items() if isinstance(v, int | float)], header=["", "value"])
    report.figures(report_optimization(run_dir), ["best score so far", "distinct fraction per batch"])
    report.heading(f"{len(picks)} molecules")
    mols = [Chem.MolFromSmiles(s) for s in picks["smiles"]]
    legends = [f"#{i + 1}: score {score:.3f}" for i, score in enumerate(picks["score"])]
    report.svg(Draw.MolsToGridImage(mols, molsPerRow=5, subImgSize=(220, 190), legends=legends, useSVG=True))
    shown = picks[columns] if columns else picks
    rows = [
        ["" if pd.isna(v) else getattr(v, "item", lambda v=v: v)() for v in row]
        for row in shown.itertuples(index=False)
    ]
    report.table(rows, header=list(shown.columns))
    return report.write(path)
