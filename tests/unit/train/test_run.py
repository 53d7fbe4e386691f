"""train_run and load_run on data RDKit ships (no shared data): layout, predict, splits, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import RDConfig

from biomodels import TrainRunConfig, load_run, train_run
from biomodels.exceptions import CheckpointError, InputError
from biomodels.train.estimator import Estimator

ACTIVITY = Path(RDConfig.RDContribDir) / "FreeWilson" / "data"
LAYOUT = {
    "config.json",
    "environment.json",
    "splits.json",
    "metrics.json",
    "predictions_train.csv",
    "predictions_val.csv",
    "predictions_test.csv",
    "model",
    "run.log",
}


@pytest.fixture(scope="module")
def activity_csv(tmp_path_factory) -> Path:
    """120 CHEMBL2321810 compounds (shipped with RDKit) as ``smiles,id,Act``."""
    smiles = pd.read_csv(ACTIVITY / "CHEMBL2321810.smi", sep=r"\s+", header=None, names=["smiles", "id"])
    activity = pd.read_csv(ACTIVITY / "CHEMBL2321810_act.csv").rename(columns={"Name": "id"})
    table = smiles.merge(activity, on="id").iloc[::8].head(120)
    path = tmp_path_factory.mktemp("data") / "activity.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(activity_csv, tmp_path_factory):
    config = TrainRunConfig(
        data=str(activity_csv),
        targets=["Act"],
        epochs=2,
        seed=3,
        params={"hidden": 32, "depth": 2, "ensemble": 2},
    )
    return train_run(config, tmp_path_factory.mktemp("runs") / "gnn")


def test_run_directory_layout_and_records(trained, activity_csv):
    run_dir = trained.run_dir
    assert {p.name for p in run_dir.iterdir()} >= LAYOUT
    assert sorted(p.name for p in (run_dir / "model").iterdir()) == [
        "arrays.safetensors",  # the domain's packed fingerprints
        "domain.json",  # the training molecules' ids and SMILES
        "member_0",
        "member_1",
        "model.json",
    ]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"] == "dmpnn" and config["params"]["ensemble"] == 2 and config["seed"] == 3
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["test"]["mean"]) >= {"rmse", "mae", "r2"} and len(metrics["history"]) == 2
    assert metrics["data"] == {"rows": 120, "valid": 120, "task": "regression"}
    splits = json.loads((run_dir / "splits.json").read_text())
    sizes = [len(splits[p]) for p in ("train", "val", "test")]
    assert sizes == [96, 12, 12]
    test = pd.read_csv(run_dir / "predictions_test.csv")
    assert list(test.columns) == [
        *("row", "id", "smiles", "Act_true", "Act", "Act_std", "Act_in_range"),
        *("nn_similarity", "nn_id", "in_domain", "error"),
    ]
    assert (test["nn_similarity"] < 1).any() and test["nn_similarity"].between(0, 1).all()
    train = pd.read_csv(run_dir / "predictions_train.csv")
    assert (train["nn_similarity"] == 1).all() and train["in_domain"].all()  # each its own neighbour
    source = pd.read_csv(activity_csv)
    np.testing.assert_allclose(test["Act_true"], source.loc[test["row"], "Act"], rtol=1e-6)
    model_json = json.loads((run_dir / "model" / "model.json").read_text())
    assert model_json["model"] == "dmpnn" and model_json["format_version"] == 2
    assert model_json["params"]["hidden"] == 32 and model_json["versions"]["rdkit"]


def test_load_run_predicts_lists_frames_and_files_like_the_run(trained, activity_csv):
    run = load_run(trained.run_dir)
    assert isinstance(run.model, Estimator) and run.name == "gnn" and run.metrics["test"]
    test = pd.read_csv(trained.run_dir / "predictions_test.csv")
    smiles = test["smiles"].tolist()
    from_list = run.predict([*smiles, "C1CC"])
    assert from_list["row"].tolist() == list(range(len(smiles) + 1))
    np.testing.assert_allclose(from_list["Act"][:-1], test["Act"], rtol=1e-5)
    assert from_list["error"][:-1].isna().all() and "ring" in from_list["error"].iloc[-1].lower()
    assert np.isnan(from_list["Act"].iloc[-1])
    from_frame = run.predict(pd.DataFrame({"SMILES": smiles[:3], "name": ["a", "b", "c"]}))
    assert from_frame["id"].tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(from_frame["Act"], test["Act"][:3], rtol=1e-5)
    from_file = run.predict(activity_csv)
    assert len(from_file) == 120 and from_file["id"].notna().all()
    with pytest.raises(InputError, match="no such file"):
        run.predict("not/a/file.csv")


def test_the_forest_trains_saves_and_loads_through_the_same_run(activity_csv, tmp_path):
    config = TrainRunConfig(data=str(activity_csv), model="rf", targets=["Act"], params={"n_estimators": 20})
    result = train_run(config, tmp_path / "rf")
    run = load_run(tmp_path / "rf")
    assert run.model.name == "rf" and (tmp_path / "rf" / "model" / "arrays.safetensors").is_file()
    test = pd.read_csv(tmp_path / "rf" / "predictions_test.csv")
    np.testing.assert_allclose(run.predict(test["smiles"].tolist())["Act"], test["Act"], rtol=1e-6)
    assert result.metrics["history"] == []


def test_split_file_ours_and_chemprops(trained, activity_csv, tmp_path):
    ours = trained.run_dir / "splits.json"
    again = train_run(
        TrainRunConfig(
            data=str(activity_csv), targets=["Act"], epochs=1, split_file=str(ours), params={"hidden": 16}
        ),
        tmp_path / "ours",
    )
    saved = json.loads(ours.read_text())
    assert all(again.data.split[p] == saved[p] for p in ("train", "val", "test"))
    chemprop = tmp_path / "chemprop_splits.json"
    chemprop.write_text(json.dumps([{"train": "0-99", "val": list(range(100, 110)), "test": "110-119"}]))
    theirs = train_run(
        TrainRunConfig(
            data=str(activity_csv), targets=["Act"], epochs=1, split_file=str(chemprop), params={"hidden": 16}
        ),
        tmp_path / "theirs",
    )
    assert theirs.data.split["train"] == list(range(100)) and theirs.data.split["test"] == list(
        range(110, 120)
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ([{"train": [0, 1], "val": [1], "test": [2]}], "index 1 is in both train and val"),
        ([{"train": [0, 500], "val": [1], "test": [2]}], "index 500 is out of range for 120 molecules"),
        ({"train": [0]}, "missing keys"),
        ("not json", "not a readable JSON split file"),
    ],
)
def test_bad_split_files_are_one_line_errors(activity_csv, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    config = TrainRunConfig(data=str(activity_csv), targets=["Act"], epochs=1, split_file=str(path))
    with pytest.raises(InputError, match=message) as info:
        train_run(config, tmp_path / "run")
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_load_run_errors_name_the_problem(trained, tmp_path):
    with pytest.raises(CheckpointError, match="run directory not found"):
        load_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no model/ folder"):
        load_run(tmp_path / "empty")
    old = tmp_path / "old"
    (old / "model").mkdir(parents=True)
    (old / "model" / "predictor.json").write_text('{"kind": "gnn"}')
    with pytest.raises(CheckpointError, match=r"biomodels 0\.1\.0 .*retrain"):
        load_run(old)
    (tmp_path / "old_diag").mkdir()
    (tmp_path / "old_diag" / "run.json").write_text("{}")
    with pytest.raises(CheckpointError, match=r"biomodels 0\.1\.0 \(run\.json\)"):
        load_run(tmp_path / "old_diag")


def test_unknown_model_and_parameters_are_refused(activity_csv):
    with pytest.raises(Exception, match="unknown model 'nope'; choose one of: .*dmpnn"):
        TrainRunConfig(data=str(activity_csv), model="nope")
    with pytest.raises(ValueError, match="takes no parameter 'depht'"):
        TrainRunConfig(data=str(activity_csv), targets=["Act"], params={"depht": 2}).build_model()


def _config(activity_csv, **changes) -> TrainRunConfig:
    fields = {"data": str(activity_csv), "targets": ["Act"], "epochs": 1, "params": {"hidden": 16}, **changes}
    return TrainRunConfig(**fields)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"ensemble": 0}, "ensemble must be a number > 0, got 0"),
        ({"batch_size": -5}, "batch_size must be a number > 0, got -5"),
        ({"hidden": 0}, "hidden must be a number > 0"),
        ({"lr": 0.0}, "lr must be a number > 0"),
        ({"dropout": 1.5}, r"dropout must be in \[0, 1\)"),
        ({"depth": 2.5}, "depth must be an integer"),
    ],
)
def test_options_out_of_range_fail_before_anything_is_written(activity_csv, tmp_path, params, message):
    with pytest.raises(InputError, match=message):
        train_run(_config(activity_csv, params=params), tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_degenerate_data_is_refused_and_leaves_nothing(tmp_path):
    cases = {
        "empty.csv": ("smiles,y\nCCO,\nCCN,\nCCC,\n", "target 'y' has no values"),
        "oneclass.csv": ("smiles,y\n" + "".join(f"{'C' * i}O,1\n" for i in range(1, 30)), "one class only"),
        "three.csv": ("smiles,y\nCCO,1.0\nCCN,2.0\nCCC,3.0\n", "too few for a val partition"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        config = TrainRunConfig(data=str(tmp_path / name), targets=["y"], epochs=1, params={"hidden": 8})
        with pytest.raises(InputError, match=message) as info:
            train_run(config, tmp_path / "out")
        assert "\n" not in str(info.value)
        assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_existing_output_is_refused_unless_forced_and_then_replaced_whole(activity_csv, tmp_path):
    out = tmp_path / "run"
    train_run(_config(activity_csv, params={"hidden": 16, "ensemble": 2}), out)
    (out / "stale.txt").write_text("from an older run")
    with pytest.raises(InputError, match="already exists and is not empty"):
        train_run(_config(activity_csv), out)
    assert (out / "model" / "member_1").is_dir()  # the refused run changed nothing
    train_run(_config(activity_csv), out, force=True)
    assert not (out / "stale.txt").exists() and not (out / "model" / "member_1").exists()
    assert json.loads((out / "config.json").read_text())["params"] == {"hidden": 16}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_failed_run_leaves_the_old_run_untouched(activity_csv, tmp_path):
    out = tmp_path / "run"
    train_run(_config(activity_csv), out)
    before = (out / "metrics.json").read_text()
    with pytest.raises(Exception, match="column 'nosuch' not found"):
        train_run(_config(activity_csv, targets=["nosuch"]), out, force=True)
    assert (out / "metrics.json").read_text() == before
    assert json.loads((out / "config.json").read_text())["targets"] == ["Act"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_diagnostic_options_out_of_range_are_refused_too(tmp_path):
    texts = tmp_path / "t.csv"
    texts.write_text("text,label\n" + "".join(f"word{i} more,{'ab'[i % 2]}\n" for i in range(20)))
    with pytest.raises(InputError, match="rnn: epochs must be a number > 0, got 0"):
        train_run(TrainRunConfig(data=str(texts), model="rnn", epochs=0, split="stratified"), tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_a_model_json_naming_an_unknown_parameter_is_one_line_naming_the_file(trained, tmp_path):
    import hashlib
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(trained.run_dir, copy)
    path = copy / "model" / "model.json"
    meta = json.loads(path.read_text())
    meta["params"]["hiddn"] = 3
    del meta["sha256"]
    meta["sha256"] = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
    path.write_text(json.dumps(meta))
    with pytest.raises(
        CheckpointError, match=r"model\.json: does not describe a dmpnn model .*'hiddn'"
    ) as info:
        load_run(copy)
    assert "\n" not in str(info.value)


def test_the_best_epoch_logged_is_the_restored_one(trained):
    log = (trained.run_dir / "run.log").read_text()
    restored = [
        line.split("restored weights of epoch ")[1].split()[0]
        for line in log.splitlines()
        if "restored" in line
    ]
    best = [line.split("best epoch ")[1].split(",")[0] for line in log.splitlines() if "best epoch" in line]
    assert restored and restored == best


def test_auto_readout_sums_for_regression_normalises_one_binary_target_and_averages_otherwise(trained):
    from biomodels.train.property import resolve_readout

    assert trained.model.readout == "auto" and trained.model.model_config_.readout == "sum"
    assert [resolve_readout("auto", task) for task in ("regression", "binary", "multiclass")] == [
        "sum",
        "norm",
        "mean",
    ]
    assert resolve_readout("auto", "regression", "gin") == "mean"
    assert resolve_readout("auto", "binary", "gin") == "mean"
    assert resolve_readout("auto", "binary", n_tasks=12) == "mean"  # several binary targets
    assert resolve_readout("attention", "regression") == "attention"
