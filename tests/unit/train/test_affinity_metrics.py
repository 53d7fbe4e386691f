"""Affinity metrics: the O(n log n) concordance index against its O(n^2) definition, r_m^2."""

from __future__ import annotations

import math

import numpy as np
import pytest

from biomodels.train.metrics import affinity_metrics, concordance_index, rm2


def concordance_by_definition(y: np.ndarray, p: np.ndarray) -> float:
    """Every pair with y_i > y_j: 1 if p_i > p_j, 1/2 if p_i == p_j (DeepDTA's get_cindex)."""
    score = pairs = 0.0
    for i in range(len(y)):
        for j in range(len(y)):
            if y[i] > y[j]:
                pairs += 1
                score += 1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0
    return score / pairs


@pytest.mark.parametrize("seed", range(6))
def test_concordance_index_matches_the_quadratic_definition_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    y = rng.integers(0, 6, n).astype(float)  # many ties in truth and in predictions
    p = rng.integers(0, 4, n) + (rng.random(n) if seed % 2 else 0.0)
    if np.ptp(y) == 0:
        y[0] += 1
    assert concordance_index(y, p) == pytest.approx(concordance_by_definition(y, p), abs=1e-12)


def test_concordance_index_extremes():
    y = np.arange(10.0)
    assert concordance_index(y, y * 2) == 1.0
    assert concordance_index(y, -y) == 0.0
    assert concordance_index(y, np.zeros(10)) == 0.5
    assert math.isnan(concordance_index(np.ones(4), np.arange(4.0)))


def test_rm2_is_one_for_perfect_predictions_and_lower_for_noisy_ones():
    rng = np.random.default_rng(0)
    y = rng.normal(7, 1, 200)
    assert rm2(y, y) == pytest.approx(1.0)
    assert 0 < rm2(y, y + rng.normal(0, 0.5, 200)) < 0.9


def test_affinity_metrics_reports_every_score():
    y = np.array([5.0, 6.0, 7.0, 8.0])
    scores = affinity_metrics(y, np.array([5.5, 6.0, 6.5, 8.5]))
    assert scores["mse"] == pytest.approx(0.1875)
    assert scores["ci"] == 1.0 and scores["spearman"] == pytest.approx(1.0)
    assert set(scores) == {"mse", "rmse", "ci", "rm2", "pearson", "spearman"}
