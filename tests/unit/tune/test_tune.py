"""biomodels tune on a tiny generated table: trials in SQLite, resume, pruning, the best run."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from rdkit import Chem
from rdkit.Chem import Crippen

from biomodels import TrainRunConfig, load_run
from biomodels.exceptions import InputError
from biomodels.report.tune import report_tune
from biomodels.tune import DEFAULTS, SEARCH_SPACE, Param, TuneConfig, finished_trials, tune_run
from biomodels.tune.space import model_params, sample

pytestmark = pytest.mark.slow  # trains a few tiny models (about a minute on 2 cores)

TINY_SPACE = (
    Param("hidden", "int", 16, 32, step=16),
    Param("depth", "int", 1, 2),
    Param("dropout", "float", 0.0, 0.2, step=0.1),
    Param("extra_features", "choice", choices=("none", "rdkit2d")),
)


@pytest.fixture(scope="module")
def logp_csv(tmp_path_factory) -> Path:
    """60 small molecules (chains, rings, heteroatoms) with their Crippen logP as the target."""
    cores = ["C" * n for n in range(1, 7)] + ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCOC1"]
    groups = ["", "O", "N", "Cl", "C(=O)O", "C#N"]
    smiles = [core + group for core in cores for group in groups]
    logp = [Crippen.MolLogP(Chem.MolFromSmiles(s)) for s in smiles]
    path = tmp_path_factory.mktemp("data") / "logp.csv"
    pd.DataFrame({"smiles": smiles, "logp": logp}).to_csv(path, index=False)
    return path


def tiny_config(data: Path, trials: int, **options) -> TuneConfig:
    run = TrainRunConfig(data=str(data), targets=["logp"], epochs=2, seed=0, params={"device": "cpu"})
    return TuneConfig(run, trials=trials, space=TINY_SPACE, **options)


def test_search_space_covers_the_issue_and_defaults_are_the_estimators():
    names = {p.name for p in SEARCH_SPACE}
    assert names == {"hidden", "depth", "dropout", "lr", "batch_size", "ffn_layers", "extra_features"}
    assert DEFAULTS["hidden"] == 300 and DEFAULTS["extra_features"] == "none"
    values = sample(optuna.trial.FixedTrial({**DEFAULTS, "dropout": 0.30000000000000004}))
    assert values["dropout"] == 0.3  # float grid values come out clean
    assert model_params(values)["extra_features"] is None
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        drawn = sample(study.ask())
        assert 100 <= drawn["hidden"] <= 600 and drawn["hidden"] % 100 == 0 and 2 <= drawn["depth"] <= 6
        assert 1e-4 <= drawn["lr"] <= 3e-3 and drawn["batch_size"] in (16, 32, 50, 64, 128)
        assert round(drawn["dropout"] / 0.05, 6).is_integer() and drawn["extra_features"] in (
            "none",
            "rdkit2d",
        )


def test_two_trials_then_resume_counts_finished_trials_and_retrains_the_best(logp_csv, tmp_path):
    out = tmp_path / "tune"
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = tune_run(tiny_config(logp_csv, 2, storage=storage), out)
    assert first.counts["complete"] + first.counts["pruned"] == 2
    defaults = {"dropout": 0.0, "extra_features": "none"}  # hidden 300 and depth 3 are outside it
    assert {k: first.study.trials[0].params[k] for k in defaults} == defaults

    # a trial left RUNNING (its process killed) does not count; the resumed run adds one
    optuna.load_study(study_name="biomodels-tune", storage=storage).ask()
    second = tune_run(tiny_config(logp_csv, 3, storage=storage), out)
    study = optuna.load_study(study_name="biomodels-tune", storage=storage)
    assert finished_trials(study) == 3 and len(study.trials) == 4
    assert [t.state for t in study.trials].count(TrialState.RUNNING) == 1
    assert second.counts["complete"] + second.counts["pruned"] == 3

    table = pd.read_csv(out / "trials.csv")
    assert list(table["number"]) == [0, 1, 2, 3] and "params_hidden" in table and "seconds" in table
    assert table.loc[table["state"] == "COMPLETE", "epochs"].eq(2).all()
    info = json.loads((out / "tune.json").read_text())
    assert info["best"]["number"] == study.best_trial.number and info["counts"]["running"] == 1

    run = load_run(out / "best")  # a normal run directory with the best configuration
    best_params = model_params(info["best"]["params"])
    assert {k: run.model.get_params()[k] for k in best_params} == best_params
    assert run.metrics["val"]["mean"]["rmse"] > 0
    assert len(run.predict(["CCO", "not a smiles"])) == 2

    plots = report_tune(out)
    assert [p.name for p in plots] == ["history.png", "importance.png"]
    assert all(p.stat().st_size > 1000 for p in plots)


def test_resume_with_other_settings_is_refused(logp_csv, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    tune_run(tiny_config(logp_csv, 1, storage=storage), tmp_path / "a")
    changed = tiny_config(logp_csv, 2, storage=storage)
    changed.run.epochs = 3
    with pytest.raises(InputError, match="epochs differ"):
        tune_run(changed, tmp_path / "a")


def test_a_trial_worse_than_the_median_at_an_epoch_is_pruned(logp_csv, tmp_path):
    # the defaults (lr 1e-3, the top of this range) run first; the sampler's next, lower learning
    # rate learns more slowly, so its validation loss falls behind the first trial's: pruned early
    space = (Param("lr", "float", 1e-7, 1e-3, log=True),)
    run = TrainRunConfig(data=str(logp_csv), targets=["logp"], epochs=3, seed=0, params={"device": "cpu"})
    config = TuneConfig(run, trials=2, space=space, pruner_startup_trials=1, pruner_warmup_epochs=0)
    result = tune_run(config, tmp_path / "tune")
    states = [t.state for t in result.study.trials]
    assert states == [TrialState.COMPLETE, TrialState.PRUNED]
    assert result.study.trials[0].params["lr"] == DEFAULTS["lr"]
    assert (
        result.study.trials[1].params["lr"] < DEFAULTS["lr"]
        and result.study.trials[1].user_attrs["epochs"] < 3
    )
    assert result.study.best_trial.number == 0


def test_bad_settings_are_one_line_errors(logp_csv):
    run = TrainRunConfig(data=str(logp_csv), targets=["logp"], epochs=2)
    with pytest.raises(InputError, match="--trials must be at least 1"):
        TuneConfig(run, trials=0)
    with pytest.raises(InputError, match="GNN models"):
        TuneConfig(TrainRunConfig(data=str(logp_csv), model="rf", targets=["logp"], epochs=2))
    with pytest.raises(InputError, match="--timeout"):
        TuneConfig(run, timeout=-1)
