"""Plots of a training run, drawn from its run directory into ``RUN/plots``.

Training writes data (metrics, histories, predictions); this module reads them back and draws
the figures, so ``biomodels report RUN`` redraws a finished run and nothing below ``report``
imports matplotlib. What is drawn follows from the columns of ``predictions_test.csv`` (never
from the model's name):

- ``training_curves.png``: the first network's history in ``metrics.json``;
- ``best_so_far.png`` and ``unique_fraction.png`` of an optimisation run (its ``steps.csv``,
  :func:`~biomodels.report.optimize.report_optimization`);
- ``<t>_true`` columns of a run whose ``metrics.json`` names its ``data.task`` (molecule or
  vector targets): ``parity.png`` (regression) or ``roc_pr.png`` (classification),
  :func:`draw_target_plots`;
- ``label``, ``prediction`` and ``prob_<class>`` columns (image and text classifiers):
  ``roc_pr.png`` and ``confusion_matrix.png``, :func:`draw_classification_plots`;
- an ``anomaly_score`` column (autoencoders): ``anomaly_roc_pr.png`` (with ``anomalous_true``)
  and ``anomaly_scores.png`` (score histograms by ``label``), :func:`draw_anomaly_plots`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from biomodels.exceptions import CheckpointError
from biomodels.report.optimize import report_optimization
from biomodels.report.plots import (
    plot_confusion_matrix,
    plot_histogram,
    plot_parity,
    plot_roc_pr,
    plot_training_curves,
)
from biomodels.utils import read_json

__all__ = ["draw_anomaly_plots", "draw_classification_plots", "draw_target_plots", "report_run"]


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
    if (run_dir / "steps.csv").is_file():  # a `biomodels generate optimize` run
        paths.extend(report_optimization(run_dir))
    test = run_dir / "predictions_test.csv"
    if test.is_file():
        frame = pd.read_csv(test)
        paths.extend(draw_target_plots(frame, metrics.get("data", {}).get("task"), plots))
        paths.extend(draw_classification_plots(frame, plots))
        paths.extend(draw_anomaly_plots(frame, plots))
    return paths


def draw_target_plots(frame: pd.DataFrame, task: str | None, plots: Path) -> list[Path]:
    """Parity plot (regression) or ROC / PR curves (classification) of predictions with
    ``<t>_true`` columns (``<t>_std``, when present, gives error bars)."""
    targets = [c.removesuffix("_true") for c in frame.columns if c.endswith("_true")]
    if not targets or task not in ("regression", "binary", "multiclass"):
        return []
    if task == "regression":
        t = targets[0]
        return [
            plot_parity(
                frame[f"{t}_true"],
                frame[t],
                plots / "parity.png",
                y_std=frame.get(f"{t}_std"),
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


def draw_classification_plots(frame: pd.DataFrame, plots: Path) -> list[Path]:
    """``roc_pr.png`` and ``confusion_matrix.png`` of a classifier's prediction table
    (``label``, ``prediction``, ``prob_<class>``); rows with an error or an unknown label are
    left out. Two classes: the curves of the second class (the positive one)."""
    classes = [c.removeprefix("prob_") for c in frame.columns if c.startswith("prob_")]
    if not classes or not {"label", "prediction"} <= set(frame.columns):
        return []
    index = {c: i for i, c in enumerate(classes)}
    labels = frame["label"].astype(object)
    y = np.array([index.get(str(v), -1) if not pd.isna(v) else -1 for v in labels], dtype=np.int64)
    probs = frame[[f"prob_{c}" for c in classes]].to_numpy(float)
    keep = (y >= 0) & np.isfinite(probs).all(1) & frame["error"].isna().to_numpy()
    if not keep.any():
        return []
    y, probs = y[keep], probs[keep]
    title = "test set"
    if len(classes) == 2:
        roc = plot_roc_pr(y, probs[:, 1], plots / "roc_pr.png", title=f"{classes[1]} ({title})")
    else:
        roc = plot_roc_pr(y, probs, plots / "roc_pr.png", names=classes, title=title)
    confusion = plot_confusion_matrix(
        y, probs.argmax(1), classes, plots / "confusion_matrix.png", title=f"Confusion matrix ({title})"
    )
    return [roc, confusion]


def draw_anomaly_plots(frame: pd.DataFrame, plots: Path) -> list[Path]:
    """``anomaly_roc_pr.png`` (score against ``anomalous_true``) and ``anomaly_scores.png``
    (score histograms by ``label``) of an anomaly model's prediction table."""
    if "anomaly_score" not in frame:
        return []
    scores = frame["anomaly_score"].to_numpy(float)
    ok = np.isfinite(scores)
    paths = []
    if "anomalous_true" in frame:
        truth = frame["anomalous_true"].map(_as_bool)
        known = ok & truth.notna().to_numpy()
        if known.any():
            paths.append(
                plot_roc_pr(
                    truth[known].astype(float).to_numpy(),
                    scores[known],
                    plots / "anomaly_roc_pr.png",
                    title="anomaly score (test set)",
                )
            )
    if "label" in frame:
        labels = frame["label"]
        groups = {
            str(name): scores[ok & (labels == name).to_numpy()]
            for name in sorted(labels[ok].dropna().unique())
        }
        if groups:
            paths.append(
                plot_histogram(
                    groups,
                    plots / "anomaly_scores.png",
                    title="anomaly score by class (test set)",
                    xlabel="anomaly score",
                    density=True,
                )
            )
    return paths


def _as_bool(value: object) -> bool | None:
    """A CSV cell read back as a bool (pandas reads True/False, or strings with missing cells)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value in ("True", "False"):
        return value == "True"
    return None
