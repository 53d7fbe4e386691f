"""Autoencoder estimators: ``autoencoder`` (images) and ``dense-autoencoder`` (feature vectors).

Fitted on normal examples only (``normal_class``), an autoencoder learns to reconstruct them;
its reconstruction error (:meth:`anomaly_score`) is then higher on anything else, e.g. pneumonia
X-rays for a model trained on normal ones. ``predict`` flags scores above ``threshold_``, the
``quantile`` of the training scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from biomodels.diagnostics.autoencoder import (
    ConvAutoencoder,
    DenseAutoencoder,
    reconstruction_error,
    relative_reconstruction_error,
)
from biomodels.diagnostics.base import ESTIMATORS, NeuralEstimator, Prepared
from biomodels.diagnostics.batches import tensor_batches
from biomodels.diagnostics.image_classifier import ImageInputMixin
from biomodels.io.images import pixel_statistics
from biomodels.nn.losses import masked_mse

__all__ = ["DenseAutoencoderEstimator", "ImageAutoencoder", "prepare_vectors"]


def prepare_vectors(X: Any, n_features: int | None) -> Prepared:
    """Check feature-vector rows: each must have ``n_features`` finite numbers.

    ``X`` is an ``n x d`` array or a sequence of vectors; ``data`` is ``n_valid x d`` float32.
    """
    rows = list(X)
    errors: list[str | None] = []
    good = []
    for row in rows:
        try:
            vector = np.asarray(row, dtype=np.float32).ravel()
        except (TypeError, ValueError):
            errors.append("not a numeric vector")
            continue
        if n_features is not None and vector.size != n_features:
            errors.append(f"vector has {vector.size} values, expected {n_features}")
        elif not np.isfinite(vector).all():
            errors.append("vector has non-finite values")
        else:
            errors.append(None)
            good.append(vector)
    width = n_features if n_features is not None else (good[0].size if good else 0)
    data = np.stack(good) if good else np.zeros((0, width), dtype=np.float32)
    return Prepared([str(i) for i in range(len(rows))], errors, data)


SCORES = {"mse": reconstruction_error, "relative": relative_reconstruction_error}
"""Anomaly scores by name: plain reconstruction MSE, or MSE relative to the input's variance."""


class _AutoencoderEstimator(NeuralEstimator):
    """Fit on normal rows, score by reconstruction error; subclasses define inputs and network."""

    quantile: float
    score: str

    def _prepare(self, X: Any) -> Prepared:
        raise NotImplementedError

    def _learn_scaling(self, data: np.ndarray) -> None:
        raise NotImplementedError

    def _to_tensor(self, data: np.ndarray) -> torch.Tensor:
        raise NotImplementedError

    def fit(
        self,
        X: Any,
        labels: np.ndarray | Sequence[Any] | None = None,
        normal_class: Any = None,
        val_X: Any = None,
        val_labels: np.ndarray | Sequence[Any] | None = None,
    ) -> _AutoencoderEstimator:
        """Train to reconstruct the rows of ``X`` whose label is ``normal_class`` (all rows if None).

        Raises:
            ValueError: unusable training rows, or no row of ``normal_class``.
        """
        if self.score not in SCORES:
            raise ValueError(f"unknown score {self.score!r}; choose one of: {', '.join(SCORES)}")
        for name in ("image_size_", "n_features_"):  # a refit learns the input size anew
            self.__dict__.pop(name, None)
        train = self._normal_rows(X, labels, normal_class)
        self._learn_scaling(train)
        module = self._new_module()
        x = self._to_tensor(train)
        val = None
        if val_X is not None:
            val_rows = self._normal_rows(val_X, val_labels, normal_class)
            val = tensor_batches({"x": self._to_tensor(val_rows)}, 256) if len(val_rows) else None
        self.history_ = self._trainer().fit(
            module,
            tensor_batches({"x": x}, self.batch_size, shuffle=True),
            val,
            _reconstruction_loss,
            forward=_forward,
        )
        self.module_ = module.eval()
        self.threshold_ = float(np.quantile(self._scores(train), self.quantile))
        return self

    def anomaly_score(self, X: Any) -> np.ndarray:
        """The ``score`` of each row (see :data:`SCORES`; normalised units); NaN for bad rows."""
        self._check_fitted()
        prepared = self._prepare(X)
        return self._scatter(prepared, self._scores(prepared.data)[:, None])[:, 0]

    def reconstruction_mse(self, X: Any) -> np.ndarray:
        """Mean squared reconstruction error per row (normalised units); NaN for bad rows."""
        self._check_fitted()
        prepared = self._prepare(X)
        return self._scatter(prepared, self._scores(prepared.data, "mse")[:, None])[:, 0]

    def transform(self, X: Any) -> np.ndarray:
        """Latent features ``n x latent_dim``; NaN rows for bad inputs."""
        self._check_fitted()
        prepared = self._prepare(X)
        return self._scatter(prepared, self._run(prepared.data, lambda m, b: m.encode(b["x"])))

    def reconstruct(self, X: Any) -> np.ndarray:
        """Reconstructions in input units (images in ``[0, 1]``), NaN rows for bad inputs."""
        self._check_fitted()
        prepared = self._prepare(X)
        out = self._unscale(self._run(prepared.data, lambda m, b: m(b["x"])))
        return self._scatter(prepared, out.reshape(len(out), -1)).reshape(len(prepared.ids), *out.shape[1:])

    def predict(self, X: Any) -> np.ndarray:
        """``n`` objects: True (anomalous: score above ``threshold_``), False, or None for bad rows."""
        scores = self.anomaly_score(X)
        out = np.full(len(scores), None, dtype=object)
        ok = ~np.isnan(scores)
        out[ok] = scores[ok] > self.threshold_
        return out

    def predict_table(self, X: Any, labels: Sequence[Any] | None = None) -> pd.DataFrame:
        """``row, id, [label], reconstruction_mse, anomaly_score, anomalous, error``, in input order."""
        self._check_fitted()
        prepared = self._prepare(X)
        scores = self._scatter(prepared, self._scores(prepared.data)[:, None])[:, 0]
        table = pd.DataFrame({"row": np.arange(len(scores)), "id": prepared.ids})
        if labels is not None:
            table["label"] = pd.Series(list(labels), dtype=object)
        table["reconstruction_mse"] = self._scatter(prepared, self._scores(prepared.data, "mse")[:, None])[
            :, 0
        ]
        table["anomaly_score"] = scores
        flags = np.full(len(scores), None, dtype=object)
        flags[~np.isnan(scores)] = scores[~np.isnan(scores)] > self.threshold_
        table["anomalous"] = flags
        table["error"] = pd.Series(prepared.errors, dtype=object)
        return table

    def _normal_rows(self, X: Any, labels: Any, normal_class: Any) -> np.ndarray:
        prepared = self._prepare(X)
        bad = [i for i, e in enumerate(prepared.errors) if e is not None]
        if bad:
            raise ValueError(f"training rows {bad[:5]} are unusable: {prepared.errors[bad[0]]}")
        data = prepared.data
        if labels is not None and normal_class is not None:
            keep = np.array(
                [label == normal_class or str(label) == str(normal_class) for label in labels], dtype=bool
            )
            if not keep.any():
                raise ValueError(f"no training row has the normal class {normal_class!r}")
            data = data[keep]
        return data

    def _scores(self, data: np.ndarray, kind: str | None = None) -> np.ndarray:
        score = SCORES[kind or self.score]
        return self._run(data, lambda m, b: score(b["x"], m(b["x"]))).astype(np.float64)

    def _run(self, data: np.ndarray, fn: Any) -> np.ndarray:
        """``fn(module, batch)`` over the usable rows, concatenated (the module runs on an empty input
        too, so the output keeps its trailing shape)."""
        x = self._to_tensor(data)
        if not len(x):
            with torch.no_grad():
                return fn(self.module_.cpu().eval(), {"x": x}).numpy()
        return torch.cat(self._predict_batches(tensor_batches({"x": x}, 256), fn)).numpy()

    def _unscale(self, out: np.ndarray) -> np.ndarray:
        return out

    @staticmethod
    def _scatter(prepared: Prepared, values: np.ndarray) -> np.ndarray:
        """``n_valid x k`` values -> ``n x k`` with NaN rows where the input was unusable."""
        valid = prepared.valid
        full = np.full((len(valid), values.shape[1]), np.nan)
        full[valid] = values
        return full


def _forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(batch["x"])


def _reconstruction_loss(reconstruction: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean squared error over all features, through the shared masked MSE."""
    return masked_mse(reconstruction.flatten(1), batch["x"].flatten(1))


@ESTIMATORS.register("autoencoder")
class ImageAutoencoder(ImageInputMixin, _AutoencoderEstimator):
    """Convolutional autoencoder for small grey images (normalised with the training pixels).

    Args:
        latent_dim: bottleneck width.
        channels: channels of the two encoder stages.
        score: anomaly score, ``"relative"`` (MSE over the image's variance; the default, since
            on chest X-rays the plain MSE ranks hazy pneumonia images as *more* normal) or
            ``"mse"``.
        quantile: training-score quantile used as the anomaly threshold.
        epochs, batch_size, lr, seed, trainer_options: training settings.
    """

    name = "autoencoder"
    input_kind = "image"

    def __init__(
        self,
        latent_dim: int = 32,
        channels: Sequence[int] = (32, 64),
        score: str = "relative",
        quantile: float = 0.95,
        epochs: int = 15,
        batch_size: int = 64,
        lr: float = 3e-3,
        seed: int = 0,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.latent_dim = latent_dim
        self.channels = channels
        self.score = score
        self.quantile = quantile
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.trainer_options = trainer_options

    def _learn_scaling(self, data: np.ndarray) -> None:
        self.image_size_ = (int(data.shape[1]), int(data.shape[2]))
        self.mean_, self.std_ = pixel_statistics(data)

    def _to_tensor(self, data: np.ndarray) -> torch.Tensor:
        return ((torch.as_tensor(np.asarray(data, dtype=np.float32)) - self.mean_) / self.std_).unsqueeze(1)

    def _unscale(self, out: np.ndarray) -> np.ndarray:
        return out[:, 0] * self.std_ + self.mean_

    def _build_module(self) -> nn.Module:
        if self.image_size_[0] != self.image_size_[1]:
            raise ValueError(f"the autoencoder needs square images, got {self.image_size_}")
        return ConvAutoencoder(1, self.image_size_[0], self.latent_dim, tuple(self.channels))

    def _get_state(self) -> dict[str, Any]:
        return {
            "image_size": list(self.image_size_),
            "mean": self.mean_,
            "std": self.std_,
            "threshold": self.threshold_,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.image_size_ = tuple(state["image_size"])
        self.mean_, self.std_ = float(state["mean"]), float(state["std"])
        self.threshold_ = float(state["threshold"])


@ESTIMATORS.register("dense-autoencoder")
class DenseAutoencoderEstimator(_AutoencoderEstimator):
    """Dense autoencoder for fingerprints or tabular vectors (each feature standardised).

    Args:
        hidden: encoder hidden widths.
        latent_dim: bottleneck width.
        dropout: dropout after hidden layers.
        score: anomaly score, ``"mse"`` (default) or ``"relative"`` (see :data:`SCORES`).
        quantile, epochs, batch_size, lr, seed, trainer_options: as :class:`ImageAutoencoder`.
    """

    name = "dense-autoencoder"
    input_kind = "vector"

    def __init__(
        self,
        hidden: Sequence[int] = (256,),
        latent_dim: int = 32,
        dropout: float = 0.0,
        score: str = "mse",
        quantile: float = 0.95,
        epochs: int = 30,
        batch_size: int = 64,
        lr: float = 3e-3,
        seed: int = 0,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.dropout = dropout
        self.score = score
        self.quantile = quantile
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.trainer_options = trainer_options

    def _prepare(self, X: Any) -> Prepared:
        return prepare_vectors(X, getattr(self, "n_features_", None))

    def _learn_scaling(self, data: np.ndarray) -> None:
        self.n_features_ = int(data.shape[1])
        self.mean_ = data.mean(0).astype(np.float32)
        std = data.std(0).astype(np.float32)
        self.scale_ = np.where(std > 0, std, 1.0).astype(np.float32)

    def _to_tensor(self, data: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((np.asarray(data, dtype=np.float32) - self.mean_) / self.scale_)

    def _unscale(self, out: np.ndarray) -> np.ndarray:
        return out * self.scale_ + self.mean_

    def _build_module(self) -> nn.Module:
        return DenseAutoencoder(self.n_features_, tuple(self.hidden), self.latent_dim, self.dropout)

    def _get_state(self) -> dict[str, Any]:
        return {"n_features": self.n_features_, "threshold": self.threshold_}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "scale": self.scale_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.n_features_ = int(state["n_features"])
        self.threshold_ = float(state["threshold"])
        self.mean_, self.scale_ = arrays["mean"], arrays["scale"]
