"""Autoencoder estimators: ``autoencoder`` (images) and ``dense-autoencoder`` (feature vectors).

Fitted on normal examples only (the rows of class ``normal_class``; every row when the data has
no labels), an autoencoder learns to reconstruct them; its reconstruction error
(:meth:`anomaly_score`) is then higher on anything else, e.g. pneumonia X-rays for a model
trained on normal ones. Rows scoring above ``threshold_``, the ``quantile`` of the training
scores, are flagged ``anomalous``.

``predict`` gives ``row, id, [label, anomalous_true], reconstruction_mse, anomaly_score,
anomalous, error`` (``anomalous_true``: the label is not the normal class); ``evaluate`` the
reconstruction errors and, on labelled data, how well the score ranks the other classes above
the normal one (:func:`~biomodels.diagnostics.evaluate.anomaly_metrics`).
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
from biomodels.diagnostics.base import NeuralEstimator, Prepared
from biomodels.diagnostics.batches import tensor_batches
from biomodels.diagnostics.evaluate import anomaly_metrics
from biomodels.diagnostics.image_classifier import ImageInputMixin, prepare_images
from biomodels.diagnostics.vectors import VectorInputMixin
from biomodels.io.images import ImageSet, pixel_statistics
from biomodels.nn.losses import masked_mse

__all__ = ["SCORES", "DenseAutoencoderEstimator", "ImageAutoencoder"]

SCORES = {"mse": reconstruction_error, "relative": relative_reconstruction_error}
"""Anomaly scores by name: plain reconstruction MSE, or MSE relative to the input's variance."""


class _AutoencoderEstimator(NeuralEstimator):
    """Fit on normal rows, score by reconstruction error; subclasses define inputs and network.

    Learned: ``classes_`` (the training labels' classes, None without labels) and ``normal_``
    (the normal class, None when every training row was used).
    """

    quantile: float
    score: str
    normal_class: str | int | None
    classes_: list[str] | None
    normal_: str | None

    def _prepare(self, X: Any) -> Prepared:
        raise NotImplementedError

    def _training_rows(self, data: Any, what: str) -> tuple[np.ndarray, list[str | None] | None, list[str]]:
        """Clean rows of ``data`` (``n x ...`` float32), their labels, and the classes."""
        raise NotImplementedError

    def _learn_scaling(self, data: np.ndarray) -> None:
        raise NotImplementedError

    def _to_tensor(self, data: np.ndarray) -> torch.Tensor:
        raise NotImplementedError

    def fit(self, data: Any, val: Any | None = None) -> _AutoencoderEstimator:
        """Train to reconstruct the rows of ``data`` of class ``normal_class`` (all rows when the
        data has no labels); ``val``'s normal rows choose the best epoch.

        Raises:
            ValueError: unknown ``score``, unusable training rows, an unknown normal class or no
                row of it.
        """
        if self.score not in SCORES:
            raise ValueError(f"unknown score {self.score!r}; choose one of: {', '.join(SCORES)}")
        for name in ("image_size_", "n_features_"):  # a refit learns the input size anew
            self.__dict__.pop(name, None)
        rows, labels, classes = self._training_rows(data, "training")
        self.classes_ = classes if labels is not None else None
        self.normal_ = self._normal_of(classes) if labels is not None else None
        if labels is None and self.normal_class is not None:
            raise ValueError(f"normal_class {self.normal_class!r} given, but the training data has no labels")
        train = self._normal(rows, labels)
        if not len(train):
            raise ValueError(f"no training row has the normal class {self.normal_!r}")
        self._learn_scaling(train)
        module = self._new_module()
        val_batches = None
        if val is not None and len(val):
            val_rows, val_labels, _ = self._training_rows(val, "validation")
            val_normal = self._normal(val_rows, val_labels)
            if len(val_normal):
                val_batches = tensor_batches({"x": self._to_tensor(val_normal)}, 256)
        self.history_ = self._trainer().fit(
            module,
            tensor_batches({"x": self._to_tensor(train)}, self.batch_size, shuffle=True),
            val_batches,
            _reconstruction_loss,
            forward=_forward,
        )
        self.module_ = module.eval()
        self.threshold_ = float(np.quantile(self._scores(train), self.quantile))
        self.fitted_ = True
        return self

    def _normal_of(self, classes: list[str]) -> str:
        """The normal class: ``normal_class`` by name or index, else the first class."""
        if self.normal_class is None:
            return classes[0]
        name = str(self.normal_class)
        if name in classes:
            return name
        if name.isdigit() and int(name) < len(classes):
            return classes[int(name)]
        raise ValueError(f"unknown normal class {self.normal_class!r}; classes are: {', '.join(classes)}")

    def _normal(self, rows: np.ndarray, labels: list[str | None] | None) -> np.ndarray:
        if labels is None or self.normal_ is None:
            return rows
        return rows[np.array([label == self.normal_ for label in labels], dtype=bool)]

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

    def predict(self, data: Any) -> pd.DataFrame:
        """One row per input row, in order: ``row, id, [label, anomalous_true],
        reconstruction_mse, anomaly_score, anomalous, error`` (scores in normalised units)."""
        self._check_fitted()
        prepared = self._prepare(data)
        scores = self._scatter(prepared, self._scores(prepared.data)[:, None])[:, 0]
        mse = self._scatter(prepared, self._scores(prepared.data, "mse")[:, None])[:, 0]
        table = pd.DataFrame({"row": np.arange(len(scores)), "id": prepared.ids})
        if prepared.labels is not None:
            table["label"] = pd.Series(prepared.labels, dtype=object)
            if self.normal_ is not None:
                truth = [None if label is None else label != self.normal_ for label in prepared.labels]
                table["anomalous_true"] = pd.Series(truth, dtype=object)
        table["reconstruction_mse"] = mse
        table["anomaly_score"] = scores
        flags = np.full(len(scores), None, dtype=object)
        flags[~np.isnan(scores)] = scores[~np.isnan(scores)] > self.threshold_
        table["anomalous"] = flags
        table["error"] = pd.Series(prepared.errors, dtype=object)
        return table

    def evaluate(self, data: Any) -> dict[str, Any]:
        """Reconstruction errors of ``data``'s usable rows and, when the rows are labelled and the
        model knows its normal class, :func:`~biomodels.diagnostics.evaluate.anomaly_metrics`
        (rows of other classes are the anomalies)."""
        self._check_fitted()
        prepared = self._prepare(data)
        keep = prepared.valid
        if prepared.labels is not None and self.normal_ is not None:
            keep &= np.array([label is not None for label in prepared.labels], dtype=bool)
        scores = self._scatter(prepared, self._scores(prepared.data)[:, None])[:, 0][keep]
        mse = self._scatter(prepared, self._scores(prepared.data, "mse")[:, None])[:, 0][keep]
        if prepared.labels is not None and self.normal_ is not None:
            is_anomaly = np.array([label != self.normal_ for label in prepared.labels], dtype=bool)[keep]
            metrics: dict[str, Any] = anomaly_metrics(mse, is_anomaly, scores)
            metrics["anomalous_share"] = float(is_anomaly.mean()) if len(is_anomaly) else float("nan")
        else:
            metrics = {"reconstruction_mse": float(mse.mean()) if len(mse) else float("nan")}
        flagged = scores > self.threshold_
        metrics.update(
            flagged_share=float(flagged.mean()) if len(flagged) else float("nan"), n=int(keep.sum())
        )
        metrics["n_skipped"] = int((~keep).sum())
        return metrics

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


class ImageAutoencoder(ImageInputMixin, _AutoencoderEstimator):
    """Convolutional autoencoder for small grey images (normalised with the training pixels).

    Args:
        latent_dim: bottleneck width.
        channels: channels of the two encoder stages.
        score: anomaly score, ``"relative"`` (MSE over the image's variance; the default, since
            on chest X-rays the plain MSE ranks hazy pneumonia images as *more* normal) or
            ``"mse"``.
        quantile: training-score quantile used as the anomaly threshold.
        normal_class: the class (name or index) of the normal training images; None: the first.
        epochs, batch_size, lr, seed: training settings.
        device: ``auto``, ``cpu`` or ``cuda``. progress: a progress bar over epochs.
        trainer_options: further :class:`~biomodels.train.TrainerConfig` fields.
    """

    def __init__(
        self,
        latent_dim: int = 32,
        channels: Sequence[int] = (32, 64),
        score: str = "relative",
        quantile: float = 0.95,
        normal_class: str | int | None = None,
        epochs: int = 15,
        batch_size: int = 64,
        lr: float = 3e-3,
        seed: int = 0,
        device: str = "auto",
        progress: bool = False,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.latent_dim = latent_dim
        self.channels = channels
        self.score = score
        self.quantile = quantile
        self.normal_class = normal_class
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device
        self.progress = progress
        self.trainer_options = trainer_options

    def _training_rows(self, data: Any, what: str) -> tuple[np.ndarray, list[str | None] | None, list[str]]:
        if not isinstance(data, ImageSet):
            raise ValueError(f"{what} data must be an ImageSet, not {type(data).__name__}")
        size = getattr(self, "image_size_", None) if what != "training" else None
        prepared = prepare_images(data, size)
        prepared.require_usable(what)
        return prepared.data, prepared.labels, [str(c) for c in data.classes]

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
            "classes": self.classes_,
            "normal": self.normal_,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.image_size_ = tuple(state["image_size"])
        self.mean_, self.std_ = float(state["mean"]), float(state["std"])
        self.threshold_ = float(state["threshold"])
        self.classes_, self.normal_ = state["classes"], state["normal"]


class DenseAutoencoderEstimator(VectorInputMixin, _AutoencoderEstimator):
    """Dense autoencoder for fingerprints or tabular vectors (each feature standardised).

    Args:
        hidden: encoder hidden widths.
        latent_dim: bottleneck width.
        dropout: dropout after hidden layers.
        score: anomaly score, ``"mse"`` (default) or ``"relative"`` (see :data:`SCORES`).
        normal_class: the class (name or index, among the sorted labels) of the normal rows when
            the training vectors are labelled; None: the first.
        quantile, epochs, batch_size, lr, seed, device, progress, trainer_options: as
            :class:`ImageAutoencoder`.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (256,),
        latent_dim: int = 32,
        dropout: float = 0.0,
        score: str = "mse",
        quantile: float = 0.95,
        normal_class: str | int | None = None,
        epochs: int = 30,
        batch_size: int = 64,
        lr: float = 3e-3,
        seed: int = 0,
        device: str = "auto",
        progress: bool = False,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.dropout = dropout
        self.score = score
        self.quantile = quantile
        self.normal_class = normal_class
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device
        self.progress = progress
        self.trainer_options = trainer_options

    def _training_rows(self, data: Any, what: str) -> tuple[np.ndarray, list[str | None] | None, list[str]]:
        vectors, rows = self._clean_vectors(data, what)
        if what == "training":
            self.feature_names_ = list(vectors.feature_names)
        labels = vectors.label_names()
        classes = sorted({label for label in labels if label is not None}) if labels is not None else []
        return rows, labels, classes

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
        return {
            "n_features": self.n_features_,
            "feature_names": self.feature_names_,
            "threshold": self.threshold_,
            "classes": self.classes_,
            "normal": self.normal_,
        }

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "scale": self.scale_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.n_features_ = int(state["n_features"])
        self.feature_names_ = list(state["feature_names"])
        self.threshold_ = float(state["threshold"])
        self.classes_, self.normal_ = state["classes"], state["normal"]
        self.mean_, self.scale_ = arrays["mean"], arrays["scale"]
