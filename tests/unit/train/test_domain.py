"""The applicability domain travels with a saved model; the uncertainty grows away from it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from rdkit import RDConfig

from biomodels import TrainRunConfig, load_run, train_run
from biomodels.exceptions import CheckpointError, InputError
from biomodels.train.uncertainty import DistanceUncertainty

COBALT = "C1CN[Co]23(N1)(NCCN2)NCCN3"


@pytest.fixture(scope="module")
def activity_csv(tmp_path_factory):
    folder = f"{RDConfig.RDContribDir}/FreeWilson/data"
    smiles = pd.read_csv(f"{folder}/CHEMBL2321810.smi", sep=r"\s+", header=None, names=["smiles", "id"])
    act = pd.read_csv(f"{folder}/CHEMBL2321810_act.csv").rename(columns={"Name": "id"})
    path = tmp_path_factory.mktemp("data") / "activity.csv"
    smiles.merge(act, on="id").head(200).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def forest(activity_csv, tmp_path_factory):
    config = TrainRunConfig(data=str(activity_csv), targets=["Act"], model="rf", params={"n_estimators": 20})
    return train_run(config, tmp_path_factory.mktemp("runs") / "rf")


def test_a_saved_and_loaded_model_keeps_its_domain(forest):
    trained, loaded = forest.model, load_run(forest.run_dir).model
    np.testing.assert_array_equal(loaded.domain_.fingerprints, trained.domain_.fingerprints)
    assert loaded.domain_.names == trained.domain_.names and len(loaded.domain_) == len(forest.data.train)
    assert loaded.domain_.label_range == trained.domain_.label_range
    low, high = loaded.domain_.label_range["Act"]
    assert low == pytest.approx(np.nanmin(forest.data.train.targets)) and high > low
    queries = [forest.data.test.smiles[0], COBALT, "C1CC"]
    before, after = trained.predict(queries), loaded.predict(queries)
    pd.testing.assert_frame_equal(before, after)
    assert after["nn_id"].iloc[0] in set(trained.domain_.names) and after["in_domain"].iloc[1] == False  # noqa: E712
    assert pd.isna(after["in_domain"].iloc[2]) and after["error"].notna().iloc[2]


def test_the_domain_file_is_checksummed(forest, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(forest.run_dir, copy)
    names = copy / "model" / "domain.json"
    content = json.loads(names.read_text())
    content["names"][0] = "someone else"
    names.write_text(json.dumps(content))
    with pytest.raises(CheckpointError, match=r"domain\.json: file is corrupt or altered"):
        load_run(copy)


def test_a_model_without_a_domain_asks_for_no_domain(forest):
    model = load_run(forest.run_dir).model
    model.domain_ = None  # as a model saved before domains were kept
    with pytest.raises(InputError, match="saved without its training set.*--no-domain"):
        model.predict(["CCO"])
    frame = model.predict(["CCO"], domain=False)
    assert "nn_similarity" not in frame and "in_domain" not in frame and frame["Act"].notna().all()


def test_the_uncertainty_grows_with_the_distance_to_the_training_set():
    rng = np.random.default_rng(0)
    distance = rng.uniform(0, 1, 400)
    spread = rng.uniform(0.1, 0.3, (400, 1))
    residuals = rng.normal(0, 0.2 + 2 * distance)[:, None]  # errors grow away from the data
    fitted = DistanceUncertainty.fit(residuals, spread, distance)
    assert fitted.distance[0] > 1.0
    sigma = fitted.apply(np.full((3, 1), 0.2), np.array([0.0, 0.5, 1.0]))[:, 0]
    assert sigma[0] < sigma[1] < sigma[2]
    assert DistanceUncertainty.from_dict(fitted.to_dict()) == fitted
    assert DistanceUncertainty.fit(residuals[:5], spread[:5], distance[:5]) is None  # too few labels


def test_metrics_compare_the_uncertainty_before_and_after(forest):
    test = forest.metrics["test"]["mean"]
    assert {"spearman_abs_error_std", "spearman_abs_error_spread"} <= set(test)
    assert (
        forest.model.uncertainty_ is None
        or test["spearman_abs_error_std"] != test["spearman_abs_error_spread"]
    )
