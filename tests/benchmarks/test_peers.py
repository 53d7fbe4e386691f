"""Benchmark helpers for peers run in the same run: split files, run rebuilding, "not measured"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from biomodels.data.splits import load_split_file


def test_splits_file_round_trips_through_the_training_reader(peers, tmp_path):
    split = {"train": np.array([0, 2, 5]), "val": [4], "test": np.array([1, 3], dtype=np.int32)}
    path = peers.write_splits_file(tmp_path / "sub" / "splits.json", [split])
    back = load_split_file(path, 6)  # what `biomodels train --split-file` reads
    for name in ("train", "val", "test"):
        assert getattr(back, name).tolist() == sorted(np.asarray(split[name]).tolist())
    assert json.loads(path.read_text())[0]["train"] == [0, 2, 5]  # chemprop's list-of-objects form


def test_find_chemprop(peers, tmp_path, monkeypatch):
    assert peers.find_chemprop(tmp_path / "absent") is None
    exe = tmp_path / "chemprop"
    exe.write_text("#!/bin/sh\n")
    assert peers.find_chemprop(exe) is None  # not executable
    exe.chmod(0o755)
    assert peers.find_chemprop(exe) == exe
    assert peers.find_chemprop(exe, peer="none") is None
    monkeypatch.setenv("BIOMODELS_CHEMPROP", str(exe))
    assert peers.find_chemprop() == exe


def test_default_chemprop_is_the_peer_venv(peers, monkeypatch):
    monkeypatch.delenv("BIOMODELS_CHEMPROP", raising=False)
    default = peers.default_chemprop()
    if not default.is_file():
        pytest.skip(f"no chemprop venv at {default} (shared/tools/chemprop-venv.sh builds it)")
    assert peers.find_chemprop() == default


def test_train_command_uses_our_split_seed_and_epochs(peers, tmp_path):
    command = peers.chemprop_train_command(
        Path("chemprop"), tmp_path / "d.csv", ["a", "b"], tmp_path / "out", task="binary",
        splits_file=tmp_path / "s.json", seed=3, epochs=50,
    )  # fmt: skip
    text = " ".join(command)
    assert "--splits-file" in command and "-t classification" in text and "--target-columns a b" in text
    assert "--epochs 50" in text and "--data-seed 3" in text and "--pytorch-seed 3" in text
    assert "--warmup-epochs" not in command  # chemprop's defaults otherwise
    short = peers.chemprop_train_command(
        Path("chemprop"), tmp_path / "d.csv", ["a"], tmp_path / "o", epochs=1
    )
    assert " ".join(short).endswith("--warmup-epochs 0")


@pytest.mark.parametrize("layout", ["truth_pred", "true_prediction"])
def test_valid_molecules_follow_the_split(moleculenet, peers, tmp_path, layout):
    split = {"train": np.array([0, 3]), "val": np.array([2]), "test": np.array([1])}
    peers.write_splits_file(tmp_path / "splits.json", [split])
    (tmp_path / "splits.json").write_text(
        json.dumps({"method": "random", **json.loads((tmp_path / "splits.json").read_text())[0]})
    )
    smiles = ["C", "CC", "CCC", "CCCC"]
    rows = [0, 2, 3, 5]  # file records; 1 and 4 were invalid
    for name, idx in split.items():
        frame = pd.DataFrame({"row": [rows[i] for i in idx], "id": idx, "smiles": [smiles[i] for i in idx]})
        if layout == "truth_pred":  # truth under the target's name, prediction as <target>_pred
            frame["y"], frame["y_pred"] = idx * 1.5, 0.5
        else:  # truth as <target>_true, prediction under the target's name
            frame["y_true"], frame["y"] = idx * 1.5, 0.5
        frame.to_csv(tmp_path / f"predictions_{name}.csv", index=False)
    read = moleculenet.run_split(tmp_path)
    assert {k: v.tolist() for k, v in read.items()} == {k: v.tolist() for k, v in split.items()}
    valid = moleculenet.valid_molecules(tmp_path, read, ["y"])
    assert valid["smiles"].tolist() == smiles and valid["row"].tolist() == rows
    assert valid["y"].tolist() == [0.0, 1.5, 3.0, 4.5]
    assert moleculenet.score_ours(tmp_path, ["y"], "regression", "rmse") == pytest.approx(1.0)


def _row(value, seed, peer=None):
    chemprop = None if peer is None else {"value": peer, "seconds": 20.0, "cpu_seconds": 30.0}
    return {"dataset": "esol", "model": "dmpnn", "split": "random", "seed": seed, "metric": "rmse",
            "value": value, "seconds": 10.0, "cpu_seconds": 15.0, "chemprop": chemprop}  # fmt: skip


def test_table_marks_the_peer_not_measured(moleculenet, peers):
    summary = moleculenet.summarise([_row(0.5, 0), _row(0.7, 1)])
    (cells,) = moleculenet.table_rows(summary)
    row = dict(zip(moleculenet.TABLE_COLUMNS, cells, strict=True))
    assert row["ours"] == "0.600 +- 0.100" and row["variant"] == "default"
    peer_columns = [
        "chemprop",
        "ours - chemprop",
        "ours better",
        "chemprop CPU s/run",
        "chemprop CPU / ours CPU",
    ]
    assert [row[column] for column in peer_columns] == [peers.NOT_MEASURED] * 5
    assert "not measured" in moleculenet.markdown_table(summary)


def test_table_pairs_seeds_with_the_peer(moleculenet):
    summary = moleculenet.summarise([_row(0.5, 0, 0.6), _row(0.7, 1, 0.65), _row(0.6, 2, 0.7)])
    (entry,) = summary
    assert entry["difference_mean"] == pytest.approx((-0.1 + 0.05 - 0.1) / 3)
    assert entry["ours_better"] == 2 and entry["speed_ratio"] == pytest.approx(2.0)
    row = dict(zip(moleculenet.TABLE_COLUMNS, moleculenet.table_rows(summary)[0], strict=True))
    assert row["chemprop"] == "0.650 +- 0.041" and row["ours better"] == "2/3"
    assert row["chemprop CPU / ours CPU"] == "2.00"


def test_variants_group_apart(moleculenet):
    rows = [_row(0.5, 0, 0.6), {**_row(0.4, 0, 0.45), "variant": "descriptors"}]
    summary = moleculenet.summarise(rows)
    assert [(entry["variant"], entry["ours_mean"]) for entry in summary] == [
        ("default", 0.5),
        ("descriptors", 0.4),
    ]


def test_score_is_the_same_code_for_both(moleculenet):
    truth = np.array([[1.0], [2.0], [np.nan]])
    pred = np.array([[1.5], [2.5], [9.0]])
    assert moleculenet.score("regression", "rmse", truth, pred) == pytest.approx(0.5)


def test_dataset_file_infers_targets_and_task(moleculenet, tmp_path):
    binary = tmp_path / "bace.csv"
    binary.write_text("mol,Class\nCCO,1\nCCN,0\n")
    regression = tmp_path / "lipo.csv"
    regression.write_text("smiles,lipo,other\nCCO,1.5,\nCCN,0,1\n")
    assert moleculenet.add_dataset(binary) == "bace"
    assert moleculenet.DATASETS["bace"][1:] == (["Class"], "roc_auc", "binary")
    moleculenet.add_dataset(regression)
    assert moleculenet.DATASETS["lipo"][1:] == (["lipo", "other"], "rmse", "regression")
