"""Fixtures: small saved models (random weights: fast, and real checkpoints) and a library with bad rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem, RDConfig

from biomodels.chem.domain import ApplicabilityDomain
from biomodels.chem.similarity import packed_fingerprints
from biomodels.models.property import ModelConfig, PropertyModel
from biomodels.train.property import GNNEstimator, Scaler

NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
BAD_ROWS = {3: "C1CC", 10: "", 17: "N(C)(C)(C)(C)C", 25: "not_a_smiles"}
"""Row -> invalid SMILES placed among the NCI molecules of :func:`library`."""


def training_domain(targets: list[str], n: int = 60) -> ApplicabilityDomain:
    """A domain as if the model had been trained on NCI records 100 to 100 + ``n`` (ids
    ``train<i>``), with labels from -1 to 2."""
    lines = NCI.read_text().splitlines()[100 : 100 + n]
    smiles = [line.split()[0] for line in lines]
    labels = {t: np.linspace(-1.0, 2.0, n) for t in targets}
    ids = [f"train{i}" for i in range(n)]
    bits = packed_fingerprints([Chem.MolFromSmiles(s) for s in smiles])
    return ApplicabilityDomain.fit(bits, smiles, ids, labels)


def save_model(run_dir: Path, targets: list[str], ensemble: int, seed: int) -> Path:
    """Save a small D-MPNN ensemble with random weights and :func:`training_domain` as a run
    directory's ``model/``."""
    torch.manual_seed(seed)
    config = ModelConfig(hidden=16, depth=2, ffn_hidden=16, task="regression", n_tasks=len(targets))
    estimator = GNNEstimator(hidden=16, depth=2, ensemble=ensemble, batch_size=64, seed=seed)
    estimator.model_config_ = config
    estimator.members_ = [PropertyModel(config).eval() for _ in range(ensemble)]
    estimator.target_names_, estimator.classes_, estimator.task_ = list(targets), None, "regression"
    ones = np.ones(len(targets), np.float32)
    estimator.target_scaler_, estimator.feature_scaler_ = Scaler(ones, 2 * ones), None
    estimator.domain_ = training_domain(targets)
    estimator.fitted_ = True
    estimator.save(run_dir / "model")
    return run_dir


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Score with one torch thread in this process: small batches on busy shared cores run far
    slower with several (pool and Dask workers use one thread each anyway)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def run_a(tmp_path_factory) -> Path:
    """Two-member ensemble predicting ``logp``."""
    return save_model(tmp_path_factory.mktemp("runs") / "a", ["logp"], ensemble=2, seed=1)


@pytest.fixture(scope="session")
def run_b(tmp_path_factory) -> Path:
    """One-member model predicting ``solubility`` and ``potency``."""
    return save_model(tmp_path_factory.mktemp("runs") / "b", ["solubility", "potency"], ensemble=1, seed=2)


def write_library(path: Path, n: int, bad: dict[int, str] | None = None) -> Path:
    """The first ``n`` NCI records as a SMILES file, rows in ``bad`` replaced by invalid SMILES."""
    bad = BAD_ROWS if bad is None else bad
    lines = NCI.read_text().splitlines()[:n]
    for row, smiles in bad.items():
        lines[row] = f"{smiles} bad{row}" if smiles else ""  # an empty line is a record too
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def library(tmp_path_factory) -> Path:
    """300 NCI molecules with four invalid rows mixed in."""
    return write_library(tmp_path_factory.mktemp("lib") / "lib.smi", 300)


CLI_SCRIPT = "from biomodels.cli.main import app\napp()\n"
"""``python -c`` program running the ``biomodels`` CLI."""
