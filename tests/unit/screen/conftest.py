"""Fixtures: small saved models (random weights: fast, and real checkpoints) and a library with bad rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import RDConfig

from biomodels.models.property import ModelConfig, PropertyModel
from biomodels.train.property import GNNEstimator, Scaler

NCI = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
BAD_ROWS = {3: "C1CC", 10: "", 17: "N(C)(C)(C)(C)C", 25: "not_a_smiles"}
"""Row -> invalid SMILES placed among the NCI molecules of :func:`library`."""


def save_model(run_dir: Path, targets: list[str], ensemble: int, seed: int) -> Path:
    """Save a small D-MPNN ensemble with random weights as a run directory's ``model/``."""
    torch.manual_seed(seed)
    config = ModelConfig(hidden=16, depth=2, ffn_hidden=16, task="regression", n_tasks=len(targets))
    model = GNNEstimator(hidden=16, depth=2, ensemble=ensemble, batch_size=64, seed=seed)
    model.model_config_, model.task_ = config, "regression"
    model.members_ = [PropertyModel(config).eval() for _ in range(ensemble)]
    model.target_names_, model.classes_ = list(targets), None
    ones = np.ones(len(targets), np.float32)
    model.target_scaler_, model.feature_scaler_ = Scaler(ones, 2 * ones), None
    model.histories_, model.fitted_ = [], True
    model.save(run_dir / "model")
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


CLI_SCRIPT = (
    "from biomodels.cli.main import app\n"
    "from biomodels.cli.screen import screen\n"
    "if not any(getattr(c.callback, '__name__', '') == 'screen' for c in app.registered_commands):\n"
    "    app.command()(screen)\n"
    "app()\n"
)
"""``python -c`` program running the ``biomodels`` CLI with ``screen`` registered."""


@pytest.fixture(scope="session")
def cli_app():
    """The ``biomodels`` typer app, with ``screen`` registered if ``cli/main.py`` does not yet."""
    from biomodels.cli.main import app
    from biomodels.cli.screen import screen

    if not any(getattr(c.callback, "__name__", "") == "screen" for c in app.registered_commands):
        app.command()(screen)
    return app
