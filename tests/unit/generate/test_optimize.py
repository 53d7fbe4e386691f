"""Goal-directed optimisation on a tiny prior trained in the test: the mean score of a toy
objective (nitrogen count) rises within a few steps; a killed run resumes without scoring a
molecule twice and spends its budget exactly; the default objective on an activity run; the
CLI; one-line errors for a missing activity run, a corrupt prior and a bad objective file."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import biomodels.generate
from biomodels.cli.main import app
from biomodels.exceptions import CheckpointError, InputError
from biomodels.generate import optimize
from biomodels.generate.scoring import Objective, build_objective
from biomodels.report import write_optimization_report
from biomodels.train.run import TrainRunConfig, load_run, train_run

pytestmark = pytest.mark.slow

MOLECULES = [
    "CCO", "CCCC", "CCOC(C)=O", "CC(C)O", "c1ccccc1", "Cc1ccccc1", "Oc1ccccc1", "CC(=O)O", "COc1ccccc1",
    "CCCCO", "C1CCCCC1", "CC(C)CC", "OCCO", "c1ccc2ccccc2c1", "CC(=O)Oc1ccccc1C(=O)O", "Clc1ccccc1",
    "CCN", "NCCN", "CN(C)C", "c1ccncc1", "c1cncnc1", "NC(=O)N", "CC(N)C(=O)O", "Nc1ccccc1", "CNC(=O)C",
    "c1ccc2[nH]ccc2c1", "NCCCN", "CN1CCNCC1", "Nc1ncncc1N", "NC(N)=N", "CC#N", "N#CCC#N", "c1cn[nH]c1",
    "CCOC(=O)N", "NNC(=O)c1ccncc1", "CN(C)CCN", "O=C(N)c1cccnc1", "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "CC(C)NCC(O)c1ccccc1", "CCN(CC)CC", "FC(F)(F)c1ccccc1", "CCSCC", "O=C1CCCC1", "CC(C)(C)O",
    "OC(=O)c1ccccc1", "CCCCCC", "c1ccoc1", "c1ccsc1", "CC=O", "OCC(O)CO",
]  # fmt: skip
TOY = {
    "component": [{"type": "smarts", "smarts": "[#7]", "transform": {"type": "sigmoid", "low": 0, "high": 3}}]
}
FAST = {"batch_size": 32, "lr": 5e-3, "sigma": 60.0}


@pytest.fixture(scope="module")
def prior(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prior")
    data = folder / "train.csv"
    data.write_text("SMILES\n" + "\n".join(MOLECULES) + "\n")
    biomodels.generate.train(
        data, folder / "run", model="charrnn", epochs=25, embedding=16, hidden=64, layers=1, dropout=0.0,
        batch_size=16, lr=1e-2, seed=0,
    )  # fmt: skip
    return folder / "run"


@pytest.fixture(scope="module")
def activity(tmp_path_factory):
    folder = tmp_path_factory.mktemp("activity")
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"smiles": MOLECULES, "act": [s.count("N") + s.count("n") + rng.normal(0, 0.1) for s in MOLECULES]}
    )
    table.to_csv(folder / "act.csv", index=False)
    config = TrainRunConfig(
        data=str(folder / "act.csv"), model="rf", targets=["act"], seed=0, params={"n_estimators": 20}
    )
    return train_run(config, folder / "run").run_dir


def test_optimize_raises_the_mean_score_of_a_toy_objective(prior, tmp_path) -> None:
    result = optimize(
        prior=prior, budget=240, out=tmp_path / "run", seed=0, objective=build_objective(TOY), **FAST
    )
    steps = result.steps
    assert steps["mean_score"].iloc[-3:].mean() > steps["mean_score"].iloc[:3].mean() + 0.1
    molecules = result.molecules
    scored = molecules[molecules["smiles"] != ""]
    assert len(scored) == 240 and scored["smiles"].is_unique and result.metrics["calls"] == 240
    assert (molecules.loc[molecules["smiles"] == "", "error"].notna()).all()
    assert {"step", "smiles", "score", "smarts", "d_smarts", "error"} <= set(molecules.columns)
    for name in ("config.json", "environment.json", "metrics.json", "molecules.csv", "steps.csv"):
        assert (tmp_path / "run" / name).is_file()
    assert load_run(tmp_path / "run").model.name == "charrnn"  # the optimised agent samples


def test_a_killed_run_resumes_without_repeats(prior, tmp_path, monkeypatch) -> None:
    whole = optimize(prior=prior, budget=200, out=tmp_path / "whole", objective=build_objective(TOY), **FAST)
    calls = {"n": 0}
    score = Objective.score

    def killed_at_the_seventh_step(self, smiles):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt  # as a kill, after the checkpoint of step 5 (every 5 steps)
        return score(self, smiles)

    monkeypatch.setattr(Objective, "score", killed_at_the_seventh_step)
    with pytest.raises(KeyboardInterrupt):
        optimize(prior=prior, budget=200, out=tmp_path / "killed", objective=build_objective(TOY), **FAST)
    monkeypatch.setattr(Objective, "score", score)
    assert pd.read_csv(tmp_path / "killed" / "steps.csv")["step"].max() == 5
    resumed = optimize(out=tmp_path / "killed", budget=200, resume=True)
    scored = resumed.molecules[resumed.molecules["smiles"] != ""]
    assert len(scored) == 200 and scored["smiles"].is_unique
    on_disk = pd.read_csv(tmp_path / "killed" / "molecules.csv", keep_default_na=False)
    assert (on_disk["smiles"] != "").sum() == 200
    # the same agent, optimiser and random state: the same molecules as the run never killed
    assert (
        scored["smiles"].tolist() == whole.molecules.loc[whole.molecules["smiles"] != "", "smiles"].tolist()
    )
    more = optimize(out=tmp_path / "killed", budget=230, resume=True)  # a larger budget goes on
    assert (
        more.metrics["calls"] == 230
        and more.molecules.loc[more.molecules["smiles"] != "", "smiles"].is_unique
    )


def test_default_objective_and_cli(prior, activity, tmp_path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["generate", "optimize", "--prior", str(prior), "--activity", str(activity), "--budget", "60",
         "--out", str(out), "--seed", "0", "--batch-size", "32"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "60 molecules scored" in result.output
    molecules = pd.read_csv(out / "molecules.csv")
    assert {"activity", "d_activity", "activity_std", "qed", "domain", "pains"} <= set(molecules.columns)
    valid = molecules[molecules["smiles"].notna()]
    assert valid["domain"].between(0, 1).all() and valid["score"].between(0, 1).all()
    assert (out / "plots" / "best_so_far.png").is_file() and (out / "plots" / "unique_fraction.png").is_file()
    picks = valid.nlargest(3, "score")
    page = write_optimization_report(out, picks, tmp_path / "report.html", columns=["score", "smiles"])
    html = page.read_text()
    assert html.count("<svg") == 1 and picks["smiles"].iloc[0] in html and "auc_top10" in html


def test_bad_input_is_one_line(prior, activity, tmp_path) -> None:
    with pytest.raises(CheckpointError, match="run directory not found") as error:
        optimize(prior=prior, activity=tmp_path / "missing", budget=10, out=tmp_path / "a")
    assert "\n" not in str(error.value)
    corrupt = tmp_path / "corrupt"
    shutil.copytree(prior, corrupt)
    (corrupt / "model" / "member_0" / "weights.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError) as error:
        optimize(prior=corrupt, activity=activity, budget=10, out=tmp_path / "b")
    assert str(corrupt) in str(error.value) and "\n" not in str(error.value)
    bad = tmp_path / "objective.toml"
    bad.write_text('[[component]]\ntype = "activity"\nuncertainty = "high"\ntransfrom = {}\n')
    with pytest.raises(
        InputError, match=r"objective.toml: component\[1\] \(activity\): unknown key 'transfrom'"
    ):
        optimize(prior=prior, activity=activity, budget=10, out=tmp_path / "c", objective=bad)
    with pytest.raises(CheckpointError, match="not the config of an optimize run"):
        optimize(out=tmp_path / "nothing", resume=True)
    result = CliRunner().invoke(
        app, ["generate", "optimize", "--activity", str(tmp_path / "missing"), "--out", str(tmp_path / "d")]
    )
    assert result.exit_code != 0 and "run directory not found" in result.output


def test_mode_collapse_is_warned_and_recorded(tmp_path, caplog) -> None:
    data = tmp_path / "one.csv"
    data.write_text("SMILES\n" + "CCN\n" * 16)  # a prior that can only write one molecule
    biomodels.generate.train(
        data, tmp_path / "prior", model="charrnn", epochs=15, embedding=8, hidden=16, layers=1, dropout=0.0,
        batch_size=8, lr=3e-2, seed=0,
    )  # fmt: skip
    with caplog.at_level("WARNING", logger="biomodels"):
        result = optimize(
            prior=tmp_path / "prior", budget=50, out=tmp_path / "run", objective=build_objective(TOY),
            batch_size=16, max_steps=3,
        )  # fmt: skip
    assert "mode collapse" in caplog.text and "stopped after 3 steps" in caplog.text
    assert result.metrics["collapse_steps"] == [1, 2, 3] and result.metrics["calls"] < 50
    assert (result.steps["unique_fraction"] < 0.25).all()


def test_the_prior_is_focused_on_the_activity_training_set_and_resumes_with_it(
    prior, activity, tmp_path
) -> None:
    out = tmp_path / "run"
    objective = build_objective(TOY)
    optimize(prior=prior, activity=activity, objective=objective, budget=40, out=out, focus_epochs=5, **FAST)
    focused, original = load_run(out / "focused").model, load_run(prior).model
    training = load_run(activity).model.domain_.smiles
    # the focused prior is likelier on the activity model's molecules than the prior it started from
    assert focused.evaluate(training)["nll"] < original.evaluate(training)["nll"]
    assert pd.read_json(out / "config.json", typ="series")["focus"] == {"epochs": 5, "lr": 1e-3}
    resumed = optimize(out=out, budget=60, resume=True)  # reads RUN/focused, trains nothing again
    assert resumed.metrics["calls"] == 60
    unfocused = optimize(prior=prior, activity=activity, objective=objective, budget=20, out=tmp_path / "u",
                         focus_epochs=0, **FAST)  # fmt: skip
    assert not (tmp_path / "u" / "focused").exists() and unfocused.metrics["calls"] == 20
