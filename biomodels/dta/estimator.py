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

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch
from rdkit import Chem

from biomodels.data.splits import SPLITTERS, Split, load_split_file
from biomodels.dta.data import AffinityData, load_affinity_data, sequence_error
from biomodels.dta.targets import Target, read_targets
from biomodels.exceptions import InputError
from biomodels.io.molecules import MoleculeParser, records_from
from biomodels.models.affinity import AffinityConfig, AffinityModel, PairBatch
from biomodels.nn import PROTEIN_ENCODERS
from biomodels.nn.ligand import ligand_encoder_type
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
            :class:`~biomodels.models.affinity.AffinityConfig`): ``morgan`` (default: an MLP on
            Morgan count fingerprints) or a graph encoder (``gin``, ``dmpnn``).
        protein_encoder: :data:`~biomodels.nn.PROTEIN_ENCODERS` key: ``kmer`` (default: an MLP
            on cached k-mer frequencies) or ``cnn`` (DeepDTA's convolutions, about 30 times
            slower per batch on a CPU); ``protein_options`` its keyword arguments;
            ``max_length``: residues kept per protein by ``cnn`` (DeepDTA: 1000).
        ffn_hidden, ffn_layers, dropout: the interaction head.
        identities: learn an identity vector for every compound and protein of the training
            pairs (see :class:`~biomodels.models.affinity.AffinityModel`).
        ensemble: networks trained with seeds ``seed, seed + 1, ...``; predictions are their mean.
        epochs, batch_size, lr, patience: optimisation (Adam, warm-up then decay to lr / 10;
            each network keeps its epoch of lowest validation MSE; ``patience`` stops early).
        seed: seeds the weights and the batch order. device: ``auto``, ``cpu`` or ``cuda``.
        progress: a bar over epochs.
    """

    input_kind: ClassVar[str] = "pair"
    _positive: ClassVar[tuple[str, ...]] = (
        "hidden", "depth", "max_length", "ffn_hidden", "ensemble", "epochs", "batch_size", "lr",
    )  # fmt: skip

    ligand_encoder: str = "morgan"
    hidden: int = 128
    depth: int = 3
    readout: str = "sum"
    protein_encoder: str = "kmer"
    protein_options: dict[str, Any] | None = None
    max_length: int = 1000
    ffn_hidden: int = 512
    ffn_layers: int = 2
    dropout: float = 0.1
    identities: bool = True
    ensemble: int = 3
    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    patience: int | None = None
    seed: int = 0
    device: str = "auto"
    progress: bool = False

    def check_params(self) -> None:
        super().check_params()
        if not 0 <= self.dropout < 1:
            raise InputError(None, f"{self.name}: dropout must be in [0, 1), got {self.dropout!r}")
        PROTEIN_ENCODERS.get(self.protein_encoder)
        try:
            ligand_encoder_type(self.ligand_encoder)
        except KeyError as exc:
            raise InputError(None, f"{self.name}: {exc.args[0]}") from None

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
        """Train ``ensemble`` networks on ``data``, each keeping its epoch of lowest MSE on ``val``."""
        self.check_params()
        self.mean_ = float(np.mean(data.affinity))
        self.scale_ = float(np.std(data.affinity)) or 1.0
        self.units_ = data.units
        seen_ligands = np.unique(data.ligand)
        seen_targets = np.unique(data.target)
        self.ligand_keys_ = _ligand_keys([data.mols[i] for i in seen_ligands]) if self.identities else []
        self.target_keys_ = _target_keys([data.sequences[j] for j in seen_targets]) if self.identities else []
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
            ligand_identities=len(self.ligand_keys_),
            protein_identities=len(self.target_keys_),
        )
        train_inputs = self._inputs(data)
        has_val = val is not None and len(val) > 0
        val_batches = self._batches(self._inputs(val), val, np.arange(len(val))) if has_val else None

        def val_metric(outputs: list[torch.Tensor], batches: list[PairBatch]) -> dict[str, float]:
            scores = affinity_metrics(val.affinity, self._unscale(torch.cat(outputs)))
            return {"mse": scores["mse"], "ci": scores["ci"]}

        self.models_, self.histories_ = [], []
        for member in range(self.ensemble):
            seed = self.seed + member
            seed_everything(seed)
            model = AffinityModel(self.config_)
            rng = np.random.default_rng(seed)

            def train_batches(rng: np.random.Generator = rng) -> list[PairBatch]:
                return self._batches(train_inputs, data, rng.permutation(len(data)))

            config = TrainerConfig(
                epochs=self.epochs,
                lr=self.lr,
                init_lr=self.lr / 10,
                final_lr=self.lr / 10,
                warmup_epochs=min(2.0, self.epochs / 10),
                patience=self.patience,
                monitor="mse" if has_val else "val_loss",
                device=self.device,
                seed=seed,
                progress=self.progress,
            )
            history = Trainer(config).fit(
                model, train_batches, val_batches, None, val_metric if has_val else None
            )
            if has_val:
                logger.info(
                    "network %d/%d: best epoch %d, val mse %.4f",
                    member + 1, self.ensemble, history.best_epoch + 1, history.best_score,
                )  # fmt: skip
            self.models_.append(model.cpu().eval())
            self.histories_.append(history)
        self.fitted_ = True
        return self

    def _inputs(self, data: AffinityData) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
        """Once per data set: every compound's and protein's encoder inputs and identity rows."""
        ligands = ligand_encoder_type(self.ligand_encoder).featurize(data.mols, data.smiles)
        proteins = PROTEIN_ENCODERS.get(self.protein_encoder).featurize(data.sequences, self.max_length)
        return ligands, proteins, self._ligand_ids(data.mols), self._target_ids(data.sequences)

    def _ligand_ids(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        """Identity rows of compounds (0: not among the training pairs' compounds)."""
        return _identity_rows(_ligand_keys(mols) if self.ligand_keys_ else [], self.ligand_keys_, len(mols))

    def _target_ids(self, sequences: Sequence[str]) -> np.ndarray:
        """Identity rows of proteins (0: not among the training pairs' proteins)."""
        keys = _target_keys(sequences) if self.target_keys_ else []
        return _identity_rows(keys, self.target_keys_, len(sequences))

    def _batches(
        self, inputs: tuple[Any, np.ndarray, np.ndarray, np.ndarray], data: AffinityData, order: np.ndarray
    ) -> list[PairBatch]:
        ligand_inputs, proteins, ligand_ids, target_ids = inputs
        collate_ligands = ligand_encoder_type(self.ligand_encoder).collate
        collate = PROTEIN_ENCODERS.get(self.protein_encoder).collate
        scaled = (data.affinity - self.mean_) / self.scale_
        batches = []
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            ligands, ligand_index = np.unique(data.ligand[idx], return_inverse=True)
            targets, target_index = np.unique(data.target[idx], return_inverse=True)
            batches.append(
                PairBatch(
                    collate_ligands(ligand_inputs, ligands),
                    collate(torch.from_numpy(proteins[targets])),
                    torch.from_numpy(ligand_index.astype(np.int64)),
                    torch.from_numpy(target_index.astype(np.int64)),
                    torch.from_numpy(scaled[idx].astype(np.float32)),
                    torch.from_numpy(ligand_ids[ligands]),
                    torch.from_numpy(target_ids[targets]),
                )
            )
        return batches

    def _unscale(self, outputs: torch.Tensor) -> np.ndarray:
        return outputs.detach().cpu().numpy().astype(np.float64) * self.scale_ + self.mean_

    def history(self) -> list[dict[str, Any]]:
        return [h.to_dict() for h in getattr(self, "histories_", None) or []]

    # --------------------------------------------------------------- prediction
    @torch.no_grad()
    def predict_pairs(self, data: AffinityData) -> np.ndarray:
        """Predicted affinities of ``data``'s pairs, in order (``n``)."""
        self._check_fitted()
        if not len(data):
            return np.zeros(0)
        batches = self._batches(self._inputs(data), data, np.arange(len(data)))
        members = [torch.cat([model(batch) for batch in batches]) for model in self.models_]
        return self._unscale(torch.stack(members).mean(dim=0))

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
        """``M x P x hidden`` protein embeddings of the valid targets, in order (invalid ones
        skipped), by each of the ``M`` networks."""
        self._check_fitted()
        sequences = [t.sequence for t in targets if t.ok]
        encoder = PROTEIN_ENCODERS.get(self.protein_encoder)
        ids = torch.from_numpy(self._target_ids(sequences))
        blocks = [torch.zeros(len(self.models_), 0, self.config_.hidden)]
        for start in range(0, len(sequences), _EMBED_CHUNK):
            inputs = encoder.collate(
                torch.from_numpy(encoder.featurize(sequences[start : start + _EMBED_CHUNK], self.max_length))
            )
            rows = ids[start : start + _EMBED_CHUNK]
            blocks.append(torch.stack([model.embed_proteins(inputs, rows) for model in self.models_]))
        return torch.cat(blocks, dim=1)

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
        """``L x P`` affinities of valid ligand records against ``M x P x hidden`` protein
        embeddings (:meth:`embed_targets`), averaged over the networks."""
        ligand_type = ligand_encoder_type(self.ligand_encoder)
        blocks = []
        for start in range(0, len(records), _EMBED_CHUNK):
            chunk = records[start : start + _EMBED_CHUNK]
            mols = [r.mol for r in chunk]
            inputs = ligand_type.collate(
                ligand_type.featurize(mols, [r.smiles for r in chunk]), np.arange(len(chunk))
            )
            ids = torch.from_numpy(self._ligand_ids(mols))
            li, pj = torch.meshgrid(torch.arange(len(chunk)), torch.arange(proteins.shape[1]), indexing="ij")
            li, pj = li.reshape(-1), pj.reshape(-1)
            total = torch.zeros(len(li))
            for model, embedded in zip(self.models_, proteins, strict=True):
                ligands = model.embed_ligands(inputs, ids)
                total += torch.cat(
                    [
                        model.score(ligands, embedded, li[s : s + _HEAD_CHUNK], pj[s : s + _HEAD_CHUNK])
                        for s in range(0, len(li), _HEAD_CHUNK)
                    ]
                )
            blocks.append(self._unscale(total / len(self.models_)).reshape(len(chunk), proteins.shape[1]))
        return np.concatenate(blocks)

    # ------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        return {
            "config": self.config_.to_dict(),
            "mean": self.mean_,
            "scale": self.scale_,
            "units": self.units_,
            "ligand_keys": self.ligand_keys_,
            "target_keys": self.target_keys_,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.config_ = AffinityConfig.from_dict(state["config"])
        self.mean_, self.scale_, self.units_ = float(state["mean"]), float(state["scale"]), state["units"]
        self.ligand_keys_, self.target_keys_ = list(state["ligand_keys"]), list(state["target_keys"])
        self.histories_ = None

    def _modules(self) -> list[torch.nn.Module]:
        return list(self.models_)

    def _build_modules(self, n: int) -> list[torch.nn.Module]:
        return [AffinityModel(self.config_) for _ in range(n)]

    def _set_modules(self, modules: list[torch.nn.Module]) -> None:
        self.models_ = [m.eval() for m in modules]


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


def _ligand_keys(mols: Sequence[Chem.Mol]) -> list[str]:
    """Identity keys of compounds: a digest of the canonical SMILES."""
    return [_digest(Chem.MolToSmiles(m)) for m in mols]


def _target_keys(sequences: Sequence[str]) -> list[str]:
    """Identity keys of proteins: a digest of the upper-case sequence."""
    return [_digest(s.upper()) for s in sequences]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _identity_rows(keys: Sequence[str], known: Sequence[str], n: int) -> np.ndarray:
    """Row ``1 + known.index(key)`` of each key, 0 for an unknown key (``n`` zeros when there
    are no identities)."""
    if not known:
        return np.zeros(n, dtype=np.int64)
    rows = {key: i + 1 for i, key in enumerate(known)}
    return np.array([rows.get(key, 0) for key in keys], dtype=np.int64)
