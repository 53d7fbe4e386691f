"""The one model contract: every model family is an :class:`Estimator`.

scikit-learn's habits, with a table out::

    model = make_model("dmpnn", hidden=300, epochs=50)   # constructors store
    model.fit(train, val=val)                            # fit learns (attributes ending in _)
    frame = model.predict(data)                          # every input row, in order, + "error"
    scores = model.evaluate(test)                        # {metric: value, ...}
    model.save("run/model")                              # safetensors + model.json
    model = Estimator.load("run/model")                  # any family, from its registry key

``data`` is what the family reads: molecules (a list of SMILES, a DataFrame, a file path, parsed
records or a featurised table), texts or images. A family also says how a training run reads
and splits its data (:meth:`Estimator.training_data`), so :func:`biomodels.train.run.train_run`
and :func:`biomodels.train.run.load_run` serve every family without naming any. Adding a model is
one subclass plus one :data:`~biomodels.registry.MODELS` entry.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from torch import nn

from biomodels.exceptions import CheckpointError, InputError
from biomodels.registry import MODELS
from biomodels.train.checkpoint import ModelFolder, read_model_folder, write_model_folder

if TYPE_CHECKING:
    from biomodels.train.run import TrainRunConfig

__all__ = ["Estimator", "TrainingData", "make_model"]


@dataclass
class TrainingData:
    """A training run's data: the three partitions and how they were made.

    Attributes:
        train, val, test: the partitions, in the form the family's ``fit`` and ``evaluate`` take.
        split: the split as written to ``splits.json``.
        summary: counts for the run record (rows read, rows usable, rows skipped and why).
    """

    train: Any
    val: Any
    test: Any
    split: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)

    def partitions(self) -> dict[str, Any]:
        return {"train": self.train, "val": self.val, "test": self.test}


def make_model(name: str, **params: Any) -> Estimator:
    """Build the registered model ``name``; its registry entry's presets come first.

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists the valid names).
        ValueError: a parameter the model does not take (listing the ones it does).
    """
    cls = MODELS.get(name)
    params = {**MODELS.info(name).get("params", {}), **params}
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"model {name!r} takes no parameter {unknown[0]!r}; it takes: {', '.join(accepted)}")
    return cls(**params)


class Estimator:
    """Base class of every model family (see the module docstring).

    Subclasses set ``input_kind`` and implement ``fit``, ``predict``, ``evaluate``, the
    :meth:`training_data` reader, and the persistence hooks ``_get_state``/``_set_state``,
    ``_modules``/``_build_modules`` (networks), ``_get_arrays`` (numeric arrays) and
    ``_get_files``/``_set_files`` (further files, e.g. a molecule model's training molecules).
    """

    input_kind: ClassVar[str] = "molecule"
    """What the model reads: ``molecule``, ``text``, ``image`` or ``vector``."""

    @property
    def name(self) -> str:
        """The :data:`~biomodels.registry.MODELS` key this estimator is saved under."""
        target = f"{type(self).__module__}:{type(self).__qualname__}"
        for key in MODELS.names():
            presets = MODELS.info(key).get("params", {})
            if MODELS.target(key) == target and all(getattr(self, k, None) == v for k, v in presets.items()):
                return key
        raise TypeError(f"{type(self).__name__} is not registered in biomodels.registry.MODELS")

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments by name (what ``save`` stores to rebuild the estimator)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Estimator:
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
        return bool(getattr(self, "fitted_", False))

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit first")

    # -------------------------------------------------------------------- protocol
    _positive: ClassVar[tuple[str, ...]] = ()
    """Parameters that must be numbers > 0 (checked by :meth:`check_params`)."""

    def check_params(self) -> None:
        """Refuse parameter values out of range, before any data is read or file written.

        Raises:
            InputError: one line naming the parameter, its allowed range and the value.
        """
        for key in self._positive:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputError(None, f"{self.name}: {key} must be a number > 0, got {value!r}")

    def training_data(self, config: TrainRunConfig) -> TrainingData:
        """Read and split ``config.data`` for a training run of this family."""
        raise NotImplementedError

    def fit(self, data: Any, val: Any | None = None) -> Estimator:
        """Learn from ``data`` (``val``: held out, for the choice of the best epoch); returns self."""
        raise NotImplementedError

    def predict(self, data: Any) -> pd.DataFrame:
        """One row per input row, in order, with the predictions and an ``error`` column."""
        raise NotImplementedError

    def evaluate(self, data: Any) -> dict[str, Any]:
        """Metrics of the predictions on labelled ``data``."""
        raise NotImplementedError

    def history(self) -> list[dict[str, Any]]:
        """Per-epoch training histories (one per network; empty for non-neural models)."""
        return []

    # ----------------------------------------------------------------- persistence
    def _get_state(self) -> dict[str, Any]:
        """Learned JSON-serialisable state (target names, classes, scalers, vocabularies)."""
        return {}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`_get_state` and :meth:`_get_arrays` returned."""

    def _get_arrays(self) -> dict[str, np.ndarray]:
        """Learned numeric arrays kept beside the weights."""
        return {}

    def _get_files(self) -> dict[str, bytes]:
        """Further files saved (and checksummed) in the model folder, by relative name."""
        return {}

    def _set_files(self, files: dict[str, bytes]) -> None:
        """Restore what :meth:`_get_files` saved (called after :meth:`_set_state`, checksums verified)."""

    def _modules(self) -> list[nn.Module]:
        """The fitted networks whose weights are saved (one per ensemble member)."""
        return []

    def _build_modules(self, n: int) -> list[nn.Module]:
        """``n`` untrained networks of the saved architecture, for the weights to load into."""
        return []

    def _set_modules(self, modules: list[nn.Module]) -> None:
        """Keep the loaded networks."""

    def save(self, path: str | Path, versions: dict[str, Any] | None = None) -> Path:
        """Write the model folder ``path`` (see :mod:`biomodels.train.checkpoint`)."""
        self._check_fitted()
        return write_model_folder(
            path,
            self.name,
            self.get_params(),
            self._get_state(),
            self._modules(),
            self._get_arrays(),
            versions,
            self._get_files(),
        )

    @classmethod
    def load(cls, path: str | Path) -> Estimator:
        """Rebuild whichever estimator is saved in the model folder ``path``; nothing is unpickled.

        Raises:
            CheckpointError: one line naming the file when the folder is missing, altered,
                corrupt, of an unknown model, or holds another family than ``cls``.
        """
        folder = read_model_folder(path)
        estimator = _rebuild(folder)
        if not isinstance(estimator, cls):
            raise CheckpointError(path, f"holds a {type(estimator).__name__}, not a {cls.__name__}")
        return estimator


def _rebuild(folder: ModelFolder) -> Estimator:
    where = folder.path / "model.json"
    if folder.model not in MODELS:
        raise CheckpointError(where, f"unknown model {folder.model!r}; known: {', '.join(MODELS.names())}")
    try:
        estimator = make_model(folder.model, **folder.params)
        estimator._set_state(folder.state, folder.arrays())
        estimator._set_files(folder.extra)
        modules = estimator._build_modules(folder.n_members)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            where, f"does not describe a {folder.model} model ({type(exc).__name__}: {exc})"
        ) from None
    estimator._set_modules([folder.load_member(i, m) for i, m in enumerate(modules)])
    estimator.fitted_ = True
    return estimator
