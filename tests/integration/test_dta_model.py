"""The affinity model memorises a tiny set of pairs; its run directory loads and predicts in order."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from biomodels import load_run
from biomodels.dta import AffinityEstimator, load_affinity_data, train
from biomodels.train.estimator import make_model

pytestmark = pytest.mark.slow

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1", "OC(=O)c1ccccc1", "CCN(CC)CC"]
SEQUENCES = ["".join(np.random.default_rng(k).choice(list("ACDEFGHIKLMNPQRSTVWY"), 40)) for k in range(10)]
TINY = {"hidden": 32, "depth": 2, "ffn_hidden": 64, "protein_options": {"hidden": 32}, "dropout": 0.0}
TINY_ENSEMBLE = {**TINY, "ensemble": 2}


def pair_table(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        {"smiles": s, "target_id": f"T{j}", "target_sequence": q, "pkd": float(rng.uniform(5, 9))}
        for s in SMILES
        for j, q in enumerate(SEQUENCES)
    ]
    path = folder / "pairs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_model_overfits_a_tiny_set_of_pairs(tmp_path):
    data = load_affinity_data(pair_table(tmp_path))
    wider = {**TINY, "hidden": 64, "ffn_hidden": 128, "protein_options": {"hidden": 64}}
    model = make_model("dta", **wider, ensemble=1, epochs=60, batch_size=60, lr=1e-2, device="cpu").fit(data)
    scores = model.evaluate(data)
    assert scores["mse"] < 0.05 * float(np.var(data.affinity)), scores
    assert scores["ci"] > 0.95


def test_run_directory_loads_and_predicts_every_pair_in_order(tmp_path):
    result = train(
        pair_table(tmp_path), tmp_path / "run", split="cold-target", seed=1, epochs=2, **TINY_ENSEMBLE
    )
    run = tmp_path / "run"
    assert {"config.json", "splits.json", "metrics.json", "predictions_test.csv"} <= {
        p.name for p in run.iterdir()
    }
    split = json.loads((run / "splits.json").read_text())
    data = load_affinity_data(tmp_path / "pairs.csv")
    assert not set(data.target[split["train"]]) & set(data.target[split["test"]])  # cold targets
    assert set(result.metrics["test"]) >= {"mse", "ci", "rm2", "pearson", "spearman"}

    loaded = load_run(run)
    assert isinstance(loaded.model, AffinityEstimator)
    ligands = ["CCO", "not a smiles", "c1ccccc1O"]
    frame = loaded.predict((ligands, [*SEQUENCES[:2], "MKK1LL"]))
    assert len(frame) == 3 * 3
    assert frame["ligand_row"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert frame["target_id"].tolist() == ["target_0", "target_1", "target_2"] * 3
    ok = frame["error"].isna().to_numpy()
    assert ok.tolist() == [True, True, False, False, False, False, True, True, False]
    assert frame.loc[ok, "affinity"].notna().all() and frame.loc[~ok, "affinity"].isna().all()
    assert frame["error"][3].startswith("ligand:") and frame["error"][2].startswith("target:")
    # the same pairs through the network's batch path give the same values
    again = loaded.predict((["CCO"], SEQUENCES[:2]))
    assert np.allclose(again["affinity"], frame["affinity"][:2], atol=1e-5)
    test_rows = pd.read_csv(run / "predictions_test.csv")
    assert test_rows["row"].tolist() == sorted(split["test"])


@pytest.mark.parametrize("ligand_encoder", ["morgan", "gin"])
def test_unseen_compounds_and_proteins_are_scored_from_structure_alone(tmp_path, ligand_encoder):
    data = load_affinity_data(pair_table(tmp_path))
    seen = data.subset(np.flatnonzero(data.target < 8))  # proteins 8 and 9 never trained on
    model = make_model(
        "dta", **TINY_ENSEMBLE, ligand_encoder=ligand_encoder, epochs=3, batch_size=16, device="cpu"
    )
    model.fit(seen)
    assert model._target_ids(SEQUENCES).tolist() == [*range(1, 9), 0, 0]
    assert model._ligand_ids(data.mols).tolist() == list(range(1, 7))
    for network in model.models_:
        assert network.protein_identity.weight.abs().sum() > 0  # learned for the seen proteins
        assert torch.count_nonzero(network.protein_identity.weight[0]) == 0  # row 0: unseen
    # an unseen protein gets exactly its structural embedding; a seen one differs from it
    grid = model.predict((SMILES[:2], SEQUENCES))
    no_identities = copy.deepcopy(model)
    for network in no_identities.models_:
        network.ligand_identity = network.protein_identity = None
    plain = no_identities.predict((SMILES[:2], SEQUENCES))
    unseen = grid["target_id"].isin(["target_8", "target_9"]).to_numpy()
    ligand_seen = np.abs(grid["affinity"] - plain["affinity"]).to_numpy()
    assert np.all(ligand_seen[~unseen] > 0)
    # compounds were seen, so only the protein identity is missing for targets 8 and 9: the
    # same grid from networks that keep only the ligand identity matches there
    ligand_only = copy.deepcopy(model)
    for network in ligand_only.models_:
        network.protein_identity = None
    partial = ligand_only.predict((SMILES[:2], SEQUENCES))
    assert np.allclose(grid["affinity"][unseen], partial["affinity"][unseen], atol=1e-6)


def test_ensemble_predicts_the_mean_of_its_networks(tmp_path):
    data = load_affinity_data(pair_table(tmp_path))
    model = make_model("dta", **{**TINY, "ensemble": 3}, epochs=2, batch_size=16, device="cpu").fit(data)
    assert len(model.models_) == 3
    members = []
    for network in model.models_:
        single = copy.copy(model)
        single.models_ = [network]
        members.append(single.predict_pairs(data))
    assert not np.allclose(members[0], members[1])  # different seeds, different networks
    assert np.allclose(model.predict_pairs(data), np.mean(members, axis=0), atol=1e-5)
