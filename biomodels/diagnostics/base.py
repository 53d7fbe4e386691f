"""What the diagnostic models share on top of the one estimator protocol.

Every diagnostic model is a :class:`~biomodels.train.estimator.Estimator` registered in
:data:`~biomodels.registry.MODELS` (``cnn``, ``resnet18``, ``pixel-logreg``, ``autoencoder``,
``gan``, ``rnn``, ``transformer``, ``bow-logreg``, ``ridge``, ``dense-autoencoder``); saved and
loaded by the base class (:meth:`~biomodels.train.estimator.Estimator.save` /
:meth:`~biomodels.train.estimator.Estimator.load`). What they read, by ``input_kind``:

- ``image``: an :class:`~biomodels.io.images.ImageSet`; ``predict`` also takes an
  ``n x H x W`` array, a list of images, an ``.npz`` file or an image folder;
- ``text``: a :class:`~biomodels.io.text.TextSet`; ``predict`` also takes a list of strings, a
  DataFrame or a CSV/TSV file (columns detected);
- ``vector``: a :class:`~biomodels.io.vectors.VectorSet`; ``predict`` also takes an ``n x d``
  array, a list of vectors or a CSV/TSV file.

``fit(data, val=None)`` and ``evaluate(data)`` take the labelled set of the family; a training
row that cannot be used raises (it is never dropped silently). ``predict`` checks each row
(:class:`Prepared`): a row that cannot be used keeps its place, gets NaN outputs and its reason
in the ``error`` column.

This module holds :class:`NeuralEstimator` (one :class:`~biomodels.train.Trainer` per fit, one
network saved as ``member_0``) and :class:`ClassifierMixin` (the prediction table, class
probabilities and classification metrics of every classifier).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from biomodels.diagnostics.data import data_kind
from biomodels.diagnostics.evaluate import classification_metrics
from biomodels.exceptions import InputError
from biomodels.nn.losses import masked_cross_entropy
from biomodels.train.estimator import Estimator
from biomodels.train.metrics import multiclass_metrics
from biomodels.train.trainer import Trainer, TrainerConfig, TrainHistory, seed_everything

__all__ = [
    "ClassifierMixin",
    "NeuralEstimator",
    "Prepared",
    "check_path_kind",
    "classification_loss",
    "classification_val_metrics",
    "label_indices",
]


@dataclass
class Prepared:
    """Inputs checked row by row.

    Attributes:
        ids: ``n`` row identifiers.
        errors: ``n`` reasons (None for usable rows).
        data: the usable rows only, in the form the model consumes.
        labels: ``n`` true class names (None where unknown) when the input carries labels.
    """

    ids: list[str]
    errors: list[str | None]
    data: Any
    labels: list[str | None] | None = None

    @property
    def valid(self) -> np.ndarray:
        return np.array([e is None for e in self.errors], dtype=bool)

    def require_usable(self, what: str) -> None:
        """Raise ``ValueError`` naming the first unusable rows (training data must be clean)."""
        bad = [i for i, e in enumerate(self.errors) if e is not None]
        if bad:
            raise ValueError(
                f"{what} rows {bad[:5]} are unusable (row {bad[0]}: {self.errors[bad[0]]}); "
                "clean them first (predict's error column says which and why)"
            )


def label_indices(labels: Sequence[str | None], classes: Sequence[str]) -> np.ndarray:
    """``n`` indices into ``classes`` of class-name labels (-1 where missing or unknown)."""
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index.get(str(label), -1) if label is not None else -1 for label in labels], np.int64)


def check_path_kind(path: str | Path, kind: str, model: str) -> None:
    """Raise :class:`InputError` when the file ``path`` is not of the kind the model reads."""
    wanted = "image" if kind == "image" else "table"
    if data_kind(path) != wanted:
        what = "an .npz file or an image folder" if wanted == "image" else "a .csv/.tsv table"
        raise InputError(path, f"the {model} model reads {kind} data: {what}")


class NeuralEstimator(Estimator):
    """Shared training plumbing: one :class:`~biomodels.train.Trainer` per fit, one network.

    Subclass constructors store ``epochs``, ``batch_size``, ``lr``, ``seed``, ``device``
    (``auto``, ``cpu``, ``cuda``), ``progress`` (a bar over epochs) and ``trainer_options``
    (further :class:`~biomodels.train.TrainerConfig` fields such as ``patience`` or
    ``weight_decay``); ``fit`` sets ``module_`` (the network, in eval mode) and ``history_``.
    """

    _positive: ClassVar[tuple[str, ...]] = ("epochs", "batch_size", "lr")

    epochs: int
    batch_size: int
    lr: float
    seed: int
    device: str
    progress: bool
    trainer_options: dict[str, Any] | None
    module_: nn.Module
    history_: TrainHistory

    def _build_module(self) -> nn.Module:
        """The untrained architecture, from the parameters and the learned state."""
        raise NotImplementedError

    def _trainer(self, **overrides: Any) -> Trainer:
        options = {
            "epochs": self.epochs,
            "lr": self.lr,
            "init_lr": self.lr / 10,
            "final_lr": self.lr / 10,
            "warmup_epochs": 1.0,
            "seed": self.seed,
            "device": self.device,
            "progress": self.progress,
        }
        options.update(overrides)
        options.update(self.trainer_options or {})
        return Trainer(TrainerConfig(**options))

    def _new_module(self) -> nn.Module:
        """A freshly initialised module, seeded so fits are reproducible."""
        seed_everything(self.seed)
        return self._build_module()

    def _predict_batches(
        self, batches: list[dict[str, torch.Tensor]], predict_fn: Callable[[nn.Module, Any], Any]
    ) -> list[Any]:
        device = (self.trainer_options or {}).get("device", self.device)
        return Trainer(TrainerConfig(epochs=1, device=device, seed=None)).predict(
            self.module_, batches, predict_fn
        )

    def history(self) -> list[dict[str, Any]]:
        history = getattr(self, "history_", None)
        return [] if history is None else [history.to_dict()]

    def _modules(self) -> list[nn.Module]:
        return [self.module_]

    def _build_modules(self, n: int) -> list[nn.Module]:
        if n != 1:
            raise ValueError(f"{n} weight files for a single network")
        return [self._build_module()]

    def _set_modules(self, modules: list[nn.Module]) -> None:
        self.module_ = modules[0]


def classification_loss(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy of ``B x C`` logits against ``batch["y"]`` (``B`` int64), via the shared loss."""
    return masked_cross_entropy(logits[:, None, :], batch["y"][:, None].float())


def classification_val_metrics(
    outputs: list[torch.Tensor], batches: list[dict[str, Any]]
) -> dict[str, float]:
    """Validation accuracy, macro F1 and one-vs-rest ROC-AUC of a pass (the trainer's metric hook)."""
    probs = torch.softmax(torch.cat(outputs), 1).numpy()
    y = torch.cat([b["y"] for b in batches]).numpy()
    return multiclass_metrics(y, probs)


class ClassifierMixin:
    """``predict`` (the table), ``predict_proba``, ``predict_labels`` and ``evaluate`` of a classifier.

    Subclasses provide ``classes_`` and:

    - ``_prepare(X) -> Prepared``: check rows, keep the usable ones (and the labels, if any);
    - ``_proba(data) -> n_valid x C`` probabilities of the usable rows;
    - optionally ``_extra_columns(prepared, **options) -> {name: n_valid values}``, with the
      option names in ``prediction_options`` (a float array becomes a float column, NaN on
      unusable rows; other values an object column, None there).
    """

    classes_: list[str]
    prediction_options: ClassVar[tuple[str, ...]] = ()
    """Keyword options of :meth:`predict` beyond the data (e.g. ``top_tokens`` of text models)."""

    _check_fitted: Callable[[], None]  # from Estimator

    def _prepare(self, X: Any) -> Prepared:
        raise NotImplementedError

    def _proba(self, data: Any) -> np.ndarray:
        raise NotImplementedError

    def _extra_columns(self, prepared: Prepared, **options: Any) -> dict[str, list[Any]]:
        return {}

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``n x C`` (columns in ``classes_`` order); NaN rows for bad inputs."""
        self._check_fitted()
        return self._scatter_proba(self._prepare(X))

    def predict_labels(self, X: Any) -> np.ndarray:
        """Predicted class names, ``n`` objects; None for rows that could not be used."""
        return self._labels_of(self.predict_proba(X))

    def predict(self, data: Any, **options: Any) -> pd.DataFrame:
        """One row per input row, in order: ``row, id, [label], prediction, prob_<class>..., error``.

        Args:
            data: the inputs (see :mod:`biomodels.diagnostics.base` for the forms each family
                reads). ``label`` is there when the input carries labels; a label the model
                does not know is reported in ``error`` (the prediction is still made).
            **options: the model's ``prediction_options`` (e.g. ``top_tokens=K`` for text
                models: the ``K`` most attended tokens of each row).
        """
        self._check_fitted()
        unknown = sorted(set(options) - set(self.prediction_options))
        if unknown:
            offered = ", ".join(self.prediction_options) or "none"
            raise TypeError(
                f"{type(self).__name__}.predict takes no option {unknown[0]!r} (options: {offered})"
            )
        prepared = self._prepare(data)
        probs = self._scatter_proba(prepared)
        table = pd.DataFrame({"row": np.arange(len(prepared.ids)), "id": prepared.ids})
        errors = list(prepared.errors)
        if prepared.labels is not None:
            table["label"] = pd.Series(prepared.labels, dtype=object)
            known = set(self.classes_)
            for i, label in enumerate(prepared.labels):
                if label is not None and label not in known:
                    reason = f"label {label!r} is not one of the model's classes ({', '.join(self.classes_)})"
                    errors[i] = reason if errors[i] is None else f"{errors[i]}; {reason}"
        table["prediction"] = pd.Series(self._labels_of(probs), dtype=object)
        for c, name in enumerate(self.classes_):
            table[f"prob_{name}"] = probs[:, c]
        valid = prepared.valid
        for column, values in self._extra_columns(prepared, **options).items():
            numeric = isinstance(values, np.ndarray) and values.dtype.kind == "f"
            full = np.full(len(valid), np.nan) if numeric else np.full(len(valid), None, dtype=object)
            full[valid] = values
            table[column] = full
        table["error"] = pd.Series(errors, dtype=object)
        return table

    def evaluate(self, data: Any) -> dict[str, Any]:
        """Classification metrics on labelled ``data`` (see
        :func:`~biomodels.diagnostics.evaluate.classification_metrics`); rows with an unusable
        input or an unknown label are left out and counted in ``n_skipped``."""
        self._check_fitted()
        prepared = self._prepare(data)
        if prepared.labels is None:
            raise InputError(None, f"evaluating a {type(self).__name__} needs labelled data")
        y = label_indices(prepared.labels, self.classes_)
        keep = prepared.valid & (y >= 0)
        probs = self._scatter_proba(prepared)
        metrics = classification_metrics(y[keep], probs[keep], self.classes_)
        metrics["n_skipped"] = int((~keep).sum())
        return metrics

    def _scatter_proba(self, prepared: Prepared) -> np.ndarray:
        valid = prepared.valid
        probs = np.full((len(valid), len(self.classes_)), np.nan)
        if valid.any():
            probs[valid] = self._proba(prepared.data)
        return probs

    def _labels_of(self, probs: np.ndarray) -> np.ndarray:
        names = np.array(self.classes_, dtype=object)
        out = np.full(len(probs), None, dtype=object)
        ok = ~np.isnan(probs).any(1)
        out[ok] = names[probs[ok].argmax(1)]
        return out
