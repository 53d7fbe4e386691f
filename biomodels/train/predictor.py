"""Property predictors with one interface: fit on a table split, predict molecules, save, load.

:class:`GNNPredictor` trains an ensemble of :class:`~biomodels.models.property.PropertyModel`
members on graphs featurised once; :class:`ForestPredictor` wraps the fingerprint random forest.
Both predict from RDKit molecules, which is what the streaming scorer hands them, and both
report a mean and an uncertainty (ensemble spread, plus the mean-variance head's variance).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rdkit import Chem

from biomodels.data.dataset import MoleculeTable
from biomodels.data.graphs import collate_graphs
from biomodels.data.splits import Split
from biomodels.exceptions import CheckpointError
from biomodels.featurize.base import get_featurizer
from biomodels.featurize.graph import GraphArrays, featurize_graphs
from biomodels.io.atomic import atomic_path
from biomodels.models.baseline import RandomForestBaseline
from biomodels.models.property import ModelConfig, PropertyModel
from biomodels.train.checkpoint import load_checkpoint, save_checkpoint, write_json
from biomodels.train.losses import gaussian_nll, masked_bce_with_logits, masked_cross_entropy, masked_mse
from biomodels.train.metrics import compute_metrics
from biomodels.train.trainer import Trainer, TrainerConfig, TrainHistory, seed_everything

logger = logging.getLogger(__name__)

PREDICTOR_FILE = "predictor.json"


@dataclass
class Prediction:
    """Predictions for ``n`` molecules and ``T`` tasks.

    Attributes:
        mean: ``n x T`` values (regression) or probabilities of class 1 (binary), or
            ``n x T x C`` class probabilities (multiclass).
        std: ``n x T`` ensemble standard deviation (0 for a single model); for a mean-variance
            head the aleatoric standard deviation is folded in (total = sqrt(spread^2 + var)).
    """

    mean: np.ndarray
    std: np.ndarray


@dataclass
class Scaler:
    """Per-column standardisation fitted on training rows; NaN ignored when fitting.

    A ``bounded`` scaler also clips standardised values to the range the training rows span, so
    that a molecule far outside it cannot blow up the model's input: RDKit's ``Ipc`` descriptor
    reaches 1e13, which standardised to 3e5 on an ESOL scaffold split and gave an RMSE of 28.
    """

    mean: np.ndarray
    scale: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    @classmethod
    def fit(cls, values: np.ndarray, bounded: bool = False) -> Scaler:
        with np.errstate(all="ignore"):
            mean = np.nan_to_num(np.nanmean(values, axis=0))
            scale = np.nan_to_num(np.nanstd(values, axis=0), nan=1.0)
        scale[scale < 1e-8] = 1.0
        scaler = cls(mean.astype(np.float32), scale.astype(np.float32))
        if bounded and len(values):
            standardised = scaler.transform(values)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                scaler.low = np.nan_to_num(np.nanmin(standardised, axis=0)).astype(np.float32)
                scaler.high = np.nan_to_num(np.nanmax(standardised, axis=0)).astype(np.float32)
        return scaler

    def transform(self, values: np.ndarray) -> np.ndarray:
        standardised = ((values - self.mean) / self.scale).astype(np.float32)
        if self.low is not None and self.high is not None:
            np.clip(standardised, self.low, self.high, out=standardised)
        return standardised

    def to_dict(self) -> dict[str, list[float]]:
        data = {"mean": self.mean.tolist(), "scale": self.scale.tolist()}
        if self.low is not None and self.high is not None:
            data.update(low=self.low.tolist(), high=self.high.tolist())
        return data

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> Scaler:
        def array(key: str) -> np.ndarray | None:
            return np.asarray(data[key], np.float32) if key in data else None

        return cls(array("mean"), array("scale"), array("low"), array("high"))


def _loss_for(config: ModelConfig):
    """Masked loss on the model's raw outputs (targets already standardised for regression)."""

    def loss_fn(outputs: torch.Tensor, batch: Any) -> torch.Tensor:
        if config.task == "binary":
            return masked_bce_with_logits(outputs, batch.y, batch.y_mask)
        if config.task == "multiclass":
            return masked_cross_entropy(outputs, batch.y, batch.y_mask)
        if config.head == "mve":
            return gaussian_nll(outputs[..., 0], outputs[..., 1], batch.y, batch.y_mask)
        return masked_mse(outputs, batch.y, batch.y_mask)

    return loss_fn


@dataclass
class GNNPredictor:
    """Ensemble of graph neural networks for one table's targets.

    Args:
        model: architecture of every member (``task``/``n_tasks`` are set by :meth:`fit`).
        trainer: optimisation settings; member ``i`` is seeded with ``seed + i``.
        ensemble: number of members, trained on the same split from different initialisations.
        batch_size: molecules per batch.
        extra_features: name of a molecule featurizer (``rdkit2d``, ``morgan``...) whose
            standardised output is concatenated to the graph embedding, or ``None``.
        seed: base seed.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    ensemble: int = 1
    batch_size: int = 50
    extra_features: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        self.members_: list[PropertyModel] = []
        self.histories_: list[TrainHistory] = []
        self.target_scaler_: Scaler | None = None
        self.feature_scaler_: Scaler | None = None
        self.target_names_: list[str] = []
        self.classes_: list[str] | None = None

    # ----------------------------------------------------------------- training
    def fit(self, table: MoleculeTable, split: Split, extra: np.ndarray | None = None) -> GNNPredictor:
        """Train every member on ``split.train``, selecting each member's best epoch on ``split.val``.

        Args:
            table: the featurised data set.
            split: indices into the table's valid molecules.
            extra: precomputed ``len(table) x D`` extra features (else computed when configured).
        """
        self.target_names_, self.classes_ = list(table.target_names), table.classes
        self.model.task = table.task
        self.model.n_tasks = table.targets.shape[1]
        self.model.n_classes = len(table.classes) if table.task == "multiclass" else 1
        targets = table.targets
        if table.task == "regression":
            self.target_scaler_ = Scaler.fit(targets[split.train])
            targets = self.target_scaler_.transform(targets)
        if self.extra_features and extra is None:
            extra = table.extra if table.extra is not None else self._extra_from_smiles(table.smiles)
        if extra is not None:
            self.feature_scaler_ = Scaler.fit(extra[split.train], bounded=True)
            extra = np.nan_to_num(self.feature_scaler_.transform(extra))
            self.model.extra_dim = extra.shape[1]
        monitor, mode = (
            ("rmse", "min")
            if table.task == "regression"
            else (("roc_auc", "max") if table.task == "binary" else ("accuracy", "max"))
        )
        rng = np.random.default_rng(self.seed)
        val_batches = self._batches(table.graphs, split.val, targets, extra)

        def train_batches():
            order = rng.permutation(split.train)
            return self._batches(table.graphs, order, targets, extra)

        def val_metric(outputs: list[torch.Tensor], batches: list[Any]) -> dict[str, float]:
            pred = self._postprocess(model, torch.cat(outputs))[0]  # the member being trained
            truth = table.targets[split.val]
            return compute_metrics(table.task, truth, pred)["mean"]

        self.members_, self.histories_ = [], []
        for member in range(self.ensemble):
            seed_everything(self.seed + member)
            model = PropertyModel(self.model)
            config = TrainerConfig(
                **{**self.trainer.to_dict(), "seed": self.seed + member, "monitor": monitor, "mode": mode}
            )
            trainer = Trainer(config)
            history = trainer.fit(
                model,
                train_batches,
                val_batches if len(split.val) else None,
                _loss_for(self.model),
                val_metric if len(split.val) else None,
            )
            model.cpu().eval()
            self.members_.append(model)
            self.histories_.append(history)
            logger.info(
                "member %d/%d: best epoch %s, %s %.4f",
                member + 1,
                self.ensemble,
                history.best_epoch,
                monitor,
                history.best_score,
            )
        return self

    def _batches(
        self, graphs: GraphArrays, indices: np.ndarray, targets: np.ndarray | None, extra: np.ndarray | None
    ) -> list[Any]:
        return [
            collate_graphs(graphs, indices[i : i + self.batch_size], targets, extra)
            for i in range(0, len(indices), self.batch_size)
        ]

    def _extra_from_smiles(self, smiles: Sequence[str]) -> np.ndarray:
        mols = [Chem.MolFromSmiles(s) for s in smiles]
        return get_featurizer(self.extra_features).featurize_chunk(mols).astype(np.float32)

    # --------------------------------------------------------------- prediction
    def _postprocess(
        self, model: PropertyModel, outputs: torch.Tensor
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw outputs -> predictions in target units (and variances for a mean-variance head)."""
        mean, var = model.postprocess(outputs)
        mean = mean.detach().numpy()
        var = None if var is None else var.detach().numpy()
        if self.target_scaler_ is not None:
            mean = mean * self.target_scaler_.scale + self.target_scaler_.mean
            if var is not None:
                var = var * self.target_scaler_.scale**2
        return mean, var

    @torch.no_grad()
    def predict_graphs(self, graphs: GraphArrays, extra: np.ndarray | None = None) -> Prediction:
        """Predict every molecule of ``graphs`` (``extra``: raw, unscaled extra features)."""
        if not self.members_:
            raise RuntimeError("predictor is not fitted")
        if self.feature_scaler_ is not None:
            extra = np.nan_to_num(self.feature_scaler_.transform(extra))
        indices = np.arange(len(graphs))
        batches = self._batches(graphs, indices, None, extra) if len(graphs) else []
        means, variances = [], []
        for model in self.members_:
            outputs = [model(batch) for batch in batches]
            if not outputs:
                continue
            mean, var = self._postprocess(model, torch.cat(outputs))
            means.append(mean)
            if var is not None:
                variances.append(var)
        shape = (0, len(self.target_names_)) + ((len(self.classes_),) if self.classes_ else ())
        if not means:
            return Prediction(np.zeros(shape, np.float32), np.zeros(shape[:2], np.float32))
        stacked = np.stack(means)
        mean = stacked.mean(axis=0)
        spread = stacked.std(axis=0)
        if self.model.task == "multiclass":
            spread = spread.max(axis=-1)
        total_var = spread**2 + (np.mean(variances, axis=0) if variances else 0.0)
        return Prediction(mean.astype(np.float32), np.sqrt(total_var).astype(np.float32))

    def predict_mols(
        self, mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None
    ) -> Prediction:
        """Featurise valid RDKit molecules and predict them."""
        graphs = featurize_graphs(mols, smiles)
        extra = None
        if self.extra_features:
            extra = get_featurizer(self.extra_features).featurize_chunk(mols).astype(np.float32)
        return self.predict_graphs(graphs, extra)

    # ------------------------------------------------------------- persistence
    def config(self) -> dict[str, Any]:
        return {
            "kind": "gnn",
            "model": self.model.to_dict(),
            "trainer": self.trainer.to_dict(),
            "ensemble": self.ensemble,
            "batch_size": self.batch_size,
            "extra_features": self.extra_features,
            "seed": self.seed,
            "target_names": self.target_names_,
            "classes": self.classes_,
            "featurizer": get_featurizer("graph").config(),
            "target_scaler": None if self.target_scaler_ is None else self.target_scaler_.to_dict(),
            "feature_scaler": None if self.feature_scaler_ is None else self.feature_scaler_.to_dict(),
        }

    def save(self, directory: str | Path) -> Path:
        """Write ``predictor.json`` and one safetensors checkpoint per member under ``directory``."""
        directory = Path(directory)
        for index, model in enumerate(self.members_):
            save_checkpoint(directory / f"member_{index}", model, {"model": self.model.to_dict()})
        write_json(directory / PREDICTOR_FILE, self.config())
        return directory

    @classmethod
    def from_config(cls, config: dict[str, Any], directory: Path) -> GNNPredictor:
        predictor = cls(
            ModelConfig.from_dict(config["model"]),
            TrainerConfig(**config["trainer"]),
            config["ensemble"],
            config["batch_size"],
            config["extra_features"],
            config["seed"],
        )
        predictor.target_names_ = config["target_names"]
        predictor.classes_ = config["classes"]
        if config["target_scaler"]:
            predictor.target_scaler_ = Scaler.from_dict(config["target_scaler"])
        if config["feature_scaler"]:
            predictor.feature_scaler_ = Scaler.from_dict(config["feature_scaler"])
        for index in range(config["ensemble"]):
            model, _ = load_checkpoint(
                directory / f"member_{index}", lambda c: PropertyModel(ModelConfig.from_dict(c["model"]))
            )
            predictor.members_.append(model.eval())
        return predictor


@dataclass
class ForestPredictor:
    """The random-forest baseline behind the predictor interface (std = spread over trees)."""

    n_estimators: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        self.forest_: RandomForestBaseline | None = None
        self.target_names_: list[str] = []
        self.classes_: list[str] | None = None
        self.task_ = "regression"
        self.histories_: list[TrainHistory] = []

    def fit(self, table: MoleculeTable, split: Split, extra: np.ndarray | None = None) -> ForestPredictor:
        if table.task == "multiclass":
            raise ValueError("the random-forest baseline handles regression and binary tasks")
        self.task_, self.target_names_ = table.task, list(table.target_names)
        mols = [Chem.MolFromSmiles(table.smiles[i]) for i in split.train]
        self.forest_ = RandomForestBaseline(
            task=table.task, n_estimators=self.n_estimators, n_jobs=-1, random_state=self.seed
        )
        self.forest_.fit(mols, table.targets[split.train])
        return self

    def predict_mols(
        self, mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None
    ) -> Prediction:
        if self.forest_ is None:
            raise RuntimeError("predictor is not fitted")
        if not len(mols):
            shape = (0, len(self.target_names_))
            return Prediction(np.zeros(shape, np.float32), np.zeros(shape, np.float32))
        mean, std = self.forest_.predict(list(mols))
        return Prediction(
            np.asarray(mean, np.float32).reshape(len(mols), -1),
            np.asarray(std, np.float32).reshape(len(mols), -1),
        )

    def config(self) -> dict[str, Any]:
        return {
            "kind": "rf",
            "n_estimators": self.n_estimators,
            "seed": self.seed,
            "task": self.task_,
            "target_names": self.target_names_,
            "classes": None,
        }

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / "forest.npz") as tmp:
            self.forest_.save(tmp)
        write_json(directory / PREDICTOR_FILE, self.config())
        return directory

    @classmethod
    def from_config(cls, config: dict[str, Any], directory: Path) -> ForestPredictor:
        predictor = cls(config["n_estimators"], config["seed"])
        predictor.task_, predictor.target_names_ = config["task"], config["target_names"]
        predictor.forest_ = RandomForestBaseline.load(directory / "forest.npz")
        return predictor


Predictor = GNNPredictor | ForestPredictor


def load_predictor(directory: str | Path) -> Predictor:
    """Load a predictor saved by ``save`` (a run directory's ``model/`` folder).

    Raises:
        CheckpointError: missing or unreadable ``predictor.json``, unknown kind, or any member
            checkpoint that is missing, corrupt or does not match its architecture.
    """
    directory = Path(directory)
    path = directory / PREDICTOR_FILE
    if not path.exists():
        raise CheckpointError(directory, f"no {PREDICTOR_FILE}; not a trained biomodels model folder")
    try:
        config = read_config_json(path)
        kind = config["kind"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(path, f"unreadable predictor config ({exc})") from None
    if kind == "gnn":
        return GNNPredictor.from_config(config, directory)
    if kind == "rf":
        return ForestPredictor.from_config(config, directory)
    raise CheckpointError(path, f"unknown predictor kind {kind!r}")


def read_config_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
