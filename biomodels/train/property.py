"""Property and activity models of molecules under the estimator protocol.

:class:`GNNEstimator` trains an ensemble of :class:`~biomodels.models.property.PropertyModel`
members (``dmpnn``, ``gin``, ``gcn``, ``gat``, ``attentivefp``) on graphs featurised once;
:class:`ForestEstimator` is the Morgan-count random forest. Both read molecules in any form
(:meth:`MoleculeEstimator.predict`) and report a mean and an uncertainty per target: the ensemble
spread (with a mean-variance head's variance folded in), or the spread over trees.

Both also keep their applicability domain (:class:`~biomodels.chem.domain.ApplicabilityDomain`:
the training molecules' fingerprints, ids and label range, saved in the model folder) and, for
regression, an uncertainty that grows with the distance to the training set
(:class:`~biomodels.train.uncertainty.DistanceUncertainty`, fitted on the validation split).

Prediction columns, per target ``t``: ``t`` (the value, the probability of class 1, or the class
label for multiclass with ``t_prob_<class>`` columns), ``t_std`` and, for regression, ``t_in_range``
(the prediction lies within the training labels); with labelled data (a
:class:`~biomodels.data.dataset.MoleculeTable`) also ``t_true``. Then ``nn_similarity``, ``nn_id``
and ``in_domain`` (:data:`~biomodels.chem.domain.DOMAIN_COLUMNS`). ``t_std`` is the ensemble
spread combined with the distance term (regression models fitted with a validation split); with
``domain=False`` (``--no-domain``) the domain columns are left out and ``t_std`` is the spread alone.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch
from rdkit import Chem

from biomodels.chem.domain import ApplicabilityDomain, in_range_column
from biomodels.data.dataset import MoleculeTable
from biomodels.data.graphs import collate_graphs
from biomodels.data.splits import SPLITTERS, Split, load_split_file
from biomodels.exceptions import InputError
from biomodels.featurize.base import Featurizer, get_featurizer
from biomodels.featurize.graph import GraphArrays, featurize_graphs
from biomodels.io.molecules import MoleculeParser, records_from
from biomodels.models.baseline import RandomForestBaseline
from biomodels.models.property import ModelConfig, PropertyModel
from biomodels.train.estimator import Estimator, TrainingData
from biomodels.train.metrics import compute_metrics
from biomodels.train.trainer import Trainer, TrainerConfig, seed_everything
from biomodels.train.uncertainty import DistanceUncertainty
from biomodels.types import MoleculeRecord

if TYPE_CHECKING:
    from biomodels.train.run import TrainRunConfig

logger = logging.getLogger(__name__)

__all__ = ["ForestEstimator", "GNNEstimator", "MoleculeEstimator", "Prediction", "Scaler"]


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
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            mean = np.nan_to_num(np.nanmean(values, axis=0))
            scale = np.nan_to_num(np.nanstd(values, axis=0), nan=1.0)
        scale[scale < 1e-8] = 1.0
        scaler = cls(mean.astype(np.float32), scale.astype(np.float32))
        if bounded and len(values):
            standardised = scaler.transform(values)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
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
    def from_dict(cls, data: dict[str, list[float]] | None) -> Scaler | None:
        if data is None:
            return None

        def array(key: str) -> np.ndarray | None:
            return np.asarray(data[key], np.float32) if key in data else None

        return cls(array("mean"), array("scale"), array("low"), array("high"))


def make_split(config: TrainRunConfig, table: MoleculeTable) -> Split:
    """Split the table's valid molecules: a split file, or the registered splitter of the config.

    A splitter declares what it splits by (``needs``: ``count``, ``smiles`` or ``labels``).
    """
    if config.split_file:
        return load_split_file(config.split_file, len(table))
    needs = SPLITTERS.info(config.split).get("needs", "count")
    if needs == "labels" and table.task == "regression":
        raise InputError(table.path, f"a {config.split} split needs class labels, not a regression target")
    if needs == "pairs":
        raise InputError(table.path, f"a {config.split} split is for drug-target pairs (biomodels dta train)")
    data = {"count": len(table), "smiles": table.smiles, "labels": table.targets}[needs]
    return SPLITTERS.get(config.split)(data, sizes=config.sizes, seed=config.seed)


class MoleculeEstimator(Estimator):
    """What every molecule model shares: reading its training data, inputs in any form, the
    applicability domain and distance-aware uncertainty, the prediction table, evaluation.
    Subclasses implement :meth:`_fit`, :meth:`predict_mols` and :meth:`predict_table` (from a
    featurised table, without parsing again)."""

    input_kind = "molecule"
    extra_features: str | None = None
    domain_: ApplicabilityDomain | None = None
    uncertainty_: DistanceUncertainty | None = None

    def fit(self, data: MoleculeTable, val: MoleculeTable | None = None) -> MoleculeEstimator:
        """Fit the model on ``data`` (:meth:`_fit`), then keep ``data``'s molecules as the
        applicability domain and, for regression with a ``val`` split, fit the uncertainty's
        distance term on ``val``'s residuals; returns self."""
        self._fit(data, val)
        regression = data.task == "regression"
        labels = (
            {name: data.targets[:, t] for t, name in enumerate(self.target_names_)} if regression else None
        )
        ids = data.records_meta()["id"].tolist()
        self.domain_ = ApplicabilityDomain.fit(_table_fingerprints(data), data.smiles, ids, labels)
        self.uncertainty_ = None
        if regression and val is not None and len(val):
            prediction = self.predict_table(val)
            similarity, _ = self.domain_.nearest(_table_fingerprints(val))
            self.uncertainty_ = DistanceUncertainty.fit(
                val.targets - prediction.mean, prediction.std, 1 - similarity
            )
            if self.uncertainty_ is not None:
                logger.info("uncertainty fitted on %d validation molecules: %s", len(val), self.uncertainty_)
        return self

    def _fit(self, data: MoleculeTable, val: MoleculeTable | None) -> None:
        """Learn the model itself from ``data`` (``val``: held out, for the choice of the best epoch)."""
        raise NotImplementedError

    def check_domain(self) -> None:
        """Refuse to place molecules in the domain of a model saved without one (old models).

        Raises:
            InputError: the model has no applicability domain; says to retrain or pass --no-domain.
        """
        if self.domain_ is None:
            raise InputError(
                None,
                f"this {self.name} model was saved without its training set, so it has no applicability "
                "domain; retrain it, or pass --no-domain (Python: domain=False)",
            )

    def _uncertainty(self, spread: np.ndarray, similarity: np.ndarray) -> np.ndarray:
        """The reported ``n x T`` uncertainty: the spread with the distance term when fitted."""
        return spread if self.uncertainty_ is None else self.uncertainty_.apply(spread, 1 - similarity)

    def _table_features(self) -> list[Featurizer | str]:
        """Molecule featurizers (or their names) the training table should carry besides the
        graphs, computed from the same parse as the graphs: the model's, and the packed
        fingerprints of the applicability domain."""
        return [*self._model_features(), DOMAIN_FEATURIZER]

    def _model_features(self) -> list[Featurizer | str]:
        """The featurizers the model itself reads from a table."""
        return [self.extra_features] if self.extra_features else []

    def training_data(self, config: TrainRunConfig) -> TrainingData:
        if not config.targets:
            raise InputError(config.data, "name at least one target column (--target)")
        table = MoleculeTable.from_file(
            config.data,
            config.targets,
            config.smiles_col,
            config.task,
            workers=config.workers,
            extra_features=self._table_features(),
            encoding=config.encoding,
        )
        _check_targets(table)
        split = make_split(config, table)
        _check_split(table, split, config)
        logger.info(
            "split %s: %d train / %d val / %d test",
            split.method,
            len(split.train),
            len(split.val),
            len(split.test),
        )
        summary = {"rows": len(table.meta), "valid": len(table), "task": table.task}
        return TrainingData(
            table.subset(split.train),
            table.subset(split.val),
            table.subset(split.test),
            split.to_dict(),
            summary,
        )

    # --------------------------------------------------------------- prediction
    target_names_: list[str]
    classes_: list[str] | None

    def predict_mols(
        self, mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None
    ) -> Prediction:
        """Predictions for valid RDKit molecules."""
        raise NotImplementedError

    def predict_table(self, table: MoleculeTable) -> Prediction:
        """Predictions for a featurised table's molecules, from the features it carries."""
        raise NotImplementedError

    def predict(self, data: Any, domain: bool = True, min_similarity: float | None = None) -> pd.DataFrame:
        """Predict molecules given as SMILES strings, a DataFrame, a file path, parsed records or
        a featurised table: ``row, id, smiles``, the prediction columns (module docstring),
        ``error``. Every input row comes out, in order; a row that could not be scored has NaN
        predictions and its reason in ``error``.

        Args:
            domain: add the applicability-domain columns (False: leave them out, and report the
                ensemble spread alone as ``_std``).
            min_similarity: the ``in_domain`` threshold (default: the one saved with the model).

        Raises:
            InputError: ``domain`` is asked of a model saved without its training set.
        """
        self._check_fitted()
        if isinstance(data, MoleculeTable):
            bits = _table_fingerprints(data) if domain else None
            frame = self.prediction_frame(
                data.records_meta(), self.predict_table(data), None, bits, min_similarity
            )
            for t, name in enumerate(self.target_names_):
                frame.insert(3 + t, f"{name}_true", data.targets[:, t])
            return frame
        records = data if _is_records(data) else MoleculeParser().parse_chunk(records_from(data))
        return self.predict_records(records, domain=domain, min_similarity=min_similarity)

    def predict_records(
        self,
        records: Sequence[MoleculeRecord],
        mask: np.ndarray | None = None,
        domain: bool = True,
        min_similarity: float | None = None,
    ) -> pd.DataFrame:
        """The prediction table of parsed records (``mask``: score only where True, NaN elsewhere;
        ``domain``, ``min_similarity``: as for :meth:`predict`)."""
        if domain:
            self.check_domain()
        ok = np.array([r.ok for r in records], dtype=bool)
        if mask is not None:
            ok &= mask
        good = np.flatnonzero(ok)
        meta = pd.DataFrame(
            {
                "row": np.array([r.row for r in records], dtype=np.int64),
                "id": pd.Series([r.id for r in records], dtype=object),
                "smiles": pd.Series([r.smiles for r in records], dtype=object),
                "error": pd.Series([r.error for r in records], dtype=object),
            }
        )
        mols = [records[i].mol for i in good]
        try:
            prediction = self.predict_mols(mols, [records[i].smiles for i in good])
        except Exception as exc:  # a model failing on a chunk marks those rows, never the run
            logger.warning("model %s failed on a chunk: %s", self.name, exc)
            reason = f"model {self.name} failed: {' '.join(str(exc).split())}"
            meta.loc[good, "error"] = meta.loc[good, "error"].fillna(reason)
            prediction = None
        bits = self.domain_.fingerprints_of(mols) if domain else None
        return self.prediction_frame(meta, prediction, good, bits, min_similarity)

    def prediction_frame(
        self,
        meta: pd.DataFrame,
        prediction: Prediction | None,
        good: np.ndarray | None = None,
        fingerprints: np.ndarray | None = None,
        min_similarity: float | None = None,
    ) -> pd.DataFrame:
        """``meta``'s ``row, id, smiles``, the prediction columns of the ``good`` rows, ``error``.

        With ``fingerprints`` (the ``good`` rows' packed fingerprints) also each target's
        ``_in_range`` and the domain columns, and ``_std`` with the distance term (see the
        module docstring).
        """
        n = len(meta)
        good = np.arange(n) if good is None else good
        placed = None
        if fingerprints is not None:
            self.check_domain()
            if prediction is None:  # the model failed on these rows: the columns stay, empty
                good = good[:0]
                similarity, index = np.zeros(0, np.float32), np.zeros(0, np.int64)
            else:
                similarity, index = self.domain_.nearest(fingerprints)
                prediction = Prediction(prediction.mean, self._uncertainty(prediction.std, similarity))
            placed = self.domain_.columns(n, good, similarity, index, min_similarity)
        columns: dict[str, Any] = {k: meta[k].to_numpy() for k in ("row", "id", "smiles")}
        for t, target in enumerate(self.target_names_):
            mean = None if prediction is None else prediction.mean[:, t]
            if self.classes_:
                labels = np.array([None] * n, dtype=object)
                probs = _scatter(n, good, mean)
                if mean is not None:
                    labels[good] = [self.classes_[k] for k in mean.argmax(-1)]
                columns[target] = labels
                for c, label in enumerate(self.classes_):
                    columns[f"{target}_prob_{label}"] = probs[:, c] if probs.ndim == 2 else probs
            else:
                columns[target] = _scatter(n, good, mean)
            columns[f"{target}_std"] = _scatter(n, good, None if prediction is None else prediction.std[:, t])
            if placed is not None and target in self.domain_.label_range:
                columns[in_range_column(target)] = self.domain_.in_range(target, columns[target])
        if placed is not None:
            columns.update({name: placed[name].array for name in placed.columns})
        columns["error"] = meta["error"].to_numpy() if "error" in meta else np.full(n, None, dtype=object)
        return pd.DataFrame(columns)

    def evaluate(self, data: MoleculeTable) -> dict[str, Any]:
        """Per-task and mean metrics of the table's predictions (RMSE, MAE, R2 / ROC-AUC...).

        With the distance-aware uncertainty, ``spearman_abs_error_std`` ranks the errors by it
        and ``spearman_abs_error_spread`` by the ensemble spread alone (after and before)."""
        self._check_fitted()
        prediction = self.predict_table(data)
        if data.task != "regression":
            return compute_metrics(data.task, data.targets, prediction.mean, task_names=data.target_names)
        y_std = prediction.std
        if self.domain_ is not None:
            y_std = self._uncertainty(prediction.std, self.domain_.nearest(_table_fingerprints(data))[0])
        metrics = compute_metrics(
            data.task, data.targets, prediction.mean, y_std=y_std, task_names=data.target_names
        )
        if self.uncertainty_ is not None:
            spread = compute_metrics(
                data.task, data.targets, prediction.mean, y_std=prediction.std, task_names=data.target_names
            )
            pairs = [(metrics["mean"], spread["mean"])]
            pairs += [(metrics["per_task"][k], spread["per_task"][k]) for k in metrics["per_task"]]
            for after, before in pairs:
                after["spearman_abs_error_spread"] = before["spearman_abs_error_std"]
        return metrics

    def _get_state(self) -> dict[str, Any]:
        return {
            "target_names": self.target_names_,
            "classes": self.classes_,
            "domain": None if self.domain_ is None else self.domain_.to_state(),
            "uncertainty": None if self.uncertainty_ is None else self.uncertainty_.to_dict(),
        }

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {} if self.domain_ is None else self.domain_.to_arrays()

    def _get_files(self) -> dict[str, bytes]:
        return {} if self.domain_ is None else self.domain_.to_files()

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.target_names_, self.classes_ = list(state["target_names"]), state["classes"]
        self.uncertainty_ = DistanceUncertainty.from_dict(state.get("uncertainty"))
        self._saved_domain = (state.get("domain"), arrays)  # completed by _set_files
        self.domain_ = None

    def _set_files(self, files: dict[str, bytes]) -> None:
        domain, arrays = self._saved_domain
        if domain is not None:
            self.domain_ = ApplicabilityDomain.from_saved(domain, arrays, files)


def resolve_readout(readout: str, task: str, encoder: str = "dmpnn", n_tasks: int = 1) -> str:
    """``auto`` -> for a D-MPNN, ``sum`` on a regression task, ``norm`` (sum / 100, chemprop's
    default) on a single binary target, ``mean`` on several; ``mean`` for every other encoder and
    for multiclass. Other names are returned unchanged.

    Measured on the same splits against chemprop (``benchmarks/DEFAULTS.md``): summing atom
    embeddings keeps a molecule's size in its embedding, which extensive properties such as
    solubility and hydration free energy need (ESOL and FreeSolv RMSE fell by 7% and 17% against
    ``mean``). On the single-target binary sets ``norm`` led or tied ``mean`` (BBBP +0.004 ROC-AUC
    over five seeds, BACE level over three), on the multi-target ones it trailed (Tox21 -0.012
    over five seeds, ClinTox -0.010 and SIDER -0.024 on one). Multiclass tasks and the other
    encoders keep ``mean`` until they are measured too.
    """
    if readout != "auto":
        return readout
    if encoder == "dmpnn" and task == "regression":
        return "sum"
    return "norm" if encoder == "dmpnn" and task == "binary" and n_tasks == 1 else "mean"


@dataclass(eq=False, repr=False)  # the constructor stores the hyperparameters, nothing else
class GNNEstimator(MoleculeEstimator):
    """Ensemble of graph neural networks for one table's targets.

    Args:
        encoder: :data:`~biomodels.nn.ENCODERS` key (the registry entry presets it).
        hidden, depth, dropout, readout, head, ffn_layers, batch_norm, encoder_options: the
            architecture (see :class:`~biomodels.models.property.ModelConfig`); ``readout="auto"``
            is :func:`resolve_readout`.
        extra_features: a molecule featurizer (``rdkit2d``, ``morgan``...) whose standardised
            output is concatenated to the graph embedding, or None.
        ensemble: members trained on the same split from different initialisations; member
            ``i`` is seeded with ``seed + i``.
        epochs, batch_size, lr: optimisation (Adam, warm-up then decay to ``lr / 10``).
        seed: base seed. device: ``auto``, ``cpu`` or ``cuda``. progress: a bar over epochs.
        trainer_options: further :class:`~biomodels.train.trainer.TrainerConfig` fields.
    """

    _positive: ClassVar[tuple[str, ...]] = ("hidden", "depth", "ensemble", "epochs", "batch_size", "lr")

    encoder: str = "dmpnn"
    hidden: int = 300
    depth: int = 3
    dropout: float = 0.0
    readout: str = "auto"
    head: str = "ffn"
    ffn_layers: int = 1
    batch_norm: bool = False
    encoder_options: dict[str, Any] | None = None
    extra_features: str | None = None
    ensemble: int = 1
    epochs: int = 50
    batch_size: int = 50
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    progress: bool = False
    trainer_options: dict[str, Any] | None = None

    def check_params(self) -> None:
        super().check_params()
        for key in ("hidden", "depth", "ensemble", "epochs", "batch_size"):
            if not isinstance(getattr(self, key), int):
                raise InputError(None, f"{self.name}: {key} must be an integer, got {getattr(self, key)!r}")
        if not 0 <= self.dropout < 1:
            raise InputError(None, f"{self.name}: dropout must be in [0, 1), got {self.dropout!r}")

    def _model_config(self, table: MoleculeTable, extra_dim: int) -> ModelConfig:
        return ModelConfig(
            encoder=self.encoder,
            hidden=self.hidden,
            depth=self.depth,
            dropout=self.dropout,
            encoder_options=dict(self.encoder_options or {}),
            readout=resolve_readout(self.readout, table.task, self.encoder, table.targets.shape[1]),
            batch_norm=self.batch_norm,
            extra_dim=extra_dim,
            task=table.task,
            n_tasks=table.targets.shape[1],
            n_classes=len(table.classes) if table.task == "multiclass" else 1,
            head=self.head,
            ffn_hidden=self.hidden,
            ffn_layers=self.ffn_layers,
        )

    # ----------------------------------------------------------------- training
    def _fit(self, data: MoleculeTable, val: MoleculeTable | None = None) -> None:
        """Train every member on ``data``, keeping each member's best epoch on ``val``."""
        self.target_names_, self.classes_ = list(data.target_names), data.classes
        self.task_ = data.task
        self.target_scaler_ = Scaler.fit(data.targets) if data.task == "regression" else None
        extra = self._extra(data)
        self.feature_scaler_ = Scaler.fit(extra, bounded=True) if extra is not None else None
        self.model_config_ = self._model_config(data, 0 if extra is None else extra.shape[1])
        monitor, mode = {"regression": ("rmse", "min"), "binary": ("roc_auc", "max")}.get(
            data.task, ("accuracy", "max")
        )
        rng = np.random.default_rng(self.seed)
        train_targets = self._scaled_targets(data)
        train_extra = self._scaled_extra(extra)

        def train_batches() -> list[Any]:
            return self._batches(data.graphs, rng.permutation(len(data)), train_targets, train_extra)

        has_val = val is not None and len(val) > 0
        val_batches = (
            self._batches(
                val.graphs,
                np.arange(len(val)),
                self._scaled_targets(val),
                self._scaled_extra(self._extra(val)),
            )
            if has_val
            else None
        )

        def val_metric(outputs: list[torch.Tensor], batches: list[Any]) -> dict[str, float]:
            pred = self._postprocess(member, torch.cat(outputs))[0]  # the member being trained
            return compute_metrics(val.task, val.targets, pred)["mean"]

        self.members_, self.histories_ = [], []
        options = {"epochs": self.epochs, "lr": self.lr, "device": self.device, "progress": self.progress}
        for index in range(self.ensemble):
            seed_everything(self.seed + index)
            member = PropertyModel(self.model_config_)
            config = TrainerConfig(
                **{
                    **options,
                    "monitor": monitor,
                    "mode": mode,
                    **(self.trainer_options or {}),
                    "seed": self.seed + index,
                }
            )
            history = Trainer(config).fit(
                member, train_batches, val_batches, None, val_metric if has_val else None
            )
            self.members_.append(member.cpu().eval())
            self.histories_.append(history)
            if history.best_epoch is not None:  # epochs are counted from 1 in every log line
                logger.info(
                    "member %d/%d: best epoch %d, %s %.4f",
                    index + 1,
                    self.ensemble,
                    history.best_epoch + 1,
                    monitor,
                    history.best_score,
                )
        self.fitted_ = True

    def _extra(self, table: MoleculeTable) -> np.ndarray | None:
        """Raw extra features of ``table`` (read with it, else computed from its SMILES)."""
        return table.features_of(self.extra_features) if self.extra_features else None

    def _featurize_extra(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        return get_featurizer(self.extra_features).featurize_chunk(list(mols)).astype(np.float32)

    def _scaled_targets(self, table: MoleculeTable) -> np.ndarray:
        return table.targets if self.target_scaler_ is None else self.target_scaler_.transform(table.targets)

    def _scaled_extra(self, extra: np.ndarray | None) -> np.ndarray | None:
        return None if extra is None else np.nan_to_num(self.feature_scaler_.transform(extra))

    def _batches(
        self, graphs: GraphArrays, indices: np.ndarray, targets: np.ndarray | None, extra: np.ndarray | None
    ) -> list[Any]:
        return [
            collate_graphs(graphs, indices[i : i + self.batch_size], targets, extra)
            for i in range(0, len(indices), self.batch_size)
        ]

    def history(self) -> list[dict[str, Any]]:
        return [h.to_dict() for h in getattr(self, "histories_", [])]

    # --------------------------------------------------------------- prediction
    def _postprocess(
        self, member: PropertyModel, outputs: torch.Tensor
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw outputs -> predictions in target units (and variances for a mean-variance head)."""
        mean, var = member.postprocess(outputs)
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
        self._check_fitted()
        extra = self._scaled_extra(extra) if self.feature_scaler_ is not None else None
        batches = self._batches(graphs, np.arange(len(graphs)), None, extra) if len(graphs) else []
        means, variances = [], []
        for member in self.members_:
            outputs = [member(batch) for batch in batches]
            if not outputs:
                continue
            mean, var = self._postprocess(member, torch.cat(outputs))
            means.append(mean)
            if var is not None:
                variances.append(var)
        shape = (0, len(self.target_names_)) + ((len(self.classes_),) if self.classes_ else ())
        if not means:
            return Prediction(np.zeros(shape, np.float32), np.zeros(shape[:2], np.float32))
        stacked = np.stack(means)
        spread = stacked.std(axis=0)
        if self.classes_:
            spread = spread.max(axis=-1)
        total_var = spread**2 + (np.mean(variances, axis=0) if variances else 0.0)
        return Prediction(stacked.mean(axis=0).astype(np.float32), np.sqrt(total_var).astype(np.float32))

    def predict_mols(
        self, mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None
    ) -> Prediction:
        extra = self._featurize_extra(mols) if self.extra_features else None
        return self.predict_graphs(featurize_graphs(mols, smiles), extra)

    def predict_table(self, table: MoleculeTable) -> Prediction:
        return self.predict_graphs(table.graphs, self._extra(table))

    # ------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        return {
            **super()._get_state(),
            "model_config": self.model_config_.to_dict(),
            "featurizer": get_featurizer("graph").config(),
            "target_scaler": None if self.target_scaler_ is None else self.target_scaler_.to_dict(),
            "feature_scaler": None if self.feature_scaler_ is None else self.feature_scaler_.to_dict(),
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.model_config_ = ModelConfig.from_dict(state["model_config"])
        self.task_ = self.model_config_.task
        self.target_scaler_ = Scaler.from_dict(state["target_scaler"])
        self.feature_scaler_ = Scaler.from_dict(state["feature_scaler"])
        self.histories_ = []

    def _modules(self) -> list[torch.nn.Module]:
        return list(self.members_)

    def _build_modules(self, n: int) -> list[torch.nn.Module]:
        if n != self.ensemble:
            raise ValueError(f"{n} member weight files for an ensemble of {self.ensemble}")
        return [PropertyModel(self.model_config_) for _ in range(n)]

    def _set_modules(self, modules: list[torch.nn.Module]) -> None:
        self.members_ = modules


@dataclass(eq=False, repr=False)
class ForestEstimator(MoleculeEstimator):
    """The random forest on Morgan count fingerprints (std = spread over trees).

    Args:
        n_estimators: trees per task. seed: the forest's random state.
        radius, fp_size: Morgan fingerprint radius and length.
    """

    _positive: ClassVar[tuple[str, ...]] = ("n_estimators", "radius", "fp_size")

    n_estimators: int = 500
    seed: int = 0
    radius: int = 2
    fp_size: int = 2048

    def _forest(self, task: str) -> RandomForestBaseline:
        return RandomForestBaseline(
            task=task, n_estimators=self.n_estimators, radius=self.radius, fp_size=self.fp_size, n_jobs=-1,
            random_state=self.seed,
        )  # fmt: skip

    def _fit(self, data: MoleculeTable, val: MoleculeTable | None = None) -> None:
        """Fit one forest per task on ``data`` (``val`` is not needed: forests do not early-stop)."""
        if data.task == "multiclass":
            raise InputError(data.path, "the random forest handles regression and binary tasks")
        self.target_names_, self.classes_, self.task_ = list(data.target_names), None, data.task
        forest = self._forest(data.task)
        self.forest_ = forest.fit_fingerprints(data.features_of(forest.fingerprinter()), data.targets)
        self.fitted_ = True

    def _model_features(self) -> list[Featurizer | str]:
        return [self._forest("regression").fingerprinter()]  # the task does not change them

    def predict_table(self, table: MoleculeTable) -> Prediction:
        self._check_fitted()
        return self._prediction(
            *self.forest_.predict_fingerprints(table.features_of(self.forest_.fingerprinter()))
        )

    def predict_mols(
        self, mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None
    ) -> Prediction:
        self._check_fitted()
        if not len(mols):
            shape = (0, len(self.target_names_))
            return Prediction(np.zeros(shape, np.float32), np.zeros(shape, np.float32))
        return self._prediction(*self.forest_.predict(list(mols)))

    def _prediction(self, mean: np.ndarray, std: np.ndarray) -> Prediction:
        n = len(mean)
        return Prediction(
            np.asarray(mean, np.float32).reshape(n, -1), np.asarray(std, np.float32).reshape(n, -1)
        )

    def _get_state(self) -> dict[str, Any]:
        return {**super()._get_state(), "task": self.task_}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {**super()._get_arrays(), **self.forest_.to_arrays()}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(state, arrays)
        self.task_ = state["task"]
        trees = {k: v for k, v in arrays.items() if k.startswith("task")}
        self.forest_ = self._forest(self.task_).from_arrays(trees)


def _check_targets(table: MoleculeTable) -> None:
    """Refuse targets nothing can be learnt from; warn about a constant one."""
    for t, name in enumerate(table.target_names):
        observed = table.targets[~np.isnan(table.targets[:, t]), t]
        if not observed.size:
            raise InputError(table.path, f"target {name!r} has no values (every row is empty)")
        if np.unique(observed).size == 1:
            if table.task == "binary":
                raise InputError(table.path, f"binary target {name!r} has one class only ({observed[0]:g})")
            logger.warning(
                "target %r is constant (%g): the model can only learn that value", name, observed[0]
            )


def _check_split(table: MoleculeTable, split: Split, config: TrainRunConfig) -> None:
    """Refuse a split with an empty partition that was asked for, or one-class training labels."""
    wanted = [0.0] * 3 if config.split_file else list(config.sizes)
    for name, size in zip(("train", "val", "test"), wanted, strict=True):
        if size > 0 and not len(getattr(split, name)):
            raise InputError(
                config.data,
                f"{len(table)} valid molecules are too few for a {name} partition of {size:g}; "
                "give more molecules or other --sizes",
            )
    if not len(split.train):
        raise InputError(config.split_file or config.data, "the split has no training molecules")
    if table.task == "binary":
        for t, name in enumerate(table.target_names):
            observed = table.targets[split.train, t]
            if np.unique(observed[~np.isnan(observed)]).size < 2:
                raise InputError(
                    config.data, f"binary target {name!r} has one class only in the training split"
                )


def _is_records(data: Any) -> bool:
    return (
        isinstance(data, Sequence)
        and not isinstance(data, str)
        and bool(data)
        and isinstance(data[0], MoleculeRecord)
    )


DOMAIN_FEATURIZER = "morgan_packed"
"""The table feature the applicability domain reads: packed Morgan bits (radius 2, 2,048)."""


def _table_fingerprints(table: MoleculeTable) -> np.ndarray:
    """The packed fingerprints of a table's valid rows, from the features it carries (computed
    from its SMILES when it does not)."""
    return np.ascontiguousarray(table.features_of(DOMAIN_FEATURIZER).astype(np.uint8)).view(np.uint64)


def _scatter(n: int, rows: np.ndarray, values: np.ndarray | None) -> np.ndarray:
    """Values of the scored rows placed at their positions among ``n``; NaN elsewhere."""
    if values is None:
        return np.full(n, np.nan, np.float32)
    out = np.full((n, *values.shape[1:]), np.nan, np.float32)
    out[rows] = values
    return out
