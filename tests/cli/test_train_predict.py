"""CLI: train, predict (row accounting), corrupt checkpoints, featurize."""

import gzip

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biomodels import load_run
from biomodels.cli.main import app
from biomodels.train.estimator import Estimator

runner = CliRunner()


@pytest.fixture(scope="module")
def esol_run(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("runs") / "esol"
    result = runner.invoke(
        app,
        [
            "train",
            str(shared_data / "molnet" / "esol.csv"),
            "--target",
            "logp",
            "--out",
            str(out),
            "--epochs",
            "3",
            "--hidden",
            "32",
            "--depth",
            "2",
            "--ensemble",
            "2",
            "--seed",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_run_directory(esol_run):
    for name in (
        "config.json",
        "environment.json",
        "splits.json",
        "metrics.json",
        "predictions_test.csv",
        "plots/training_curves.png",
        "plots/parity.png",
        "run.log",
        "model/model.json",
        "model/member_0/weights.safetensors",
        "model/member_1/weights.safetensors",
    ):
        assert (esol_run / name).exists(), name
    metrics = pd.read_json(esol_run / "metrics.json", typ="series")
    assert metrics["test"]["mean"]["rmse"] > 0
    test = pd.read_csv(esol_run / "predictions_test.csv")
    assert {"row", "smiles", "logp_true", "logp", "logp_std"} <= set(test.columns)
    assert (test["logp_std"] > 0).all()  # two members disagree somewhere


def test_predict_keeps_every_row_in_order(esol_run, shared_data, tmp_path):
    frame = pd.read_csv(shared_data / "molnet" / "hiv.csv.gz", nrows=1000)
    library = tmp_path / "hiv1000.csv.gz"
    with gzip.open(library, "wt") as handle:
        frame.to_csv(handle, index=False)
    out = tmp_path / "pred.parquet"
    result = runner.invoke(
        app, ["predict", str(esol_run), str(library), "-o", str(out), "--chunk-size", "300"]
    )
    assert result.exit_code == 0, result.output
    assert "predicted 998 of 1000 rows" in result.output
    scored = pd.read_parquet(out)
    assert scored["row"].tolist() == list(range(1000))
    assert scored["smiles"].tolist() == frame["smiles"].tolist()
    bad = scored[scored["error"].notna()]
    assert bad["row"].tolist() == [137, 987]
    assert bad["logp"].isna().all() and scored.drop(bad.index)["logp"].notna().all()
    good = scored.drop(bad.index)  # every scored row is placed in the domain, the bad ones are not
    assert good["nn_similarity"].between(0, 1).all() and good["in_domain"].notna().all()
    assert bad["nn_similarity"].isna().all() and bad["in_domain"].isna().all()
    inside = int(good["in_domain"].sum())
    assert f"in domain (nn_similarity >= the model's threshold): {inside} of 998 scored rows" in result.output


def test_predict_domain_flags(esol_run, tmp_path):
    library = tmp_path / "lib.smi"
    library.write_text("CCO ethanol\nc1ccccc1O phenol\nC1CN[Co]23(N1)(NCCN2)NCCN3 cobalt\n")
    out = tmp_path / "pred.csv"
    args = ["predict", str(esol_run), str(library), "-o", str(out)]
    result = runner.invoke(app, [*args, "--min-similarity", "0"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert frame["in_domain"].all() and "in domain (nn_similarity >= 0): 3 of 3" in result.output
    # the cobalt complex is far from ESOL (how the uncertainty grows with that distance, at a fixed
    # spread, is tested in tests/unit/train/test_domain.py)
    assert frame["nn_similarity"].iloc[2] < 0.3 < frame["nn_similarity"].iloc[1]
    result = runner.invoke(app, [*args, "--no-domain"])
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out).columns) == ["row", "id", "smiles", "logp", "logp_std", "error"]
    result = runner.invoke(app, [*args, "--min-similarity", "2"])
    assert result.exit_code == 2 and "--min-similarity must be in [0, 1]" in result.output


def test_checkpoint_round_trip_identical(esol_run):
    first = Estimator.load(esol_run / "model")
    second = load_run(esol_run)
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    pd.testing.assert_frame_equal(first.predict(smiles), second.predict(smiles))
    test = pd.read_csv(esol_run / "predictions_test.csv")
    np.testing.assert_allclose(second.predict(test["smiles"].tolist())["logp"], test["logp"], rtol=1e-5)


@pytest.mark.parametrize("damage", ["flip", "truncate", "remove_config", "no_run"])
def test_corrupt_checkpoint_is_one_line_error(esol_run, tmp_path, damage):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(esol_run, run)
    weights = run / "model" / "member_0" / "weights.safetensors"
    if damage == "flip":
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:100])
    elif damage == "remove_config":
        (run / "model" / "model.json").unlink()
    else:
        run = tmp_path / "missing"
    library = tmp_path / "lib.smi"
    library.write_text("CCO a\n")
    result = runner.invoke(app, ["predict", str(run), str(library), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and str(run) in errors[0]
    assert not (tmp_path / "o.csv").exists()


def test_train_unknown_column_and_model(shared_data, tmp_path):
    result = runner.invoke(
        app, ["train", str(shared_data / "molnet" / "esol.csv"), "-t", "nope", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "column 'nope' not found" in result.output
    result = runner.invoke(
        app,
        [
            "train",
            str(shared_data / "molnet" / "esol.csv"),
            "-t",
            "logp",
            "-o",
            str(tmp_path / "r"),
            "--model",
            "transformer",
        ],
    )
    assert result.exit_code == 2 and "unknown molecule model" in result.output


def test_featurize_cli_accounts_for_rows(shared_data, tmp_path):
    out = tmp_path / "tox.parquet"
    result = runner.invoke(
        app,
        [
            "featurize",
            str(shared_data / "molnet" / "tox21.csv"),
            "-o",
            str(out),
            "--featurizer",
            "morgan",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    errors = pd.read_csv(tmp_path / "tox.errors.csv")
    assert len(table) == 7831 and len(errors) == 8
    assert table["features"].isna().sum() == 8
    assert set(errors["row"]) == set(table.loc[table["error"].notna(), "row"])


def test_predict_refuses_to_overwrite_its_input(esol_run, tmp_path):
    library = tmp_path / "in.csv"
    library.write_text("smiles\nCCO\n")
    result = runner.invoke(app, ["predict", str(esol_run), str(library), "-o", str(library)])
    assert result.exit_code == 2 and "is also the input file" in result.output
    assert library.read_text() == "smiles\nCCO\n"
