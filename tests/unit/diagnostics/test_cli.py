"""The ``diagnostics`` CLI: train into the common run directory, predict, sample, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from biomodels.cli.diagnostics import app, diagnostic_models

runner = CliRunner()
RUN_FILES = (
    "config.json", "environment.json", "splits.json", "metrics.json", "run.log",
    "predictions_train.csv", "predictions_val.csv", "predictions_test.csv",
    "model/model.json", "model/member_0/weights.safetensors",
)  # fmt: skip


def test_cli_text_train_and_predict_with_bad_rows(tiny_texts: Path, tmp_path: Path) -> None:
    run = tmp_path / "rnn"
    args = ["train", str(tiny_texts), "--model", "rnn", "--out", str(run), "--seed", "1", "--epochs", "3"]
    result = runner.invoke(app, [*args, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "trained rnn" in result.output
    for name in (*RUN_FILES, "plots/roc_pr.png", "plots/confusion_matrix.png", "plots/training_curves.png"):
        assert (run / name).is_file(), name
    assert not (run / "run.json").exists() and not (run / "model.safetensors").exists()
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "rnn" and config["seed"] == 1 and config["sizes"] == [0.7, 0.1, 0.2]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["data"]["sizes"] == {"train": 28, "val": 4, "test": 8}
    assert {"train", "val", "test", "history"} <= set(metrics) and len(
        metrics["history"][0]["train_loss"]
    ) == 3
    assert metrics["test"]["n"] == 8 and len(pd.read_csv(run / "predictions_test.csv")) == 8
    frame = pd.read_csv(tiny_texts)
    rows = pd.DataFrame(
        {
            "text": [frame["text"][0], "", None, frame["text"][15]],
            "label": [frame["label"][0], frame["label"][0], "Flu", frame["label"][15]],
        }
    )
    rows.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["predict", str(run), str(tmp_path / "in.csv"), "-o", str(out), "--top-tokens", "3"]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 4 and table["row"].tolist() == [0, 1, 2, 3]
    assert pd.isna(table["error"][0]) and pd.isna(table["error"][3])
    assert table["error"][1] == "empty text"  # an empty CSV cell (None or "" written) is empty text
    assert table["error"][2].startswith("empty text; label 'Flu' is not one of the model's classes")
    assert table["top_tokens"][0].count(":") == 3 and pd.isna(table["top_tokens"][1])
    assert table.filter(like="prob_").iloc[[0, 3]].sum(1).round(6).tolist() == [1.0, 1.0]
    result = runner.invoke(
        app, ["predict", str(run), str(tmp_path / "in.csv"), "-o", str(out), "--text-col", "symptoms"]
    )
    assert result.exit_code == 2 and "column 'symptoms' not found; columns are: text, label" in result.output


def test_cli_image_train_predict_folder_and_npz(tiny_npz: Path, tmp_path: Path) -> None:
    run = tmp_path / "logreg"
    result = runner.invoke(
        app,
        [
            "train",
            str(tiny_npz),
            "--model",
            "pixel-logreg",
            "--out",
            str(run),
            "--class-names",
            "normal,pneumonia",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert (
        set(metrics["test"]["per_class"]) == {"normal", "pneumonia"} and 0 <= metrics["test"]["roc_auc"] <= 1
    )
    assert metrics["history"] == [] and (run / "model" / "arrays.safetensors").is_file()
    splits = json.loads((run / "splits.json").read_text())
    assert splits["method"] == "predefined" and len(splits["test"]) == 24
    out = tmp_path / "npz.csv"
    assert runner.invoke(app, ["predict", str(run), str(tiny_npz), "-o", str(out)]).exit_code == 0
    table = pd.read_csv(out)
    assert len(table) == 24 and table["id"][0] == "test_0" and table["label"][0] == "normal"
    pd.testing.assert_frame_equal(table, pd.read_csv(run / "predictions_test.csv"))
    folder = tmp_path / "images"
    folder.mkdir()
    from PIL import Image

    Image.fromarray(np.full((28, 28), 90, dtype=np.uint8)).save(folder / "a.png")
    (folder / "b.png").write_bytes(b"garbage")
    Image.fromarray(np.zeros((20, 20), dtype=np.uint8)).save(folder / "c.png")
    result = runner.invoke(app, ["predict", str(run), str(folder), "-o", str(tmp_path / "folder.csv")])
    assert result.exit_code == 0, result.output
    assert "predicted 1 of 3 rows" in result.output
    table = pd.read_csv(tmp_path / "folder.csv")
    assert table["id"].tolist() == ["a.png", "b.png", "c.png"]
    assert (
        table["error"][1].startswith("unreadable image")
        and table["error"][2] == "image is 20x20, expected 28x28"
    )
    result = runner.invoke(app, ["predict", str(run), str(tmp_path / "in.csv"), "-o", str(out)])
    assert result.exit_code == 2 and "reads image data" in result.output
    result = runner.invoke(app, ["predict", str(run), str(tiny_npz), "-o", str(out), "--top-tokens", "2"])
    assert result.exit_code == 2 and "does not report attended tokens" in result.output


def test_cli_gan_and_autoencoder_runs(tiny_npz: Path, tmp_path: Path) -> None:
    from biomodels.report import report_run
    from biomodels.train.run import TrainRunConfig, load_run, train_run

    params = {
        "z_dim": 8, "g_channels": 16, "d_channels": 8, "eval_samples": 20, "device": "cpu",
        "judge_params": {"channels": [8], "epochs": 1},
    }  # fmt: skip
    config = TrainRunConfig(
        data=str(tiny_npz), model="gan", class_names=["normal", "pneumonia"], epochs=2, params=params
    )
    result = train_run(config, tmp_path / "gan")
    assert {"class_consistency_min", "frechet_generated", "frechet_train"} <= set(result.metrics["test"])
    assert [len(h["train_loss"]) for h in result.metrics["history"]] == [2, 1]  # the GAN, then its judge
    assert sorted(p.name for p in (tmp_path / "gan" / "model" / "samples").iterdir()) == [
        "epoch_001.png", "epoch_002.png",
    ]  # fmt: skip
    assert (tmp_path / "gan" / "model" / "member_1" / "weights.safetensors").is_file()  # the judge
    grid = tmp_path / "grid.png"
    result = runner.invoke(
        app, ["sample", str(tmp_path / "gan"), "--n", "4", "--label", "pneumonia", "-o", str(grid)]
    )
    assert result.exit_code == 0, result.output
    assert grid.read_bytes()[:4] == b"\x89PNG"
    out = tmp_path / "gan.csv"
    assert (
        runner.invoke(app, ["predict", str(tmp_path / "gan"), str(tiny_npz), "-o", str(out)]).exit_code == 0
    )
    assert list(pd.read_csv(out).columns[:4]) == ["row", "id", "label", "realness"]
    ae = TrainRunConfig(data=str(tiny_npz), model="autoencoder", epochs=1, params={"normal_class": "1"})
    train_run(ae, tmp_path / "ae")
    drawn = sorted(p.name for p in report_run(tmp_path / "ae"))
    assert drawn == ["anomaly_roc_pr.png", "anomaly_scores.png", "training_curves.png"]
    assert load_run(tmp_path / "ae").model.normal_ == "1"
    result = runner.invoke(app, ["sample", str(tmp_path / "ae"), "-o", str(grid)])
    assert (
        result.exit_code == 2
        and "holds a 'autoencoder' model, which does not generate images" in result.output
    )


def test_cli_errors_are_one_line(tiny_npz: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", str(tmp_path / "nothing"), "-o", str(tmp_path / "g.png")])
    assert result.exit_code == 2 and "run directory not found" in result.output
    result = runner.invoke(app, ["train", str(tiny_npz), "--model", "svm", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "unknown diagnostic model 'svm'; choose one of:" in result.output
    result = runner.invoke(app, ["train", str(tiny_npz), "--model", "dmpnn", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "unknown diagnostic model 'dmpnn'" in result.output
    result = runner.invoke(
        app, ["train", str(tiny_npz), "-m", "cnn", "-o", str(tmp_path / "r"), "--judge", "x"]
    )
    assert result.exit_code == 2 and "model 'cnn' takes no parameter 'judge'" in result.output


def test_cli_lists_the_registry_and_imports_no_torch() -> None:
    from biomodels.registry import MODELS

    assert diagnostic_models() == MODELS.names(input="image") + MODELS.names(input="text")
    assert {"cnn", "gan", "rnn", "bow-logreg"} <= set(diagnostic_models())
    code = "import sys, biomodels.cli.diagnostics; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr[-2000:]
