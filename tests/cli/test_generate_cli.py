"""``biomodels generate train|sample|evaluate``: a tiny run, resume, every row kept, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from biomodels.cli.main import app
from biomodels.train.run import load_run

pytestmark = pytest.mark.slow
runner = CliRunner()
MOLECULES = ["CCO", "c1ccccc1Cl", "CC(=O)Nc1ccc(O)cc1", "C1CC%10CC1%10", "Brc1ccc[nH]1", "CCN(CC)CC"] * 3
TINY = ["--hidden", "32", "--layers", "1", "--batch-size", "8", "--seed", "0"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "train.csv"
    rows = ["SMILES", *MOLECULES, "C1CC", "not a smiles"]  # two invalid rows: counted, not fatal
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def run_dir(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    result = runner.invoke(
        app, ["generate", "train", str(data), "--model", "charrnn", "--out", str(out), "--epochs", "1", *TINY]
    )
    assert result.exit_code == 0, result.output
    assert "2 of 20 rows invalid" in result.output
    return out


def test_train_writes_a_run_directory_that_resumes(run_dir, data) -> None:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["data"]["invalid"] == 2 and metrics["data"]["rows"] == 20
    assert (run_dir / "checkpoint" / "optimizer.safetensors").is_file()
    assert load_run(run_dir).model.epochs_done_ == 1
    result = runner.invoke(
        app, ["generate", "train", str(data), "--out", str(run_dir), "--epochs", "2", "--resume", *TINY]
    )
    assert result.exit_code == 0, result.output
    history = json.loads((run_dir / "metrics.json").read_text())["history"][0]
    assert [h["epoch"] for h in history] == [1, 2]
    assert load_run(run_dir).model.epochs_done_ == 2


def test_sample_keeps_every_row_and_evaluate_scores_it(run_dir, data, tmp_path) -> None:
    out = tmp_path / "samples.csv"
    result = runner.invoke(
        app, ["generate", "sample", str(run_dir), "-n", "300", "-o", str(out), "--seed", "0"]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns) == ["smiles", "raw", "valid", "error"] and len(table) == 300
    invalid = table[table["valid"].astype(str) == "False"]
    assert (invalid["smiles"] == "").all() and (invalid["error"] != "").all()
    again = tmp_path / "again.csv"
    runner.invoke(app, ["generate", "sample", str(run_dir), "-n", "300", "-o", str(again), "--seed", "0"])
    assert again.read_text() == out.read_text()  # --seed makes it reproducible
    metrics_file = tmp_path / "metrics.json"
    result = runner.invoke(
        app, ["generate", "evaluate", str(out), "--train", str(data), "--json", str(metrics_file)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(metrics_file.read_text())
    assert metrics["samples"] == 300 and metrics["valid"] == pytest.approx(1 - len(invalid) / 300)
    assert 0 <= metrics["Novelty"] <= 1 and "IntDiv" in metrics


def _one_line_error(result, text: str) -> None:
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and text in errors[0], result.output  # log lines may precede it


def test_bad_input_gives_one_line_errors(run_dir, tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    out = str(tmp_path / "r")
    _one_line_error(runner.invoke(app, ["generate", "train", str(empty), "--out", out, *TINY]), "empty")
    invalid = tmp_path / "invalid.csv"
    invalid.write_text("SMILES\nC1CC\nxyz\n")
    result = runner.invoke(app, ["generate", "train", str(invalid), "--out", out, "--force", *TINY])
    _one_line_error(result, "no usable training SMILES among 2 rows")
    missing = ["generate", "sample", str(tmp_path / "nope"), "-n", "5", "-o", str(tmp_path / "s.csv")]
    _one_line_error(runner.invoke(app, missing), "run directory not found")
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in run_dir.rglob("*"):
        target = broken / path.relative_to(run_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            target.write_bytes(path.read_bytes())
    weights = broken / "model" / "member_0" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    corrupt = ["generate", "sample", str(broken), "-n", "5", "-o", str(tmp_path / "s.csv")]
    _one_line_error(runner.invoke(app, corrupt), "corrupt or altered")
    assert not (tmp_path / "s.csv").exists()


def test_init_trains_a_run_further_and_keeps_its_architecture(run_dir, data, tmp_path) -> None:
    parent = load_run(run_dir).model
    out = tmp_path / "further"
    args = ["generate", "train", str(data), "--init", str(run_dir), "--out", str(out), "--epochs", "1"]
    result = runner.invoke(app, [*args, "--lr", "1e-3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    child = load_run(out).model
    assert child.vocabulary_ == parent.vocabulary_ and child.epochs_done_ == 1 and child.lr == 1e-3
    assert json.loads((out / "config.json").read_text())["init"] == str(run_dir)
    parent_seconds = json.loads((run_dir / "metrics.json").read_text())["seconds_total"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["seconds_total"] == pytest.approx(parent_seconds + metrics["seconds"])
    before, after = parent.network_.state_dict(), child.network_.state_dict()
    assert before.keys() == after.keys()
    # one epoch at a small rate moves the weights a little: started from the parent, not afresh
    distance = sum(float((after[k] - before[k]).norm()) for k in before)
    size = sum(float(before[k].norm()) for k in before)
    assert 0 < distance < 0.2 * size
    clash = runner.invoke(app, [*args, "--force", "--hidden", "64"])
    _one_line_error(
        clash, f"--init {run_dir}: charrnn: continued training keeps the architecture; hidden is 32, not 64"
    )
    other = runner.invoke(app, [*args, "--force", "--model", "vae"])
    _one_line_error(other, "holds a charrnn model, not vae")
