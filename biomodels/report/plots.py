"""Diagnostic plots of training runs and predictions, written straight to files.

Figures are built as :class:`matplotlib.figure.Figure` objects on an Agg canvas, never through
``pyplot``: no global figure state, no GUI backend, and a backend the caller chose is untouched.
Each function writes its figure atomically (the format follows the file suffix; PNG by default)
and returns the path. NaN values are dropped before plotting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from biomodels.train.metrics import regression_metrics
from biomodels.train.trainer import TrainHistory
from biomodels.utils import atomic_path

__all__ = [
    "plot_confusion_matrix",
    "plot_histogram",
    "plot_parity",
    "plot_roc_pr",
    "plot_training_curves",
]

DPI = 150


def plot_training_curves(history: TrainHistory | Mapping[str, Any], path: str | Path) -> Path:
    """Loss, validation metrics and learning rate per epoch, the best epoch marked.

    Args:
        history: a :class:`~biomodels.train.trainer.TrainHistory` or its ``to_dict()`` (for
            example read back from a run directory's JSON).
        path: output image file.
    """
    h = history.to_dict() if isinstance(history, TrainHistory) else dict(history)
    epochs = np.arange(1, len(h["train_loss"]) + 1)
    metric_names = sorted({k for m in h.get("val_metrics", []) for k in m})
    panels = 2 + bool(metric_names)
    fig = _figure(width=4.2 * panels, height=3.6, ncols=panels)
    loss_ax, *rest = fig.axes
    loss_ax.plot(epochs, _nan(h["train_loss"]), label="train")
    val_loss = _nan(h.get("val_loss", []))
    if not np.isnan(val_loss).all():
        loss_ax.plot(epochs, val_loss, label="validation")
    _decorate(loss_ax, "loss", "epoch", "loss")
    if metric_names:
        metric_ax = rest.pop(0)
        for name in metric_names:
            metric_ax.plot(epochs, [_nan([m.get(name)])[0] for m in h["val_metrics"]], label=name)
        _decorate(metric_ax, "validation metrics", "epoch", "value")
    lr_ax = rest.pop(0)
    lr_ax.plot(epochs, _nan(h["lr"]), color="tab:gray")
    lr_ax.set_yscale("log")
    _decorate(lr_ax, "learning rate (end of epoch)", "epoch", "lr", legend=False)
    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if h.get("best_epoch") is not None:
            ax.axvline(h["best_epoch"] + 1, color="tab:red", linestyle=":", linewidth=1)
    return _save(fig, path)


def plot_parity(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    path: str | Path,
    y_std: np.ndarray | None = None,
    title: str = "Predicted vs observed",
    label: str = "value",
) -> Path:
    """Scatter of predictions against targets with the identity line; RMSE and R2 in the legend.

    Args:
        y_true, y_pred: 1-D targets and predictions; pairs with a NaN are dropped.
        path: output image file.
        y_std: optional 1-D predicted std devs, drawn as vertical error bars.
        title: figure title.
        label: name of the quantity, used in the axis labels.
    """
    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    keep = ~(np.isnan(y_true) | np.isnan(y_pred))
    yt, yp = y_true[keep], y_pred[keep]
    fig = _figure(width=5, height=5)
    ax = fig.axes[0]
    scores = regression_metrics(yt, yp) if len(yt) else {"rmse": np.nan, "r2": np.nan}
    legend = f"n={len(yt)}  RMSE={scores['rmse']:.3g}  R2={scores['r2']:.3f}"
    if y_std is not None:
        ys = np.asarray(y_std, float).ravel()[keep]
        ax.errorbar(yt, yp, yerr=ys, fmt="o", markersize=3, alpha=0.6, elinewidth=0.6, label=legend)
    else:
        ax.scatter(yt, yp, s=10, alpha=0.6, label=legend)
    if len(yt):
        lo, hi = min(yt.min(), yp.min()), max(yt.max(), yp.max())
        pad = 0.05 * (hi - lo or 1.0)
        ax.plot(
            [lo - pad, hi + pad],
            [lo - pad, hi + pad],
            color="black",
            linewidth=1,
            linestyle="--",
            label="y = x",
        )
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal")
    _decorate(ax, title, f"observed {label}", f"predicted {label}")
    return _save(fig, path)


def plot_roc_pr(
    y_true: np.ndarray,
    y_score: np.ndarray,
    path: str | Path,
    names: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """ROC and precision-recall curves side by side, AUCs in the legends.

    Three layouts, told apart by shape:

    - binary, one task: ``y_true`` and ``y_score`` both ``n``;
    - binary, multi-task: both ``n x T``, NaN labels skipped, one curve per task;
    - multiclass: ``y_true`` ``n`` class indices and ``y_score`` ``n x C`` probabilities, one
      one-vs-rest curve per class.

    Curves whose labels hold a single class are left out (no ROC is defined).

    Args:
        y_true: labels as above.
        y_score: scores or probabilities as above.
        path: output image file.
        names: one name per task or class for the legends; defaults to ``task_i``/``class_i``.
        title: figure title.
    """
    from sklearn import metrics as skm  # only classification runs pay for scikit-learn's import

    y_true, y_score = np.asarray(y_true, float), np.asarray(y_score, float)
    if y_true.ndim == 1 and y_score.ndim == 2:
        classes = range(y_score.shape[1])
        curves = [((y_true == c).astype(float), y_score[:, c]) for c in classes]
        default = [f"class_{c}" for c in classes]
    else:
        yt2, ys2 = y_true.reshape(len(y_true), -1), y_score.reshape(len(y_score), -1)
        curves = [(yt2[:, t], ys2[:, t]) for t in range(yt2.shape[1])]
        default = [f"task_{t}" for t in range(len(curves))]
    names = list(names) if names is not None else default
    if len(names) != len(curves):
        raise ValueError(f"{len(names)} names for {len(curves)} curves")
    fig = _figure(width=10, height=4.6, ncols=2)
    roc_ax, pr_ax = fig.axes
    for name, (yt, ys) in zip(names, curves, strict=True):
        keep = ~np.isnan(yt)
        yt, ys = yt[keep].astype(int), ys[keep]
        if len(np.unique(yt)) < 2:
            continue
        fpr, tpr, _ = skm.roc_curve(yt, ys)
        precision, recall, _ = skm.precision_recall_curve(yt, ys)
        prefix = f"{name}: " if len(curves) > 1 else ""
        roc_ax.plot(fpr, tpr, label=f"{prefix}AUC={skm.roc_auc_score(yt, ys):.3f}")
        pr_ax.step(
            recall, precision, where="post", label=f"{prefix}AP={skm.average_precision_score(yt, ys):.3f}"
        )
    roc_ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1)
    _decorate(roc_ax, "ROC", "false positive rate", "true positive rate")
    _decorate(pr_ax, "Precision-recall", "recall", "precision")
    for ax in fig.axes:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    labels: Sequence[str],
    path: str | Path,
    title: str = "Confusion matrix",
) -> Path:
    """Confusion matrix with counts in the cells, shaded by the fraction of each true class.

    Args:
        y_true, y_pred: 1-D integer class indices; ``labels[i]`` names class ``i``. Entries
            with a NaN are dropped.
        labels: class names, in class-index order.
        path: output image file.
        title: figure title.
    """
    from sklearn import metrics as skm

    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    keep = ~(np.isnan(y_true) | np.isnan(y_pred))
    matrix = skm.confusion_matrix(
        y_true[keep].astype(int), y_pred[keep].astype(int), labels=range(len(labels))
    )
    fraction = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    k = len(labels)
    fig = _figure(width=1.2 + 0.6 * k + 2, height=1.2 + 0.6 * k + 1)
    ax = fig.axes[0]
    image = ax.imshow(fraction, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="fraction of true class")
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                color="white" if fraction[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(k), labels=list(labels), rotation=45, ha="right")
    ax.set_yticks(range(k), labels=list(labels))
    _decorate(ax, title, "predicted", "true", legend=False)
    return _save(fig, path)


def plot_histogram(
    values: np.ndarray | Mapping[str, np.ndarray],
    path: str | Path,
    bins: int = 50,
    title: str = "",
    xlabel: str = "value",
    density: bool = False,
) -> Path:
    """Histogram of one array, or overlaid histograms of several named arrays on shared bins.

    Args:
        values: an array, or ``{name: array}`` to compare distributions (e.g. generated vs
            training molecules); NaN and infinite values are dropped.
        path: output image file.
        bins: number of bins spanning all values.
        title: figure title.
        xlabel: x-axis label.
        density: normalise each histogram to unit area (useful for unequal sizes).
    """
    series = dict(values) if isinstance(values, Mapping) else {"": values}
    series = {k: np.asarray(v, float).ravel() for k, v in series.items()}
    series = {k: v[np.isfinite(v)] for k, v in series.items()}
    everything = np.concatenate([*series.values(), np.zeros(0)])
    edges = np.histogram_bin_edges(everything, bins=bins) if len(everything) else bins
    fig = _figure(width=6, height=4)
    ax = fig.axes[0]
    for name, v in series.items():
        ax.hist(
            v,
            bins=edges,
            alpha=0.6 if len(series) > 1 else 0.9,
            density=density,
            label=f"{name} (n={len(v)})" if name else f"n={len(v)}",
        )
    _decorate(ax, title, xlabel, "density" if density else "count")
    return _save(fig, path)


def _figure(width: float, height: float, ncols: int = 1) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    fig.subplots(1, ncols, squeeze=False)
    return fig


def _decorate(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def _nan(values: Sequence[Any]) -> np.ndarray:
    """Floats with None (JSON's NaN) as NaN."""
    return np.array([np.nan if v is None else v for v in values], float)


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "png", dpi=DPI)
    return path
