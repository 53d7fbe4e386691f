"""``report_run`` draws what the run directory's files hold: classifier, anomaly, regression plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from biomodels.exceptions import CheckpointError
from biomodels.report.run import draw_anomaly_plots, draw_classification_plots, report_run

HISTORY = {"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "val_metrics": [{}, {}], "lr": [1e-3, 1e-4],
           "best_epoch": 1}  # fmt: skip


def _run(tmp_path: Path, frame: pd.DataFrame, data: dict | None = None) -> Path:
    tmp_path.mkdir(exist_ok=True)
    metrics = {"test": {}, "history": [HISTORY], "data": data or {}}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    frame.to_csv(tmp_path / "predictions_test.csv", index=False)
    return tmp_path


def _png(path: Path) -> bool:
    data = path.read_bytes()
    return data[:4] == b"\x89PNG" and len(data) > 5_000


def test_classifier_run_gets_roc_pr_and_confusion_matrix(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=(30, 3))
    p /= p.sum(1, keepdims=True)
    classes = np.array(["a", "b", "c"], dtype=object)
    frame = pd.DataFrame({"row": range(30), "id": range(30), "label": classes[rng.integers(0, 3, 30)],
                          "prediction": classes[p.argmax(1)]})  # fmt: skip
    for i, c in enumerate(classes):
        frame[f"prob_{c}"] = p[:, i]
    frame["error"] = None
    frame.loc[3, "error"] = "missing text"
    paths = report_run(_run(tmp_path, frame))
    assert [q.name for q in paths] == ["training_curves.png", "roc_pr.png", "confusion_matrix.png"]
    assert all(_png(q) and q.parent == tmp_path / "plots" for q in paths)


def test_anomaly_run_gets_score_plots_not_target_plots(tmp_path: Path) -> None:
    scores = np.r_[np.linspace(0.1, 0.5, 10), np.linspace(0.4, 1.0, 10)]
    frame = pd.DataFrame({"row": range(20), "id": range(20), "label": ["normal"] * 10 + ["sick"] * 10,
                          "anomalous_true": [False] * 10 + [True] * 10, "reconstruction_mse": scores,
                          "anomaly_score": scores, "anomalous": scores > 0.45, "error": None})  # fmt: skip
    paths = report_run(_run(tmp_path, frame))
    assert [q.name for q in paths] == ["training_curves.png", "anomaly_roc_pr.png", "anomaly_scores.png"]
    assert draw_classification_plots(frame, tmp_path) == []


def test_regression_run_without_std_gets_parity(tmp_path: Path) -> None:
    y = np.linspace(0, 1, 12)
    frame = pd.DataFrame({"row": range(12), "id": range(12), "y_true": y, "y": y + 0.05, "error": None})
    paths = report_run(_run(tmp_path, frame, {"task": "regression"}))
    assert [q.name for q in paths] == ["training_curves.png", "parity.png"] and _png(paths[1])
    assert draw_anomaly_plots(frame, tmp_path) == []


def test_report_needs_metrics(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no metrics.json"):
        report_run(tmp_path)
