"""``biomodels report RUN``: redraw a finished run's figures from its directory alone."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from biomodels.cli.main import app

runner = CliRunner()


def _finished_run(run, task: str) -> None:
    """The files ``report_run`` reads: ``metrics.json`` (task, history), ``predictions_test.csv``."""
    run.mkdir()
    history = {
        "train_loss": [1.0, 0.6, 0.5],
        "val_loss": [1.1, 0.8, 0.9],
        "val_metrics": [{"rmse": 1.0}, {"rmse": 0.8}, {"rmse": 0.9}],
        "lr": [1e-3, 5e-4, 1e-4],
        "best_epoch": 1,
    }
    metrics = {"data": {"task": task}, "history": [history]}
    (run / "metrics.json").write_text(json.dumps(metrics))
    rng = np.random.default_rng(0)
    truth = rng.normal(size=20) if task == "regression" else np.arange(20) % 2
    frame = pd.DataFrame({"id": range(20), "y_true": truth, "y": rng.random(20), "y_std": rng.random(20)})
    frame.to_csv(run / "predictions_test.csv", index=False)


def test_report_redraws_the_plots_and_prints_their_paths(tmp_path):
    run = tmp_path / "run"
    _finished_run(run, "regression")
    (run / "plots").mkdir()
    (run / "plots" / "parity.png").write_bytes(b"stale")
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    expected = [run / "plots" / "training_curves.png", run / "plots" / "parity.png"]
    assert result.output.splitlines() == [str(p) for p in expected]
    for path in expected:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # redrawn, the stale file replaced


def test_report_of_a_classifier_draws_roc_and_pr_curves(tmp_path):
    run = tmp_path / "clf"
    _finished_run(run, "binary")
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == str(run / "plots" / "roc_pr.png")
    assert (run / "plots" / "roc_pr.png").stat().st_size > 1000


def test_report_of_a_folder_that_is_not_a_run_is_one_line_error(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error") and "no metrics.json" in lines[0]
