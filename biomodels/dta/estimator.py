"""The drug-target affinity model under the estimator protocol (:data:`~biomodels.registry.MODELS`
key ``dta``), so ``train_run`` writes its run directory and ``load_run`` reads it back.

What it takes:

- ``fit``/``evaluate``: :class:`~biomodels.dta.data.AffinityData` (measured pairs);
- ``predict``: :class:`~biomodels.dta.data.AffinityData` (one row per pair, with the truth), or
  ``(ligands, targets)``: every ligand x every target, ligand-major. ``ligands`` is anything
  :func:`~biomodels.io.molecules.records_from` reads (SMILES list, DataFrame, molecule file) or
  parsed records; ``targets`` a sequence file (:func:`~biomodels.dta.targets.read_targets`),
  :class:`~biomodels.dta.targets.Target` objects or protein sequences.

Prediction columns of a grid: ``ligand_row, ligand_id, smiles, target_id, target_source,
affinity, error``; of measured pairs: ``row, ligand_id, target_id, affinity_true, affinity,
error``. Affinities are in the training data's units (pKd for Davis).

Each distinct compound and protein of a batch is encoded once: graphs and protein inputs are
computed once per data set, a batch gathers its distinct rows, and the pairs index into them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch

from biomodels.data.graphs import collate_graphs
from biomodels.data.splits import SPLITTERS, Split, load_split_file
from biomodels.dta.data import AffinityData, load_affinity_data, sequence_error
from biomodels.dta.targets import Target, read_targets
from biomodels.exceptions import InputError
from biomodels.featurize.graph import GraphArrays, featurize_graphs
from biomodels.io.molecules import MoleculeParser, records_from
from biomodels.models.affinity import AffinityConfig, AffinityModel, PairBatch
from biomodels.nn import PROTEIN_ENCODERS
from biomodels.train.estimator import Estimator, TrainingData
from biomodels.train.metrics import affinity_metrics
from biomodels.train.trainer import Trainer, TrainerConfig, seed_everything
from biomodels.types import MoleculeRecord

if TYPE_CHECKING:
    from biomodels.train.run import TrainRunConfig

logger = logging.getLogger(__name__)

__all__ = ["PAIR_SPLITS", "AffinityEstimator", "as_targets"]

PAIR_SPLITS: tuple[str, ...] = ("random", *SPLITTERS.names(needs="pairs"))
"""The splits of drug-target pairs: ``random`` plus the pair splitters of :data:`SPLITTERS`."""
_EMBED_CHUNK = 256  # compounds or proteins encoded per forward pass at prediction time
_HEAD_CHUNK = 65_536  # pairs scored per pass of the head


@dataclass(eq=False, repr=False)  # the constructor stores the hyperparameters, nothing else
class AffinityEstimator(Estimator):
    """Ligand graph encoder + protein sequence encoder + interaction head (one network).

    Args:
        ligand_encoder, hidden, depth, readout: the compound side (see
            :class:`~biomodels.models.affinity.AffinityConfig`).
        protein_encoder: :data:`~biomodels.nn.PROTEIN_ENCODERS` key: ``kmer`` (default: an MLP
            on cached k-mer frequencies, 6 to 17 s per Davis epoch on two shared CPU cores) or
            ``cnn`` (DeepDTA's convolutions, about 30 times slower per batch on that CPU);
            ``protein_options`` its keyword arguments; ``max_length``: residues kept per
            protein by ``cnn`` (DeepDTA: 1000).
        ffn_hidden, ffn_layers, dropout: the interaction head.
        epochs, batch_size, lr, patience: optimisation (Adam, warm-up then decay to lr / 10;
            the epoch with the lowest validation MSE is kept; ``patience`` stops early).
        seed: seeds the weights and the batch order. device: ``auto``, ``cpu`` or ``cuda``.
        progress: a bar over epochs.
    """

    input_kind: ClassVar[str] = "pair"
    _positive: ClassVar[tuple[str, ...]] = (
        "hidden", "depth", "max_length", "ffn_hidden", "epochs", "batch_size", "lr",
    )  # fmt: skip

    ligand_encoder: str = "gin"
    hidden: int = 128
    depth: int = 3
    readout: str = "sum"
    protein_encoder: str = "kmer"
    protein_options: dict[str, Any] | None = None
    max_length: int = 1000
    ffn_hidden: int = 512
    ffn_layers: int = 2
    dropout: float = 0.1
    epochs: int = 100
    batch_size: int = 1024
    lr: float = 2e-3
    patience: int | None = None
    seed: int = 0
    device: str = "auto"
    progress: bool = False

    def check_params(self) -> None:
        super().check_params()
        if not 0 <= self.dropout < 1:
            raise InputError(None, f"{self.name}: dropout must be in [0, 1), got {self.dropout!r}")
        PROTEIN_ENCODERS.get(self.protein_encoder)

    # ----------------------------------------------------------------- training
    def training_data(self, config: TrainRunConfig) -> TrainingData:
        """Read ``config.data`` (DeepDTA directory or pair table) and split its pairs."""
        if config.split not in PAIR_SPLITS:
            raise InputError(
                config.data,
                f"a {config.split} split is not for drug-target pairs; use one of: {', '.join(PAIR_SPLITS)}",
            )
        data = load_affinity_data(config.data)
        split = self._split(config, data)
        for name in ("train", "test"):
            if not len(getattr(split, name)):
                raise InputError(config.data, f"the {config.split} split leaves no {name} pairs")
        logger.info(
            "split %s: %d train / %d val / %d test pairs",
            split.method,
            len(split.train),
            len(split.val),
            len(split.test),
        )
        return TrainingData(
            data.subset(split.train),
            data.subset(split.val),
            data.subset(split.test),
            split.to_dict(),
            data.summary(),
        )

    @staticmethod
    def _split(config: TrainRunConfig, data: AffinityData) -> Split:
        if config.split_file:
            return load_split_file(config.split_file, len(data))
        if config.split == "setting1" and data.folds is None:
            raise InputError(
                data.folds_missing or data.path,
                "not found: the setting1 split needs the data set's folds; "
                f"use --split {' | '.join(s for s in PAIR_SPLITS if s != 'setting1')}",
            )
        return SPLITTERS.get(config.split)(data.pairs(), sizes=config.sizes, seed=config.seed)

    def fit(self, data: AffinityData, val: AffinityData | None = None) -> AffinityEstimator:
        """Train the network on ``data``, keeping the epoch of lowest MSE on ``val``."""
        self.check_params()
        self.mean_ = float(np.mean(data.affinity))
        self.scale_ = float(np.std(data.affinity)) or 1.0
        self.units_ = data.units
        self.config_ = AffinityConfig(
            ligand_encoder=self.ligand_encoder,
            hidden=self.hidden,
            depth=self.depth,
            readout=self.readout,
            protein_encoder=self.protein_encoder,
            protein_options=dict(self.protein_options or {}),
            ffn_hidden=self.ffn_hidden,
            ffn_layers=self.ffn_layers,
            dropout=self.dropout,
        )
        seed_everything(self.seed)
        self.model_ = AffinityModel(self.config_)
        rng = np.random.default_rng(self.seed)
        train_inputs = self._inputs(data)

        def train_batches() -> list[PairBatch]:
            return self._batches(train_inputs, data, rng.permutation(len(data)))

        has_val = val is not None and len(val) > 0
        val_batches = self._batches(self._inputs(val), val, np.arange(len(val))) if has_val else None

        def val_metric(outputs: list[torch.Tensor], batches: list[PairBatch]) -> dict[str, float]:
            scores = affinity_metrics(val.affinity, self._unscale(torch.cat(outputs)))
            return {"mse": scores["mse"], "ci": scores["ci"]}

        config = TrainerConfig(
            epochs=self.epochs,
            lr=self.lr,
            init_lr=self.lr / 10,
            final_lr=self.lr / 10,
            warmup_epochs=min(2.0, self.epochs / 10),
            patience=self.patience,
            monitor="mse" if has_val else "val_loss",
            device=self.device,
            seed=self.seed,
            progress=self.progress,
        )
        self.history_ = Trainer(config).fit(
            self.model_, train_batches, val_batches, None, val_metric if has_val else None
        )
        self.model_ = self.model_.cpu().eval()
        if has_val:
            logger.info("best epoch %d, val mse %.4f", self.history_.best_epoch + 1, self.history_.best_score)
        self.fitted_ = True
        return self

    def _inputs(self, data: AffinityData) -> tuple[GraphArrays, np.ndarray]:
        """Graphs of every compound and encoder inputs of every protein of ``data``, once."""
        encoder = PROTEIN_ENCODERS.get(self.protein_encoder)
        return featurize_graphs(data.mols, data.smiles), encoder.featurize(data.sequences, self.max_length)

    def _batches(
        self, inputs: tuple[GraphArrays, np.ndarray], data: AffinityData, order: np.ndarray
    ) -> list[PairBatch]:
        graphs, proteins = inputs
        collate = PROTEIN_ENCODERS.get(self.protein_encoder).collate
        scaled = (data.affinity - self.mean_) / self.scale_
        batches = []
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            ligands, ligand_index = np.unique(data.ligand[idx], return_inverse=True)
            targets, target_index = np.unique(data.target[idx], return_inverse=True)
            batches.append(
                PairBatch(
                    collate_graphs(graphs, ligands),
                    collate(torch.from_numpy(proteins[targets])),
                    torch.from_numpy(ligand_index.astype(np.int64)),
                    torch.from_numpy(target_index.astype(np.int64)),
                    torch.from_numpy(scaled[idx].astype(np.float32)),
                )
            )
        return batches

    def _unscale(self, outputs: torch.Tensor) -> np.ndarray:
        return outputs.detach().cpu().numpy().astype(np.float64) * self.scale_ + self.mean_

    def history(self) -> list[dict[str, Any]]:
        return [self.history_.to_dict()] if getattr(self, "history_", None) is not None else []

    # --------------------------------------------------------------- prediction
    @torch.no_grad()
    def predict_pairs(self, data: AffinityData) -> np.ndarray:
        """Predicted affinities of ``data``'s pairs, in order (``n``)."""
        self._check_fitted()
        if not len(data):
            return np.zeros(0)
        outputs = [
            self.model_(batch) for batch in self._batches(self._inputs(data), data, np.arange(len(data)))
        ]
        return self._unscale(torch.cat(outputs))

    def evaluate(self, data: AffinityData) -> dict[str, Any]:
        """MSE, RMSE, CI, r_m^2, Pearson and Spearman of the predictions of ``data``'s pairs."""
        return affinity_metrics(data.affinity, self.predict_pairs(data))

    def predict(self, data: Any) -> pd.DataFrame:
        """Predictions for measured pairs, or for every ligand x target of ``(ligands, targets)``
        (see the module docstring); every input comes out, in order, with an ``error`` column."""
        if isinstance(data, AffinityData):
            return pd.DataFrame(
                {
                    "row": data.rows,
                    "ligand_id": [data.ligand_ids[i] for i in data.ligand],
                    "target_id": [data.target_ids[j] for j in data.target],
                    "affinity_true": data.affinity,
                    "affinity": self.predict_pairs(data),
                    "error": pd.Series([None] * len(data), dtype=object),
                }
            )
        if not (isinstance(data, tuple) and len(data) == 2):
            raise TypeError("predict takes AffinityData or a (ligands, targets) pair")
        ligands, targets = data
        given = isinstance(ligands, list) and ligands and isinstance(ligands[0], MoleculeRecord)
        records = ligands if given else MoleculeParser().parse_chunk(records_from(ligands))
        targets = as_targets(targets)
        return self.predict_grid(records, targets, self.embed_targets(targets))

    @torch.no_grad()
    def embed_targets(self, targets: Sequence[Target]) -> torch.Tensor:
        """``P x d`` protein embeddings of the valid targets, in order (invalid ones skipped)."""
        self._check_fitted()
        sequences = [t.sequence for t in targets if t.ok]
        encoder = PROTEIN_ENCODERS.get(self.protein_encoder)
        blocks = [torch.zeros(0, self.model_.protein.out_dim)]
        for start in range(0, len(sequences), _EMBED_CHUNK):
            inputs = encoder.featurize(sequences[start : start + _EMBED_CHUNK], self.max_length)
            blocks.append(self.model_.protein(encoder.collate(torch.from_numpy(inputs))))
        return torch.cat(blocks)

    @torch.no_grad()
    def predict_grid(
        self, records: Sequence[MoleculeRecord], targets: Sequence[Target], target_embeddings: torch.Tensor
    ) -> pd.DataFrame:
        """Every record x every target, ligand-major (``len(records) * len(targets)`` rows).

        ``target_embeddings`` are :meth:`embed_targets` of ``targets`` (computed once when a
        large ligand file is scored chunk by chunk).
        """
        self._check_fitted()
        good_l = np.array([i for i, r in enumerate(records) if r.ok], dtype=np.int64)
        good_t = np.array([j for j, t in enumerate(targets) if t.ok], dtype=np.int64)
        n_l, n_t = len(records), len(targets)
        values = np.full((n_l, n_t), np.nan)
        errors = np.full((n_l, n_t), None, dtype=object)
        for i, r in enumerate(records):
            if not r.ok:
                errors[i, :] = f"ligand: {r.error}"
        for j, t in enumerate(targets):
            if not t.ok:
                for i in range(n_l):
                    errors[i, j] = errors[i, j] or f"target: {t.error}"
        if len(good_l) and len(good_t):
            try:
                values[np.ix_(good_l, good_t)] = self._score_grid(
                    [records[i] for i in good_l], target_embeddings
                )
            except Exception as exc:  # a model failing on a chunk marks those rows, never the run
                logger.warning("dta model failed on a chunk: %s", exc)
                errors[np.ix_(good_l, good_t)] = f"model dta failed: {' '.join(str(exc).split())}"
        return pd.DataFrame(
            {
                "ligand_row": np.repeat([r.row for r in records], n_t).astype(np.int64),
                "ligand_id": np.repeat(np.array([_ligand_id(r) for r in records], dtype=object), n_t),
                "smiles": np.repeat(np.array([r.smiles for r in records], dtype=object), n_t),
                "target_id": np.tile(np.array([t.id for t in targets], dtype=object), n_l),
                "target_source": np.tile(np.array([t.source for t in targets], dtype=object), n_l),
                "affinity": values.ravel(),
                "error": errors.ravel(),
            }
        )

    def _score_grid(self, records: Sequence[MoleculeRecord], proteins: torch.Tensor) -> np.ndarray:
        """``L x P`` affinities of valid ligand records against protein embeddings."""
        blocks = []
        for start in range(0, len(records), _EMBED_CHUNK):
            chunk = records[start : start + _EMBED_CHUNK]
            graphs = featurize_graphs([r.mol for r in chunk], [r.smiles for r in chunk])
            ligands = self.model_.embed_ligands(collate_graphs(graphs, np.arange(len(chunk))))
            li, pj = torch.meshgrid(torch.arange(len(chunk)), torch.arange(len(proteins)), indexing="ij")
            li, pj = li.reshape(-1), pj.reshape(-1)
            scores = [
                self.model_.score(ligands, proteins, li[s : s + _HEAD_CHUNK], pj[s : s + _HEAD_CHUNK])
                for s in range(0, len(li), _HEAD_CHUNK)
            ]
            blocks.append(self._unscale(torch.cat(scores)).reshape(len(chunk), len(proteins)))
        return np.concatenate(blocks)

    # ------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        return {
            "config": self.config_.to_dict(),
            "mean": self.mean_,
            "scale": self.scale_,
            "units": self.units_,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.config_ = AffinityConfig.from_dict(state["config"])
        self.mean_, self.scale_, self.units_ = float(state["mean"]), float(state["scale"]), state["units"]
        self.history_ = None

    def _modules(self) -> list[torch.nn.Module]:
        return [self.model_]

    def _build_modules(self, n: int) -> list[torch.nn.Module]:
        if n != 1:
            raise ValueError(f"{n} weight files for one affinity network")
        return [AffinityModel(self.config_)]

    def _set_modules(self, modules: list[torch.nn.Module]) -> None:
        (self.model_,) = modules


def as_targets(targets: Any) -> list[Target]:
    """Targets from a sequence file path, :class:`Target` objects or protein sequences."""
    if isinstance(targets, (str, Path)):
        return read_targets(targets)
    items = list(targets)
    if items and isinstance(items[0], Target):
        return items
    errors = [sequence_error(s) for s in items]
    return [
        Target(f"target_{k}", None if e else s.upper(), f"target_{k}", e)
        for k, (s, e) in enumerate(zip(items, errors, strict=True))
    ]


def _ligand_id(record: MoleculeRecord) -> str:
    return record.id if record.id is not None else str(record.row)
