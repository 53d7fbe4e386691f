"""Metrics agree with scikit-learn, skip missing labels per task and flag undefined AUCs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from biomodels.train.metrics import (
    calibration_metrics,
    compute_metrics,
    miscalibration_area,
)

NAN = math.nan


def test_regression_matches_sklearn_and_skips_nan():
    y_true = np.array([[1.0, NAN], [2.0, 0.5], [3.5, 1.0], [NAN, 2.0], [0.0, -1.0]])
    y_pred = np.array([[1.2, 9.0], [1.5, 0.7], [3.0, 1.1], [9.0, 1.5], [0.4, -0.2]])
    result = compute_metrics("regression", y_true, y_pred, task_names=["a", "b"])
    for t, name in enumerate("ab"):
        keep = ~np.isnan(y_true[:, t])
        yt, yp = y_true[keep, t], y_pred[keep, t]
        scores = result["per_task"][name]
        assert scores["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(yt, yp)))
        assert scores["mae"] == pytest.approx(skm.mean_absolute_error(yt, yp))
        assert scores["r2"] == pytest.approx(skm.r2_score(yt, yp))
    assert result["mean"]["rmse"] == pytest.approx(np.mean([result["per_task"][n]["rmse"] for n in "ab"]))
    assert result["notes"] == []


def test_binary_matches_sklearn():
    y_true = np.array([0, 1, 1, 0, 1, 0, 1, NAN])
    y_prob = np.array([0.1, 0.8, 0.4, 0.3, 0.9, 0.6, 0.7, 0.99])
    scores = compute_metrics("binary", y_true, y_prob)["per_task"]["task_0"]
    yt, yp = y_true[:-1].astype(int), y_prob[:-1]
    hard = (yp >= 0.5).astype(int)
    assert scores == pytest.approx(
        {
            "roc_auc": skm.roc_auc_score(yt, yp),
            "pr_auc": skm.average_precision_score(yt, yp),
            "accuracy": skm.accuracy_score(yt, hard),
            "f1": skm.f1_score(yt, hard),
            "mcc": skm.matthews_corrcoef(yt, hard),
        }
    )


def test_single_class_task_has_nan_auc_a_note_and_is_left_out_of_the_mean():
    y_true = np.array([[0, 1], [1, 1], [0, 1], [1, NAN]])
    y_prob = np.array([[0.2, 0.9], [0.7, 0.8], [0.4, 0.6], [0.9, 0.1]])
    result = compute_metrics("binary", y_true, y_prob, task_names=["mixed", "ones"])
    assert math.isnan(result["per_task"]["ones"]["roc_auc"])
    assert result["per_task"]["ones"]["accuracy"] == 1.0
    assert result["mean"]["roc_auc"] == result["per_task"]["mixed"]["roc_auc"] == 1.0
    assert any("ones" in note and "one class" in note for note in result["notes"])


def test_task_without_labels_is_all_nan_with_note():
    y_true = np.array([[1.0, NAN], [2.0, NAN], [3.0, NAN]])
    result = compute_metrics("regression", y_true, np.zeros((3, 2)))
    assert all(math.isnan(v) for v in result["per_task"]["task_1"].values())
    assert not math.isnan(result["mean"]["rmse"])
    assert "task_1: no observed labels" in result["notes"][0]


def test_multiclass_matches_sklearn():
    rng = np.random.default_rng(0)
    y_true = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0, 1])
    probs = rng.dirichlet(np.ones(3), size=10)
    scores = compute_metrics("multiclass", y_true, probs)["per_task"]["task_0"]
    hard = probs.argmax(1)
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y_true, hard))
    assert scores["f1_macro"] == pytest.approx(skm.f1_score(y_true, hard, average="macro"))
    assert scores["roc_auc_ovr"] == pytest.approx(
        skm.roc_auc_score(y_true, probs, multi_class="ovr", average="macro")
    )


def test_multiclass_multitask_skips_nan_and_absent_classes():
    y_true = np.array([[0, NAN], [1, 0], [0, 0], [1, NAN]])
    probs = np.full((4, 2, 3), 1 / 3)
    probs[:, 0] = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]]
    result = compute_metrics("multiclass", y_true, probs)
    assert result["per_task"]["task_0"]["roc_auc_ovr"] == 1.0
    assert math.isnan(result["per_task"]["task_1"]["roc_auc_ovr"])


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="choose one of"):
        compute_metrics("ranking", np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="does not fit"):
        compute_metrics("regression", np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="sigmoid"):
        compute_metrics("binary", np.array([0, 1]), np.array([-2.0, 3.0]))


def test_calibration_error_proportional_to_std():
    rng = np.random.default_rng(0)
    std = rng.uniform(0.1, 2.0, size=2000)
    y_pred = rng.normal(size=2000)
    y_true = y_pred + rng.normal(size=2000) * std  # errors drawn from N(0, std): calibrated
    scores = calibration_metrics(y_true, y_pred, std)
    assert scores["spearman_abs_error_std"] > 0.3
    assert scores["miscalibration_area"] < 0.03
    overconfident = miscalibration_area(y_true, y_pred, std / 10)
    assert overconfident > 0.3
    result = compute_metrics("regression", y_true, y_pred, y_std=std)
    assert result["mean"]["spearman_abs_error_std"] == pytest.approx(scores["spearman_abs_error_std"])


def test_numpy_regression_and_rank_metrics_equal_scipy_and_sklearn() -> None:
    from scipy import stats
    from sklearn import metrics as skm

    from biomodels.train.metrics import pearson, regression_metrics, spearman

    rng = np.random.default_rng(3)
    y = rng.normal(size=200)
    p = y + rng.normal(scale=0.5, size=200)
    ties = np.round(p, 1)  # many tied values
    got = regression_metrics(y, p)
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, p)), rel=1e-12)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-12)
    assert got["r2"] == pytest.approx(skm.r2_score(y, p), rel=1e-12)
    assert regression_metrics(np.ones(3), np.ones(3))["r2"] == skm.r2_score(np.ones(3), np.ones(3))
    assert regression_metrics(np.ones(3), np.zeros(3))["r2"] == skm.r2_score(np.ones(3), np.zeros(3))
    assert pearson(y, p) == pytest.approx(stats.pearsonr(y, p).statistic, rel=1e-12)
    assert spearman(y, ties) == pytest.approx(stats.spearmanr(y, ties).statistic, rel=1e-12)
    assert math.isnan(spearman(y, np.zeros(200)))


def test_interval_coverage_uses_normal_quantiles() -> None:
    from biomodels.train.metrics import interval_coverage

    # |error| = 1.96 std sits on the edge of the 95% interval: inside at 0.96, outside at 0.94
    coverage = interval_coverage(np.array([1.96]), np.array([0.0]), np.array([1.0]), np.array([0.94, 0.96]))
    assert coverage.tolist() == [0.0, 1.0]
