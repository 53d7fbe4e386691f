"""One training run end to end: read, split, fit, evaluate, plot, save a run directory.

Run directory layout::

    RUN_DIR/
      config.json              the run's settings (this module's TrainRunConfig)
      environment.json         package versions, platform, device
      splits.json              train/val/test indices into the valid molecules
      metrics.json             per split: per-task and mean metrics
      predictions_{train,val,test}.csv   row, id, smiles, truth, prediction, std per target
      training_curves.png      loss and validation metric per epoch (first member)
      parity.png | roc_pr.png  test-set plot (regression | classification)
      run.log                  the log
      model/                   predictor.json + one safetensors checkpoint per ensemble member
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem

from biomodels.data.dataset import MoleculeTable
from biomodels.data.splits import SPLITTERS, Split
from biomodels.exceptions import InputError
from biomodels.models.property import ModelConfig
from biomodels.report.plots import plot_parity, plot_roc_pr, plot_training_curves
from biomodels.train.metrics import compute_metrics
from biomodels.train.predictor import ForestPredictor, GNNPredictor, Prediction, Predictor
from biomodels.train.rundir import RunDirectory
from biomodels.train.trainer import TrainerConfig

logger = logging.getLogger(__name__)

MODELS = ("dmpnn", "gin", "gcn", "gat", "attentivefp", "rf")


@dataclass
class TrainRunConfig:
    """Everything that defines a training run; saved as the run's ``config.json``."""

    data: str
    targets: list[str]
    smiles_col: str | None = None
    task: str | None = None
    model: str = "dmpnn"
    split: str = "random"
    sizes: tuple[float, float, float] = (0.8, 0.1, 0.1)
    ensemble: int = 1
    epochs: int = 50
    batch_size: int = 50
    hidden: int = 300
    depth: int = 3
    dropout: float = 0.0
    ffn_layers: int = 1
    readout: str = "mean"
    head: str = "ffn"
    lr: float = 1e-3
    extra_features: str | None = None
    n_estimators: int = 500
    seed: int = 0
    device: str = "auto"
    workers: int = 0
    progress: bool = False
    encoder_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise InputError(None, f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        SPLITTERS.get(self.split)

    def build_predictor(self) -> Predictor:
        if self.model == "rf":
            return ForestPredictor(n_estimators=self.n_estimators, seed=self.seed)
        model = ModelConfig(
            encoder=self.model,
            hidden=self.hidden,
            depth=self.depth,
            dropout=self.dropout,
            readout=self.readout,
            head=self.head,
            ffn_hidden=self.hidden,
            ffn_layers=self.ffn_layers,
            encoder_options=dict(self.encoder_options),
        )
        trainer = TrainerConfig(
            epochs=self.epochs, lr=self.lr, device=self.device, seed=self.seed, progress=self.progress
        )
        return GNNPredictor(model, trainer, self.ensemble, self.batch_size, self.extra_features, self.seed)


@dataclass
class TrainRunResult:
    """What :func:`train_run` produced."""

    run_dir: Path
    metrics: dict[str, Any]
    predictor: Predictor
    split: Split
    seconds: float


def make_split(config: TrainRunConfig, table: MoleculeTable) -> Split:
    """Split the table's valid molecules as the config says."""
    splitter = SPLITTERS.get(config.split)
    if config.split == "scaffold":
        return splitter(table.smiles, sizes=config.sizes, seed=config.seed)
    if config.split == "stratified":
        if table.task == "regression":
            raise InputError(table.path, "a stratified split needs a classification target")
        return splitter(table.targets, sizes=config.sizes, seed=config.seed)
    return splitter(len(table), sizes=config.sizes, seed=config.seed)


def prediction_frame(table: MoleculeTable, indices: np.ndarray, prediction: Prediction) -> pd.DataFrame:
    """Rows ``indices`` of the table with truth, prediction and std per target."""
    meta = table.meta.loc[table.valid].iloc[indices]
    frame = pd.DataFrame(
        {"row": meta["row"].to_numpy(), "id": meta["id"].to_numpy(), "smiles": meta["smiles"].to_numpy()}
    )
    for t, name in enumerate(table.target_names):
        frame[name] = table.targets[indices, t]
        if table.task == "multiclass":
            frame[f"{name}_pred"] = [table.classes[k] for k in prediction.mean[:, t].argmax(-1)]
            for c, label in enumerate(table.classes):
                frame[f"{name}_prob_{label}"] = prediction.mean[:, t, c]
        else:
            frame[f"{name}_pred"] = prediction.mean[:, t]
        frame[f"{name}_std"] = prediction.std[:, t]
    return frame


def predict_indices(predictor: Predictor, table: MoleculeTable, indices: np.ndarray) -> Prediction:
    """Predict a subset of the table's molecules (GNNs reuse the graphs; forests re-read SMILES)."""
    smiles = [table.smiles[i] for i in indices]
    if isinstance(predictor, GNNPredictor):
        extra = None
        if predictor.extra_features:
            extra = table.extra[indices] if table.extra is not None else predictor._extra_from_smiles(smiles)
        return predictor.predict_graphs(table.graphs.take(indices), extra)
    return predictor.predict_mols([Chem.MolFromSmiles(s) for s in smiles], smiles)


def train_run(config: TrainRunConfig, out: str | Path) -> TrainRunResult:
    """Train, evaluate and save one run into ``out`` (see the module docstring for the layout)."""
    started = time.perf_counter()
    run = RunDirectory(out)
    with run.log_to():
        run.write_json("config.json", asdict(config))
        run.record_environment()
        table = MoleculeTable.from_file(
            config.data,
            config.targets,
            config.smiles_col,
            config.task,
            workers=config.workers,
            extra_features=config.extra_features,
        )
        if len(table) < 3:
            raise InputError(config.data, f"only {len(table)} valid molecules; need at least 3")
        split = make_split(config, table)
        split.to_json(run.file("splits.json"))
        logger.info(
            "split %s: %d train / %d val / %d test",
            config.split,
            len(split.train),
            len(split.val),
            len(split.test),
        )
        predictor = config.build_predictor().fit(table, split)
        metrics: dict[str, Any] = {}
        for name in ("train", "val", "test"):
            indices = getattr(split, name)
            if not len(indices):
                continue
            prediction = predict_indices(predictor, table, indices)
            run.write_table(f"predictions_{name}.csv", prediction_frame(table, indices, prediction))
            y_std = prediction.std if table.task == "regression" else None
            metrics[name] = compute_metrics(
                table.task,
                table.targets[indices],
                prediction.mean,
                y_std=y_std,
                task_names=table.target_names,
            )
            if name == "test":
                _plot_test(run, table, indices, prediction)
        if predictor.histories_:
            plot_training_curves(predictor.histories_[0], run.file("training_curves.png"))
        predictor.save(run.file("model"))
        seconds = time.perf_counter() - started
        metrics["seconds"] = seconds
        metrics["n_molecules"] = {"valid": len(table), "rows": len(table.meta)}
        run.write_json("metrics.json", metrics)
        logger.info("run finished in %.1f s; test %s", seconds, metrics.get("test", {}).get("mean"))
    return TrainRunResult(run.path, metrics, predictor, split, seconds)


def _plot_test(run: RunDirectory, table: MoleculeTable, indices: np.ndarray, prediction: Prediction) -> None:
    truth = table.targets[indices]
    if table.task == "regression":
        plot_parity(
            truth[:, 0],
            prediction.mean[:, 0],
            run.file("parity.png"),
            y_std=prediction.std[:, 0],
            title=f"{table.target_names[0]} (test)",
        )
    elif table.task == "binary":
        plot_roc_pr(truth, prediction.mean, run.file("roc_pr.png"), names=table.target_names)
    else:
        plot_roc_pr(truth[:, 0], prediction.mean[:, 0], run.file("roc_pr.png"), names=table.classes)
