"""Every registered molecule model memorises 32 molecules through its production ``fit``.

Cheap checks that catch wiring bugs: each model of :data:`biomodels.registry.MODELS` that reads
molecules is built with :func:`~biomodels.train.estimator.make_model`, trained by its own
``fit`` (the production trainer, the model's own loss, target scaling) on 32 ESOL molecules,
and must reach a
training RMSE below 0.15 target standard deviations (graph models) or 0.5 (the forest, whose
bagging leaves each molecule out of about a third of the trees).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit import Chem
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from biomodels.data.dataset import MoleculeTable
from biomodels.data.graphs import collate_graphs
from biomodels.exceptions import InputError
from biomodels.featurize.graph import featurize_graphs
from biomodels.featurize.molecular import MorganCountFeaturizer
from biomodels.models import ModelConfig, PropertyModel, RandomForestBaseline
from biomodels.registry import MODELS
from biomodels.train.estimator import make_model

pytestmark = pytest.mark.slow


def full_batch(lr: float, epochs: int) -> dict:
    """One batch of the 32 molecules, a constant learning rate (no warm-up, no decay)."""
    options = {"init_lr": lr, "final_lr": lr, "warmup_epochs": 0}
    return {"batch_size": 32, "lr": lr, "epochs": epochs, "trainer_options": options}


SMALL = {"hidden": 64, "depth": 2, **full_batch(1e-2, 200)}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small graphs train faster on one thread, and a shared 2-core box stays responsive."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def esol_csv(shared_data, tmp_path_factory) -> Path:
    """32 ESOL molecules as ``smiles,logp,soluble`` (soluble: above the median)."""
    table = pd.read_csv(shared_data / "molnet" / "esol.csv").head(32)
    table["soluble"] = (table["logp"] > table["logp"].median()).astype(int)
    path = tmp_path_factory.mktemp("data") / "esol32.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def esol_table(esol_csv) -> MoleculeTable:
    return MoleculeTable.from_file(esol_csv, "logp", workers=1, use_cache=False)


@pytest.fixture(scope="module")
def esol(esol_csv) -> tuple[list[Chem.Mol], np.ndarray]:
    frame = pd.read_csv(esol_csv)
    return [Chem.MolFromSmiles(s) for s in frame["smiles"]], frame["logp"].to_numpy(float)


def _train_rmse(table: MoleculeTable, name: str, **params) -> float:
    """Training RMSE in target standard deviations after the model's own ``fit``."""
    model = make_model(name, **params).fit(table)
    predicted = model.predict(table)[table.target_names[0]].to_numpy(float)
    truth = table.targets[:, 0]
    return float(np.sqrt(np.mean((predicted - truth) ** 2)) / truth.std())


@pytest.mark.parametrize("name", [n for n in MODELS.names(input="molecule") if n != "rf"])
def test_graph_model_memorises_regression(esol_table, name):
    rmse = _train_rmse(esol_table, name, **SMALL)
    assert rmse < 0.15, f"{name}: train RMSE {rmse:.3f} target std"


def test_default_dmpnn_memorises_regression(esol_table):
    rmse = _train_rmse(esol_table, "dmpnn", **full_batch(3e-3, 100))
    assert rmse < 0.15, f"train RMSE {rmse:.3f} target std"


def test_forest_memorises_regression(esol_table):
    rmse = _train_rmse(esol_table, "rf", n_estimators=50)
    assert rmse < 0.5, f"train RMSE {rmse:.3f} target std"


def test_graph_model_memorises_binary_labels(esol_csv):
    table = MoleculeTable.from_file(esol_csv, "soluble", workers=1, use_cache=False)
    assert table.task == "binary"
    model = make_model("dmpnn", **SMALL).fit(table)
    probability = model.predict(table)["soluble"].to_numpy(float)
    assert ((probability > 0.5) == table.targets[:, 0]).all()


def _masked_mse(outputs: torch.Tensor, batch) -> torch.Tensor:
    return (outputs[batch.y_mask] - batch.y[batch.y_mask]).pow(2).mean()


def test_missing_labels_do_not_affect_loss_or_gradients(esol):
    mols, y = esol
    targets = np.stack([y, y[::-1]], axis=1)
    targets[::3, 1] = np.nan
    graphs = featurize_graphs(mols)
    torch.manual_seed(0)
    model = PropertyModel(ModelConfig(hidden=32, ffn_hidden=32, n_tasks=2))
    results = []
    for fill in (np.nan, 1e6):
        batch = collate_graphs(graphs, range(len(mols)), targets)
        batch.y[~batch.y_mask] = fill  # same mask, different value under it
        model.zero_grad()
        loss = model.loss(model(batch), batch)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    assert torch.isfinite(results[0][0])
    assert results[0][0] == pytest.approx(_masked_mse(model(batch), batch).item(), rel=1e-5)
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)


def test_random_forest_memorises_and_matches_sklearn(esol, tmp_path):
    mols, y = esol
    targets = np.stack([y, -y], axis=1)
    targets[::4, 1] = np.nan
    model = RandomForestBaseline(n_estimators=50, random_state=0).fit(mols, targets)
    mean, std = model.predict(mols)
    assert mean.shape == std.shape == (32, 2) and (std >= 0).all()
    # Bagging: each molecule is out of bag for about a third of the trees, so the training fit
    # is looser than a network's.
    rmse = np.sqrt(np.mean((mean[:, 0] - y) ** 2))
    assert rmse < 0.5 * y.std()

    x = MorganCountFeaturizer().featurize_chunk(mols)
    labelled = ~np.isnan(targets[:, 1])
    forest = RandomForestRegressor(n_estimators=50, random_state=0)
    forest.fit(x[labelled], targets[labelled, 1])
    np.testing.assert_allclose(mean[:, 1], forest.predict(x), rtol=1e-10, atol=1e-10)

    reloaded = RandomForestBaseline(n_estimators=50).from_arrays(model.to_arrays())
    for a, b in zip(reloaded.predict(mols), (mean, std), strict=True):
        np.testing.assert_array_equal(a, b)


def test_random_forest_binary_probabilities(esol):
    mols, y = esol
    labels = (y > np.median(y)).astype(float)
    model = RandomForestBaseline(task="binary", n_estimators=50).fit(mols, labels)
    probability, _ = model.predict(mols)
    assert ((probability[:, 0] > 0.5) == labels).mean() >= 0.9
    forest = RandomForestClassifier(n_estimators=50, random_state=0)
    forest.fit(MorganCountFeaturizer().featurize_chunk(mols), labels)
    expected = forest.predict_proba(MorganCountFeaturizer().featurize_chunk(mols))[:, 1]
    np.testing.assert_allclose(probability[:, 0], expected, atol=1e-12)


def test_random_forest_reports_invalid_molecule(esol):
    mols, y = esol
    with pytest.raises(InputError, match="record 3"):
        RandomForestBaseline(n_estimators=5).fit(mols[:3] + [None], y[:4])
