"""Plots write real image files atomically and leave pyplot's global state alone."""

from __future__ import annotations

import math
import sys

import matplotlib
import numpy as np
import pytest

from biomodels.report.plots import (
    plot_confusion_matrix,
    plot_histogram,
    plot_parity,
    plot_roc_pr,
    plot_training_curves,
)
from biomodels.train.trainer import TrainHistory

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 5_000
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_training_curves_from_history_and_from_json_dict(tmp_path):
    history = TrainHistory(
        train_loss=[1.0, 0.6, 0.4],
        val_loss=[1.1, 0.7, 0.8],
        val_metrics=[{"rmse": 1.0}, {"rmse": 0.8}, {"rmse": math.nan}],
        lr=[1e-4, 1e-3, 5e-4],
        seconds=[1, 1, 1],
        best_epoch=1,
        best_score=0.7,
    )
    assert plot_training_curves(history, tmp_path / "curves.png") == tmp_path / "curves.png"
    assert_png(tmp_path / "curves.png")
    as_json = history.to_dict() | {"val_loss": [None, None, None], "val_metrics": [{}, {}, {}]}
    assert_png(plot_training_curves(as_json, tmp_path / "no_val.png"))


def test_parity_with_and_without_std(tmp_path, rng):
    y = rng.normal(size=100)
    pred = y + rng.normal(scale=0.3, size=100)
    y[3] = np.nan
    assert_png(plot_parity(y, pred, tmp_path / "parity.png", title="logS"))
    assert_png(plot_parity(y, pred, tmp_path / "parity_std.png", y_std=np.full(100, 0.3)))


def test_roc_pr_single_multitask_and_multiclass(tmp_path, rng):
    y = rng.integers(0, 2, size=(80, 3)).astype(float)
    score = np.clip(y * 0.4 + rng.uniform(size=(80, 3)) * 0.6, 0, 1)
    y[:10, 1] = np.nan
    y[:, 2] = 1.0  # single class: skipped, not an error
    assert_png(plot_roc_pr(y[:, 0], score[:, 0], tmp_path / "roc.png"))
    assert_png(plot_roc_pr(y, score, tmp_path / "roc_tasks.png", names=["a", "b", "c"]))
    classes = rng.integers(0, 3, size=60)
    probs = rng.dirichlet(np.ones(3), size=60)
    assert_png(plot_roc_pr(classes, probs, tmp_path / "roc_multi.png", title="3 classes"))
    with pytest.raises(ValueError, match="2 names for 3 curves"):
        plot_roc_pr(y, score, tmp_path / "bad.png", names=["a", "b"])


def test_confusion_matrix_and_histograms(tmp_path, rng):
    y_true, y_pred = rng.integers(0, 3, size=50), rng.integers(0, 3, size=50)
    assert_png(plot_confusion_matrix(y_true, y_pred, ["benign", "malignant", "normal"], tmp_path / "cm.png"))
    assert_png(plot_histogram(rng.normal(size=500), tmp_path / "hist.png", title="MW"))
    assert_png(
        plot_histogram(
            {"train": rng.normal(size=300), "generated": [0.5, np.nan, 2.0]},
            tmp_path / "overlay.png",
            density=True,
        )
    )


def test_other_formats_follow_the_suffix(tmp_path, rng):
    path = plot_histogram(rng.normal(size=20), tmp_path / "hist.svg")
    assert path.read_text().lstrip().startswith("<?xml")


def test_pyplot_and_backend_untouched(tmp_path, rng):
    backend = matplotlib.get_backend() if "matplotlib.pyplot" in sys.modules else None
    plot_parity(rng.normal(size=10), rng.normal(size=10), tmp_path / "p.png")
    if backend is None:
        assert "matplotlib.pyplot" not in sys.modules
    else:
        assert matplotlib.get_backend() == backend
