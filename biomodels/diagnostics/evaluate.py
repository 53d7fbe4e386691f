"""Evaluation of the diagnostic models, with scikit-learn metrics.

- :func:`classification_metrics`: accuracy, precision / recall / F1 (macro and per class),
  ROC-AUC and PR-AUC (one-vs-rest; plus the positive-class values for two classes), confusion
  matrix.
- :func:`anomaly_metrics`: reconstruction MSE and the ROC-AUC of the anomaly score.
- :func:`frechet_distance` (:func:`gaussian_statistics`, :func:`frechet_from_statistics`),
  :func:`class_consistency` and :func:`gan_metrics`: quality of generated images judged by a
  trained image classifier (penultimate features, predictions).

Plots of these (ROC / PR curves, confusion matrices, anomaly-score histograms) are drawn from a
run directory's files by :mod:`biomodels.report.run`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from biomodels.train.metrics import multiclass_metrics

__all__ = [
    "anomaly_metrics",
    "class_consistency",
    "classification_metrics",
    "frechet_distance",
    "frechet_from_statistics",
    "gan_metrics",
    "gaussian_statistics",
]


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """Scores of class probabilities against integer labels.

    Args:
        y_true: ``n`` class indices into ``classes``.
        probs: ``n x C`` probabilities (predicted class = argmax).
        classes: class names.

    Returns:
        ``accuracy``, ``precision_macro``, ``recall_macro``, ``f1_macro``, ``roc_auc_ovr`` and
        ``pr_auc_ovr`` (means of the one-vs-rest values over the classes present), ``roc_auc``
        and ``pr_auc`` of the second class for two-class problems, ``per_class`` (precision,
        recall, F1, support, ROC-AUC, PR-AUC per class name), ``confusion_matrix`` (rows: true,
        columns: predicted) and ``n``. Values undefined for lack of a class are NaN.
    """
    y_true = np.asarray(y_true).astype(int)
    probs = np.asarray(probs, dtype=float)
    y_pred = probs.argmax(1)
    k = len(classes)
    shared = multiclass_metrics(y_true, probs)  # accuracy, f1_macro, roc_auc_ovr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        precision, recall, f1, support = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=range(k), zero_division=0
        )
        macro = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=range(k), average="macro", zero_division=0
        )
    present = set(np.unique(y_true).tolist())
    roc = [
        skm.roc_auc_score(y_true == c, probs[:, c]) if c in present and len(present) > 1 else math.nan
        for c in range(k)
    ]
    pr = [
        skm.average_precision_score(y_true == c, probs[:, c]) if c in present else math.nan for c in range(k)
    ]
    result: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": shared["accuracy"],
        "precision_macro": float(macro[0]),
        "recall_macro": float(macro[1]),
        "f1_macro": shared["f1_macro"],
        "roc_auc_ovr": shared["roc_auc_ovr"],
        "pr_auc_ovr": _nanmean(pr),
    }
    if k == 2:
        result["roc_auc"], result["pr_auc"] = float(roc[1]), float(pr[1])
    result["per_class"] = {
        name: {
            "precision": float(precision[c]),
            "recall": float(recall[c]),
            "f1": float(f1[c]),
            "support": int(support[c]),
            "roc_auc": float(roc[c]),
            "pr_auc": float(pr[c]),
        }
        for c, name in enumerate(classes)
    }
    result["confusion_matrix"] = skm.confusion_matrix(y_true, y_pred, labels=range(k)).tolist()
    return result


def anomaly_metrics(
    errors: np.ndarray, is_anomaly: np.ndarray, scores: np.ndarray | None = None
) -> dict[str, float]:
    """Reconstruction MSE of normal and anomalous rows and how well the anomaly score ranks them.

    Args:
        errors: ``n`` mean squared reconstruction errors.
        is_anomaly: ``n`` bool, True for rows of the abnormal classes.
        scores: ``n`` anomaly scores; defaults to ``errors``.

    Returns:
        ``reconstruction_mse`` (all, ``_normal``, ``_anomalous``), ``anomaly_roc_auc`` and
        ``anomaly_pr_auc`` of the scores, and ``mse_roc_auc``, the ROC-AUC of the plain errors
        (below 0.5 when abnormal images are easier to reconstruct than normal ones).
    """
    errors = np.asarray(errors, dtype=float)
    scores = errors if scores is None else np.asarray(scores, dtype=float)
    is_anomaly = np.asarray(is_anomaly, dtype=bool)
    both = 0 < is_anomaly.sum() < len(is_anomaly)
    return {
        "reconstruction_mse": float(errors.mean()),
        "reconstruction_mse_normal": float(errors[~is_anomaly].mean()) if (~is_anomaly).any() else math.nan,
        "reconstruction_mse_anomalous": float(errors[is_anomaly].mean()) if is_anomaly.any() else math.nan,
        "anomaly_roc_auc": float(skm.roc_auc_score(is_anomaly, scores)) if both else math.nan,
        "anomaly_pr_auc": float(skm.average_precision_score(is_anomaly, scores)) if both else math.nan,
        "mse_roc_auc": float(skm.roc_auc_score(is_anomaly, errors)) if both else math.nan,
    }


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``D`` and covariance ``D x D`` of ``n x D`` features (``n >= 2``), in float64."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(0), np.atleast_2d(np.cov(features, rowvar=False))


def frechet_from_statistics(
    mu_a: np.ndarray, cov_a: np.ndarray, mu_b: np.ndarray, cov_b: np.ndarray
) -> float:
    """Frechet distance between two Gaussians (the FID formula).

    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with :func:`scipy.linalg.sqrtm`; the
    tiny imaginary part numerical error leaves in the square root is dropped.
    """
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():  # singular product: regularise as in the reference FID code
        offset = np.eye(len(cov_a)) * 1e-6
        root = scipy.linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    value = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(np.real(root))
    return float(max(value, 0.0))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (:func:`frechet_from_statistics`).

    Shapes:
        features_a: ``n_a x D``; features_b: ``n_b x D`` (each ``n >= 2``).
    """
    return frechet_from_statistics(*gaussian_statistics(features_a), *gaussian_statistics(features_b))


def class_consistency(
    predicted: Sequence[Any], intended: Sequence[Any], classes: Sequence[str]
) -> dict[str, float]:
    """Per class, the share of images generated for it that a classifier assigns to it.

    Args:
        predicted: the classifier's class name per generated image.
        intended: the class each image was generated for.
        classes: class names to report (a class without generated images gets NaN).
    """
    predicted, intended = np.asarray(predicted, dtype=object), np.asarray(intended, dtype=object)
    out = {}
    for name in classes:
        rows = intended == name
        out[str(name)] = float((predicted[rows] == name).mean()) if rows.any() else math.nan
    return out


def gan_metrics(
    gan: Any,
    judge: Any,
    real: np.ndarray,
    reference: tuple[np.ndarray, np.ndarray] | None = None,
    n_per_class: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """Class consistency and Frechet distances of a conditional GAN, judged by an image classifier.

    Args:
        gan: a fitted ``gan`` estimator (``classes_``, ``sample(n, label, seed)``).
        judge: a fitted image classifier with the same class names (``predict_labels``, ``embed``).
        real: ``n x H x W`` real images in ``[0, 1]`` (``n >= 2``), e.g. the test partition.
        reference: mean and covariance of the judge's features of the real training images
            (:func:`gaussian_statistics`), for ``frechet_train``; left out when None.
        n_per_class: generated images per class.
        seed: noise seed.

    Returns:
        ``class_consistency`` (per class), ``class_consistency_min``, ``frechet_generated``
        (all generated images vs ``real``, in the judge's penultimate features),
        ``frechet_train`` (real training vs ``real`` images: the floor a perfect generator
        would reach, given finite samples) and ``n_generated``.
    """
    generated = np.concatenate(
        [gan.sample(n_per_class, c, seed=seed + i) for i, c in enumerate(gan.classes_)]
    )
    intended = np.repeat(np.array(gan.classes_, dtype=object), n_per_class)
    consistency = class_consistency(judge.predict_labels(generated), intended, gan.classes_)
    real_stats = gaussian_statistics(judge.embed(real))
    result: dict[str, Any] = {
        "class_consistency": consistency,
        "class_consistency_min": float(min(consistency.values())),
        "frechet_generated": frechet_from_statistics(
            *gaussian_statistics(judge.embed(generated)), *real_stats
        ),
    }
    if reference is not None:
        result["frechet_train"] = frechet_from_statistics(*reference, *real_stats)
    result["n_generated"] = len(generated)
    return result


def _nanmean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan
