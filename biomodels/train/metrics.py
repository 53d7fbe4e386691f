"""Evaluation metrics: regression and rank metrics in numpy, classification with scikit-learn.

:func:`compute_metrics` scores multi-task predictions the way a property model produces them:
``y_true`` is ``n x T`` with NaN for missing labels, which are skipped task by task. A metric that
is undefined for a task (ROC-AUC on a task whose observed labels are all one class) is NaN there,
left out of the mean over tasks, and explained in the result's ``notes``.

scikit-learn is imported inside the functions that use it: this module is imported by every
process that loads a model, and most of those (screening workers) never score one. Regression,
calibration and rank correlations need no more than numpy, which keeps the half second that
importing scikit-learn and ``scipy.stats`` costs out of every regression training.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from biomodels.types import TASKS

__all__ = [
    "affinity_metrics",
    "binary_metrics",
    "calibration_metrics",
    "compute_metrics",
    "concordance_index",
    "interval_coverage",
    "miscalibration_area",
    "multiclass_metrics",
    "pearson",
    "regression_metrics",
    "rm2",
    "spearman",
]

CALIBRATION_LEVELS = np.linspace(0.01, 0.99, 99)
"""Central-interval probabilities at which :func:`miscalibration_area` compares coverage."""


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R2 of 1-D arrays without missing values.

    R2 follows scikit-learn's ``r2_score``: with constant targets it is 1.0 for an exact fit and
    0.0 otherwise; NaN for a single value.
    """
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    residual = y_true - y_pred
    ss_res = float(np.sum(residual**2))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2)) if len(y_true) else 0.0
    if len(y_true) < 2:
        r2 = math.nan
    elif ss_tot == 0:
        r2 = 1.0 if ss_res == 0 else 0.0
    else:
        r2 = 1.0 - ss_res / ss_tot
    return {
        "rmse": math.sqrt(ss_res / len(y_true)) if len(y_true) else math.nan,
        "mae": float(np.mean(np.abs(residual))) if len(y_true) else math.nan,
        "r2": r2,
    }


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values``, ties sharing the mean of their ranks (as ``scipy.stats.rankdata``)."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two 1-D arrays; NaN when either is constant or shorter than 2."""
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    xc, yc = x - x.mean(), y - y.mean()
    return float(np.clip(np.sum(xc * yc) / math.sqrt(np.sum(xc**2) * np.sum(yc**2)), -1.0, 1.0))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (Pearson of average ranks); NaN when either input is constant."""
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    return pearson(_average_ranks(x), _average_ranks(y))


def binary_metrics(y_true: np.ndarray, y_prob: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), accuracy, F1 and MCC for one binary task.

    Args:
        y_true: 1-D labels in {0, 1}, no missing values.
        y_prob: 1-D probabilities of the positive class.
        threshold: probability at or above which a prediction counts as positive.

    Returns:
        The five metrics; the two AUCs are NaN when ``y_true`` holds a single class.
    """
    from sklearn import metrics as skm
    from sklearn.exceptions import UndefinedMetricWarning

    y_true = np.asarray(y_true).astype(int)
    y_prob = np.asarray(y_prob, float)
    y_hat = (y_prob >= threshold).astype(int)
    roc_auc = pr_auc = math.nan
    if len(np.unique(y_true)) == 2:
        roc_auc = float(skm.roc_auc_score(y_true, y_prob))
        pr_auc = float(skm.average_precision_score(y_true, y_prob))
    with warnings.catch_warnings():  # one class only: MCC is 0 and F1 0 by convention
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", message="A single label was found")
        return {
            "roc_auc": roc_auc,
            "pr_auc": pr_auc,
            "accuracy": float(skm.accuracy_score(y_true, y_hat)),
            "f1": float(skm.f1_score(y_true, y_hat, zero_division=0)),
            "mcc": float(skm.matthews_corrcoef(y_true, y_hat)),
        }


def multiclass_metrics(y_true: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Accuracy, macro F1 and one-vs-rest macro ROC-AUC for one multiclass task.

    Args:
        y_true: 1-D integer class indices in ``[0, C)``, no missing values.
        probs: ``n x C`` class probabilities.

    Returns:
        The three metrics. ``roc_auc_ovr`` averages the one-vs-rest AUC over the classes present
        in ``y_true`` (scikit-learn's ``multi_class="ovr"`` when all are present); NaN when
        fewer than two classes are present.
    """
    from sklearn import metrics as skm
    from sklearn.exceptions import UndefinedMetricWarning

    y_true = np.asarray(y_true).astype(int)
    probs = np.asarray(probs, float)
    present = np.unique(y_true)
    y_hat = probs.argmax(axis=1)
    auc = math.nan
    if len(present) >= 2:
        auc = float(np.mean([skm.roc_auc_score(y_true == c, probs[:, c]) for c in present]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return {
            "accuracy": float(skm.accuracy_score(y_true, y_hat)),
            "f1_macro": float(skm.f1_score(y_true, y_hat, average="macro", zero_division=0)),
            "roc_auc_ovr": auc,
        }


def interval_coverage(
    y_true: np.ndarray, y_pred: np.ndarray, y_std: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """Fraction of targets inside the central ``p`` interval of ``N(y_pred, y_std^2)``, per ``p``.

    Args:
        y_true, y_pred, y_std: 1-D arrays of targets, predicted means and predicted std devs.
        levels: probabilities ``p`` in (0, 1).

    Returns:
        One observed fraction per level; a calibrated model has coverage close to ``levels``.
    """
    quantiles = np.array([NormalDist().inv_cdf(0.5 + p / 2) for p in np.asarray(levels, float)])
    half_width = quantiles[:, None] * np.asarray(y_std)[None]
    inside = np.abs(np.asarray(y_true) - np.asarray(y_pred))[None] <= half_width
    return inside.mean(axis=1)


def miscalibration_area(y_true: np.ndarray, y_pred: np.ndarray, y_std: np.ndarray) -> float:
    """Mean absolute gap between observed and expected coverage over :data:`CALIBRATION_LEVELS`.

    0 for perfectly calibrated Gaussian uncertainties, up to about 0.5 for useless ones.
    """
    observed = interval_coverage(y_true, y_pred, y_std, CALIBRATION_LEVELS)
    return float(np.mean(np.abs(observed - CALIBRATION_LEVELS)))


def calibration_metrics(y_true: np.ndarray, y_pred: np.ndarray, y_std: np.ndarray) -> dict[str, float]:
    """Uncertainty quality of 1-D regression predictions with predicted std devs.

    Returns:
        ``spearman_abs_error_std``: Spearman rank correlation between ``|y_true - y_pred|`` and
        ``y_std`` (positive when larger uncertainty goes with larger error; NaN when either is
        constant), and ``miscalibration_area`` (see :func:`miscalibration_area`).
    """
    abs_error = np.abs(np.asarray(y_true, float) - np.asarray(y_pred, float))
    return {
        "spearman_abs_error_std": spearman(abs_error, y_std),
        "miscalibration_area": miscalibration_area(y_true, y_pred, y_std),
    }


def compute_metrics(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    y_std: np.ndarray | None = None,
    task_names: Sequence[str] | None = None,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Score predictions task by task, skipping missing labels, and average over tasks.

    Args:
        task: ``"regression"``, ``"binary"`` or ``"multiclass"``.
        y_true: ``n x T`` targets (``n`` accepted for one task), NaN where missing; class
            indices for multiclass, 0/1 for binary.
        y_pred: regression: ``n x T`` predictions; binary: ``n x T`` positive-class
            probabilities; multiclass: ``n x T x C`` class probabilities (``n x C`` for one
            task given as a 1-D ``y_true``).
        y_std: regression only, ``n x T`` predicted std devs; adds :func:`calibration_metrics`.
        task_names: one name per task; defaults to ``task_0``, ``task_1``, ...
        threshold: binary decision threshold on the probability.

    Returns:
        ``{"per_task": {name: {metric: value}}, "mean": {metric: value}, "notes": [str]}``.
        ``mean`` averages each metric over the tasks where it is defined (NaN if none);
        ``notes`` says which tasks had no labels or a single class.

    Raises:
        ValueError: unknown task, mismatched shapes, or binary scores outside [0, 1].
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    y_true = np.asarray(y_true, float)
    y_pred = np.asarray(y_pred, float)
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
        y_std = None if y_std is None else np.asarray(y_std, float)[:, None]
    expected = y_true.shape + ((y_pred.shape[-1],) if task == "multiclass" else ())
    if y_true.ndim != 2 or y_pred.shape != expected:
        raise ValueError(
            f"y_pred has shape {y_pred.shape}, which does not fit y_true {y_true.shape} for a {task} task"
        )
    if task == "binary" and ((y_pred < 0) | (y_pred > 1)).any():
        raise ValueError("binary predictions must be probabilities in [0, 1]; apply a sigmoid")
    if y_std is not None:
        y_std = np.asarray(y_std, float)
        if task != "regression" or y_std.shape != y_true.shape:
            raise ValueError(f"y_std (shape {y_std.shape}) needs a regression task and y_true's shape")
    n_tasks = y_true.shape[1]
    names = list(task_names) if task_names is not None else [f"task_{t}" for t in range(n_tasks)]
    if len(names) != n_tasks:
        raise ValueError(f"{len(names)} task names for {n_tasks} tasks")

    per_task: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    for t, name in enumerate(names):
        observed = ~np.isnan(y_true[:, t])
        yt, yp = y_true[observed, t], y_pred[observed, t]
        if not observed.any():
            notes.append(f"{name}: no observed labels; all metrics NaN")
            per_task[name] = dict.fromkeys(_metric_names(task, y_std is not None), math.nan)
        elif task == "regression":
            per_task[name] = regression_metrics(yt, yp)
            if y_std is not None:
                per_task[name].update(calibration_metrics(yt, yp, y_std[observed, t]))
        elif task == "binary":
            per_task[name] = binary_metrics(yt, yp, threshold)
            if len(np.unique(yt)) < 2:
                notes.append(f"{name}: one class only; ROC-AUC and PR-AUC undefined (NaN)")
        else:
            per_task[name] = multiclass_metrics(yt, yp)
            if len(np.unique(yt)) < 2:
                notes.append(f"{name}: one class only; ROC-AUC undefined (NaN)")
    mean = {
        metric: _nanmean([scores[metric] for scores in per_task.values()])
        for metric in _metric_names(task, y_std is not None)
    }
    return {"per_task": per_task, "mean": mean, "notes": notes}


def _metric_names(task: str, calibration: bool) -> list[str]:
    if task == "regression":
        names = ["rmse", "mae", "r2"]
        return names + ["spearman_abs_error_std", "miscalibration_area"] if calibration else names
    if task == "binary":
        return ["roc_auc", "pr_auc", "accuracy", "f1", "mcc"]
    return ["accuracy", "f1_macro", "roc_auc_ovr"]


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def concordance_index(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Harrell's concordance index as DeepDTA and GraphDTA report it, in O(n log n).

    Over every pair with ``y_true[i] > y_true[j]``, the fraction with ``y_pred[i] > y_pred[j]``
    (tied predictions count one half); pairs with equal truths are not compared. The items are
    taken in order of truth, a group of equal truths at a time, and a Fenwick tree over the
    prediction ranks counts the earlier (smaller-truth) items predicted lower or equal.

    Returns:
        The index in [0, 1]; NaN when no pair has different truths.
    """
    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} values, y_pred {y_pred.size}")
    ranks = np.unique(y_pred, return_inverse=True)[1] + 1  # 1-based for the tree
    tree = np.zeros(int(ranks.max(initial=0)) + 1, dtype=np.int64)

    def below(rank: int) -> int:  # items inserted so far with prediction rank <= rank
        total = 0
        while rank > 0:
            total += tree[rank]
            rank -= rank & -rank
        return int(total)

    order = np.argsort(y_true, kind="stable")
    bounds = np.flatnonzero(np.diff(y_true[order])) + 1
    score = 0.0
    for group in np.split(order, bounds):
        for i in group:
            lower, lower_or_equal = below(ranks[i] - 1), below(ranks[i])
            score += lower + 0.5 * (lower_or_equal - lower)
        for i in group:
            rank = ranks[i]
            while rank < len(tree):
                tree[rank] += 1
                rank += rank & -rank
    sizes = np.diff(np.concatenate([[0], bounds, [len(order)]]))
    comparable = (len(order) ** 2 - int(np.sum(sizes.astype(np.int64) ** 2))) // 2
    return score / comparable if comparable else math.nan


def rm2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The modified squared correlation r_m^2 as DeepDTA's ``get_rm2`` computes it.

    ``r2`` is the squared Pearson correlation and ``r02`` the coefficient of determination of
    the fit through the origin ``y = k * y_pred`` (``k = sum(y * p) / sum(p^2)``);
    ``rm2 = r2 * (1 - sqrt(|r2^2 - r02^2|))``. DeepDTA (and GraphDTA after it) squares ``r2``
    and ``r02`` inside the root where Roy et al. do not; we follow the code behind the
    published numbers so ours compare with them.
    """
    y, p = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    yc, pc = y - y.mean(), p - p.mean()
    denominator = float(np.sum(yc**2) * np.sum(pc**2))
    if len(y) < 2 or denominator == 0 or not np.any(p):
        return math.nan
    r2 = float(np.sum(yc * pc) ** 2 / denominator)
    k = float(np.sum(y * p) / np.sum(p * p))
    r02 = 1.0 - float(np.sum((y - k * p) ** 2) / np.sum(yc**2))
    return r2 * (1.0 - math.sqrt(abs(r2 * r2 - r02 * r02)))


def affinity_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MSE, RMSE, concordance index, r_m^2, Pearson and Spearman of 1-D affinity predictions."""
    y, p = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    mse = float(np.mean((y - p) ** 2)) if len(y) else math.nan
    return {
        "mse": mse,
        "rmse": math.sqrt(mse),
        "ci": concordance_index(y, p),
        "rm2": rm2(y, p),
        "pearson": pearson(y, p),
        "spearman": spearman(y, p),
    }
