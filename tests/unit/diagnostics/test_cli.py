"""The ``diagnostics`` CLI: train + predict on tiny subsets, sample, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from biomodels.cli.diagnostics import app

runner = CliRunner()


def test_cli_text_train_and_predict_with_bad_rows(tiny_texts: Path, tmp_path: Path) -> None:
    run = tmp_path / "rnn"
    result = runner.invoke(
        app,
        [
            "train",
            str(tiny_texts),
            "--model",
            "rnn",
            "--out",
            str(run),
            "--seed",
            "1",
            "--epochs",
            "3",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "trained rnn" in result.output
    record = json.loads((run / "run.json").read_text())
    assert record["sizes"] == {"train": 28, "val": 4, "test": 8} and record["seed"] == 1
    for name in (
        "config.json",
        "model.safetensors",
        "metrics.json",
        "history.json",
        "predictions_test.csv",
        "roc_pr.png",
        "confusion_matrix.png",
        "training_curves.png",
    ):
        assert (run / name).is_file(), name
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
    assert table["error"][1] == "missing text"  # an empty CSV cell is read as missing
    assert table["error"][2].startswith("missing text; label 'Flu' is not one of the model's classes")
    assert table["top_tokens"][0].count(":") == 3 and pd.isna(table["top_tokens"][1])
    assert table.filter(like="prob_").iloc[[0, 3]].sum(1).round(6).tolist() == [1.0, 1.0]


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
    assert set(metrics["per_class"]) == {"normal", "pneumonia"} and 0 <= metrics["roc_auc"] <= 1
    out = tmp_path / "npz.csv"
    assert runner.invoke(app, ["predict", str(run), str(tiny_npz), "-o", str(out)]).exit_code == 0
    table = pd.read_csv(out)
    assert len(table) == 24 and table["id"][0] == "test_0" and table["label"][0] == "normal"
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


def test_cli_gan_sample_and_errors(tiny_npz: Path, tmp_path: Path) -> None:
    from biomodels.diagnostics import ConditionalGANEstimator
    from biomodels.io.images import read_npz_images

    train = read_npz_images(tiny_npz, "train", ["normal", "pneumonia"])
    gan = ConditionalGANEstimator(z_dim=8, g_channels=16, d_channels=8, epochs=1)
    gan.fit(train.images, train.labels, classes=train.classes).save(tmp_path / "gan")
    grid = tmp_path / "grid.png"
    result = runner.invoke(
        app, ["sample", str(tmp_path / "gan"), "--n", "4", "--label", "pneumonia", "-o", str(grid)]
    )
    assert result.exit_code == 0, result.output
    assert grid.read_bytes()[:4] == b"\x89PNG"
    result = runner.invoke(
        app, ["predict", str(tmp_path / "gan"), str(tiny_npz), "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2
    assert "a GAN does not predict; use `biomodels diagnostics sample`" in result.output
    result = runner.invoke(app, ["sample", str(tmp_path / "nothing"), "-o", str(grid)])
    assert result.exit_code == 2 and "no config.json; not a biomodels run directory" in result.output
    result = runner.invoke(app, ["train", str(tiny_npz), "--model", "svm", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "unknown diagnostic model 'svm'; choose one of:" in result.output
