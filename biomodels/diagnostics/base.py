"""The estimator protocol of the diagnostic models: scikit-learn style, checkpointed without pickle.

Every model is a class registered in :data:`ESTIMATORS` under its CLI name. Constructors only
store arguments; ``fit`` learns and sets attributes ending in ``_``; ``save(path)`` writes a
checkpoint with :func:`biomodels.train.save_checkpoint` (``model.safetensors`` + ``config.json``
holding the registry name, the constructor arguments and the learned JSON state such as classes
and vocabularies; numeric arrays of scikit-learn models go to ``arrays.safetensors``), and
:func:`load_estimator` rebuilds any of them from its directory.

Inputs are prepared row by row (:class:`Prepared`): a row that cannot be used keeps its place,
gets NaN outputs and its reason in the ``error`` column of :meth:`ClassifierMixin.predict_table`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from biomodels.exceptions import CheckpointError
from biomodels.nn.losses import masked_cross_entropy
from biomodels.registry import Registry
from biomodels.train import (
    Trainer,
    TrainerConfig,
    load_checkpoint,
    load_extra_arrays,
    save_checkpoint,
    seed_everything,
)
from biomodels.train.checkpoint import read_config
from biomodels.train.metrics import multiclass_metrics

__all__ = [
    "ESTIMATORS",
    "ClassifierMixin",
    "DiagnosticEstimator",
    "NeuralEstimator",
    "Prepared",
    "classification_loss",
    "classification_val_metrics",
    "load_estimator",
]

ESTIMATORS: Registry[type[DiagnosticEstimator]] = Registry("diagnostic model")
"""CLI name -> estimator class (``cnn``, ``resnet18``, ``rnn``, ``transformer``, ``autoencoder``,
``gan``, ``bow-logreg``, ...)."""


@dataclass
class Prepared:
    """Inputs checked row by row.

    Attributes:
        ids: ``n`` row identifiers.
        errors: ``n`` reasons (None for usable rows).
        data: the usable rows only, in the form the model consumes.
    """

    ids: list[str]
    errors: list[str | None]
    data: Any

    @property
    def valid(self) -> np.ndarray:
        return np.array([e is None for e in self.errors], dtype=bool)


class DiagnosticEstimator:
    """Base class: parameters, persistence and the hooks subclasses fill in.

    Subclasses set ``name`` (their registry key) and ``input_kind`` (``"image"``, ``"text"`` or
    ``"vector"``) and implement :meth:`_get_state`, :meth:`_set_state` and :meth:`_build_module`;
    ``module_`` holds the fitted :class:`torch.nn.Module` (an empty one for scikit-learn models).
    """

    name: ClassVar[str] = ""
    input_kind: ClassVar[str] = "image"

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments by name (what ``save`` stores to rebuild the estimator)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> DiagnosticEstimator:
        """Change constructor arguments (unknown names raise, listing the valid ones)."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"unknown parameter {key!r} of {type(self).__name__}; valid: {', '.join(valid)}"
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "module_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def _get_state(self) -> dict[str, Any]:
        """Learned JSON-serialisable state (classes, vocabulary, normalisation)."""
        raise NotImplementedError

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`_get_state` and :meth:`_get_arrays` returned."""
        raise NotImplementedError

    def _get_arrays(self) -> dict[str, np.ndarray]:
        """Learned numeric arrays kept beside the weights (scikit-learn coefficients)."""
        return {}

    def _build_module(self) -> nn.Module:
        """The untrained architecture, from the parameters and the learned state."""
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        """Write the checkpoint (weights + JSON config, no pickle) into the folder ``path``."""
        self._check_fitted()
        config = {"kind": self.name, "params": self.get_params(), "state": self._get_state()}
        return save_checkpoint(path, self.module_, config, self._get_arrays() or None)

    @classmethod
    def load(cls, path: str | Path) -> DiagnosticEstimator:
        """Rebuild an estimator saved with :meth:`save`; see :func:`load_estimator`."""
        estimator = load_estimator(path)
        if not isinstance(estimator, cls):
            raise CheckpointError(path, f"holds a {type(estimator).__name__}, not a {cls.__name__}")
        return estimator


def load_estimator(path: str | Path) -> DiagnosticEstimator:
    """Rebuild whichever diagnostic estimator is saved in the folder ``path``.

    Raises:
        CheckpointError: missing, corrupt or foreign checkpoint (one line, naming the file).
    """
    config = read_config(path)
    kind = config.get("kind") if isinstance(config, dict) else None
    if kind not in ESTIMATORS:
        raise CheckpointError(
            path,
            f"not a diagnostic model checkpoint (model kind {kind!r}); "
            f"known kinds: {', '.join(ESTIMATORS.names())}",
        )
    try:
        estimator = ESTIMATORS.get(kind)(**config["params"])
        estimator._set_state(config["state"], load_extra_arrays(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            path, f"config does not describe a {kind} model ({type(exc).__name__}: {exc})"
        ) from None
    estimator.module_, _ = load_checkpoint(path, lambda _: estimator._build_module())
    estimator.module_.eval()
    return estimator


class NeuralEstimator(DiagnosticEstimator):
    """Shared training plumbing: one :class:`~biomodels.train.Trainer` per fit.

    Subclass constructors store ``epochs``, ``batch_size``, ``lr``, ``seed`` and
    ``trainer_options`` (further :class:`~biomodels.train.TrainerConfig` fields such as
    ``device``, ``progress``, ``patience``, ``weight_decay``).
    """

    epochs: int
    batch_size: int
    lr: float
    seed: int
    trainer_options: dict[str, Any] | None

    def _trainer(self, **overrides: Any) -> Trainer:
        options = {
            "epochs": self.epochs,
            "lr": self.lr,
            "init_lr": self.lr / 10,
            "final_lr": self.lr / 10,
            "warmup_epochs": 1.0,
            "seed": self.seed,
            "device": "auto",
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
        device = (self.trainer_options or {}).get("device", "auto")
        return Trainer(TrainerConfig(epochs=1, device=device, seed=None)).predict(
            self.module_, batches, predict_fn
        )


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
    """``predict_proba``/``predict``/``predict_table`` on top of ``_prepare`` and ``_proba``.

    Subclasses provide ``classes_`` and:

    - ``_prepare(X) -> Prepared``: check rows, keep the usable ones;
    - ``_proba(data) -> n_valid x C`` probabilities of the usable rows;
    - optionally ``_extra_columns(prepared, **options) -> {name: n_valid values}``.
    """

    classes_: list[str]

    def _prepare(self, X: Any) -> Prepared:
        raise NotImplementedError

    def _proba(self, data: Any) -> np.ndarray:
        raise NotImplementedError

    def _extra_columns(self, prepared: Prepared, **options: Any) -> dict[str, list[Any]]:
        return {}

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``n x C`` (columns in ``classes_`` order); NaN rows for bad inputs."""
        self._check_fitted()
        prepared = self._prepare(X)
        return self._scatter_proba(prepared)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class names, ``n`` objects; None for rows that could not be used."""
        probs = self.predict_proba(X)
        return self._labels_of(probs)

    def predict_table(self, X: Any, labels: Sequence[Any] | None = None, **options: Any) -> pd.DataFrame:
        """One row per input row, in order: ``row, id, [label], prediction, prob_<class>..., error``.

        Args:
            X: the inputs (what ``predict_proba`` accepts, including an ``ImageSet``/``TextSet``).
            labels: optional true labels (class names, or indices for integer labels); a label
                the model does not know is reported in ``error`` (the prediction is still made).
            **options: model-specific extra outputs (e.g. ``top_tokens=K`` for text models).
        """
        self._check_fitted()
        prepared = self._prepare(X)
        probs = self._scatter_proba(prepared)
        table = pd.DataFrame({"row": np.arange(len(prepared.ids)), "id": prepared.ids})
        errors = list(prepared.errors)
        if labels is not None:
            table["label"] = pd.Series(list(labels), dtype=object)
            for i, label in enumerate(labels):
                if label is not None and str(label) not in self.classes_:
                    reason = f"label {label!r} is not one of the model's classes ({', '.join(self.classes_)})"
                    errors[i] = reason if errors[i] is None else f"{errors[i]}; {reason}"
        table["prediction"] = pd.Series(self._labels_of(probs), dtype=object)
        for c, name in enumerate(self.classes_):
            table[f"prob_{name}"] = probs[:, c]
        valid = prepared.valid
        for column, values in self._extra_columns(prepared, **options).items():
            full = np.full(len(valid), None, dtype=object)
            full[valid] = values
            table[column] = full
        table["error"] = pd.Series(errors, dtype=object)
        return table

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
