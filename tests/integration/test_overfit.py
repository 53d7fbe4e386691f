"""Every model memorises 32 ESOL molecules: cheap checks that catch wiring bugs.

Graph models (small: hidden 64, depth 2; plus D-MPNN at chemprop's default size) train full
batch with Adam (linearly decayed learning rate) on standardised targets and must reach a
training RMSE below 0.15 target standard deviations.
"""

from __future__ import annotations

import csv
from itertools import islice

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from rdkit import Chem
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from biomodels.data.graphs import collate_graphs
from biomodels.exceptions import InputError
from biomodels.featurize.graph import featurize_graphs
from biomodels.featurize.molecular import MorganCountFeaturizer
from biomodels.models import ModelConfig, PropertyModel, RandomForestBaseline
from biomodels.nn import ENCODERS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small graphs train faster on one thread, and a shared 2-core box stays responsive."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def esol(shared_data) -> tuple[list[Chem.Mol], np.ndarray]:
    with open(shared_data / "molnet" / "esol.csv", newline="") as handle:
        rows = list(islice(csv.DictReader(handle), 32))
    return [Chem.MolFromSmiles(r["smiles"]) for r in rows], np.array([float(r["logp"]) for r in rows])


def _train(model: PropertyModel, batch, loss_fn, steps: int = 200, lr: float = 1e-2) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1 - step / steps)
    for _ in range(steps):
        optimiser.zero_grad()
        loss_fn(model(batch), batch).backward()
        optimiser.step()
        schedule.step()
    model.eval()


def _masked_mse(outputs: torch.Tensor, batch) -> torch.Tensor:
    """MSE over labelled entries only; NaN targets never enter the graph (no NaN gradients)."""
    return (outputs[batch.y_mask] - batch.y[batch.y_mask]).pow(2).mean()


def _regression_rmse(esol, config: ModelConfig, **train_options) -> float:
    """Train RMSE, in target standard deviations, after memorising the 32 molecules."""
    mols, y = esol
    scaled = (y - y.mean()) / y.std()
    batch = collate_graphs(featurize_graphs(mols), range(len(mols)), scaled[:, None])
    torch.manual_seed(0)
    model = PropertyModel(config)
    _train(model, batch, _masked_mse, **train_options)
    with torch.no_grad():
        return _masked_mse(model(batch), batch).sqrt().item()


@pytest.mark.parametrize("encoder", ENCODERS.names())
def test_graph_model_memorises_regression(esol, encoder):
    config = ModelConfig(encoder=encoder, hidden=64, depth=2, ffn_hidden=64)
    rmse = _regression_rmse(esol, config)
    assert rmse < 0.15, f"{encoder}: train RMSE {rmse:.3f} target std"


def test_default_dmpnn_memorises_regression(esol):
    rmse = _regression_rmse(esol, ModelConfig(), steps=100, lr=3e-3)
    assert rmse < 0.15, f"train RMSE {rmse:.3f} target std"


def test_graph_model_memorises_binary_labels(esol):
    mols, y = esol
    labels = (y > np.median(y)).astype(np.float32)
    batch = collate_graphs(featurize_graphs(mols), range(len(mols)), labels[:, None])
    torch.manual_seed(0)
    model = PropertyModel(ModelConfig(hidden=64, depth=2, ffn_hidden=64, task="binary"))
    _train(model, batch, lambda out, b: F.binary_cross_entropy_with_logits(out, b.y))
    with torch.no_grad():
        probability, _ = model.postprocess(model(batch))
    assert ((probability > 0.5).float() == batch.y).all()


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
        loss = _masked_mse(model(batch), batch)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    assert torch.isfinite(results[0][0])
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

    model.save(tmp_path / "rf.npz")
    reloaded = RandomForestBaseline.load(tmp_path / "rf.npz")
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
