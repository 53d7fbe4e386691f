"""Evaluation helpers agree with scikit-learn / closed forms on fixed examples."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from biomodels.diagnostics.evaluate import (
    anomaly_metrics,
    class_consistency,
    classification_metrics,
    frechet_distance,
    frechet_from_statistics,
    gaussian_statistics,
)
from biomodels.diagnostics.imagegrid import image_grid

Y = np.array([0, 0, 1, 1, 2, 2, 2, 1])
P = np.array([
    [0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3],
    [0.1, 0.1, 0.8], [0.5, 0.1, 0.4], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4],
])  # fmt: skip


def test_multiclass_metrics_match_sklearn() -> None:
    result = classification_metrics(Y, P, ["a", "b", "c"])
    pred = P.argmax(1)
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(Y, pred)) == pytest.approx(5 / 8)
    assert result["precision_macro"] == pytest.approx(skm.precision_score(Y, pred, average="macro"))
    assert result["recall_macro"] == pytest.approx(skm.recall_score(Y, pred, average="macro"))
    assert result["f1_macro"] == pytest.approx(skm.f1_score(Y, pred, average="macro"))
    assert result["roc_auc_ovr"] == pytest.approx(skm.roc_auc_score(Y, P, multi_class="ovr"))
    expected_ap = np.mean([skm.average_precision_score(np.equal(Y, c), P[:, c]) for c in range(3)])
    assert result["pr_auc_ovr"] == pytest.approx(expected_ap)
    assert result["confusion_matrix"] == skm.confusion_matrix(Y, pred).tolist()
    assert result["per_class"]["b"]["recall"] == pytest.approx(2 / 3)
    assert result["per_class"]["c"]["support"] == 3
    assert "roc_auc" not in result


def test_binary_metrics_report_positive_class() -> None:
    y = np.array([0, 0, 1, 1, 1, 0])
    p1 = np.array([0.1, 0.6, 0.7, 0.4, 0.9, 0.2])
    result = classification_metrics(y, np.c_[1 - p1, p1], ["normal", "pneumonia"])
    assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p1)) == pytest.approx(8 / 9)
    assert result["pr_auc"] == pytest.approx(skm.average_precision_score(y, p1))
    assert result["roc_auc_ovr"] == pytest.approx(result["roc_auc"])


def test_anomaly_metrics() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.25, 0.8])
    anomalous = np.array([False, False, False, True, True, True])
    result = anomaly_metrics(scores, anomalous)
    assert (
        result["anomaly_roc_auc"]
        == pytest.approx(skm.roc_auc_score(anomalous, scores))
        == pytest.approx(8 / 9)
    )
    assert result["reconstruction_mse_normal"] == pytest.approx(0.2)
    assert result["reconstruction_mse_anomalous"] == pytest.approx(0.65)


def test_frechet_distance_closed_forms() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, 2.0, 0.0, 0.0])
    assert frechet_distance(a, a + shift) == pytest.approx(5.0, rel=1e-6)
    # isotropic Gaussians with std 1 and 2: d = D * (1 - 2)^2 for the covariance term
    cov_term = frechet_distance(a, 2 * a) - np.sum(a.mean(0) ** 2)
    assert cov_term == pytest.approx(np.trace(np.cov(a, rowvar=False)), rel=1e-6)


def test_class_consistency() -> None:
    result = class_consistency(
        ["x", "x", "y", "x", "y", "y"], ["x", "x", "x", "y", "y", "y"], ["x", "y", "z"]
    )
    assert result["x"] == pytest.approx(2 / 3) and result["y"] == pytest.approx(2 / 3)
    assert np.isnan(result["z"])


def test_frechet_from_statistics_matches_features() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(150, 3)) * 1.5 + 0.3
    mu, cov = gaussian_statistics(a)
    assert mu.shape == (3,) and cov.shape == (3, 3)
    assert frechet_from_statistics(mu, cov, *gaussian_statistics(b)) == pytest.approx(frechet_distance(a, b))
    assert frechet_from_statistics(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-6)


def test_image_grid_layout() -> None:
    grid = image_grid(np.zeros((5, 4, 3)), ncol=2, gap=1)
    assert grid.shape == (3 * 5 - 1, 2 * 4 - 1)
    assert grid[0, 0] == 0 and grid[4, 0] == 1 and grid[-4:, -3:].min() == 1  # gap row, empty cell
