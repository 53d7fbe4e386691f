"""Image classifier estimators: the small CNN (``cnn``) and ResNet-18 (``resnet18``).

Images go in as ``n x H x W`` intensities in ``[0, 1]`` (or a list of arrays, or an
:class:`~biomodels.io.images.ImageSet`); they are normalised with the mean and standard deviation
of the training pixels, and augmented (:class:`~biomodels.diagnostics.augment.ImageAugment`)
during training only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from biomodels.diagnostics.augment import ImageAugment
from biomodels.diagnostics.base import (
    ESTIMATORS,
    ClassifierMixin,
    NeuralEstimator,
    Prepared,
    classification_loss,
    classification_val_metrics,
)
from biomodels.diagnostics.batches import tensor_batches
from biomodels.diagnostics.cnn import ResNet18, SmallCNN
from biomodels.io.images import ImageSet, images_from_arrays, pixel_statistics

__all__ = ["CNNClassifier", "ImageInputMixin", "ResNet18Classifier", "class_names_for", "prepare_images"]


def prepare_images(X: Any, size: tuple[int, int] | None) -> Prepared:
    """Check image rows: an ``ImageSet``, an ``n x H x W`` array or a list of single images.

    Rows of another size than ``size`` or with unusable arrays get an error; ``data`` is the
    ``n_valid x H x W`` float32 array of the good rows.
    """
    if not isinstance(X, ImageSet):
        X = images_from_arrays(list(X), size=size)
    elif size is not None and X.image_size != tuple(size):
        reason = f"image is {X.image_size[0]}x{X.image_size[1]}, expected {size[0]}x{size[1]}"
        X = ImageSet(X.images, X.ids, X.labels, X.classes, [e or reason for e in X.errors], X.source)
    valid = X.valid
    return Prepared(list(X.ids), list(X.errors), X.images[valid])


def class_names_for(labels: np.ndarray, classes: Sequence[str] | None) -> list[str]:
    """``classes`` as strings, or ``"0" .. "C-1"`` from the largest integer label."""
    if classes is not None:
        return [str(c) for c in classes]
    return [str(c) for c in range(int(np.max(labels)) + 1)]


class ImageInputMixin:
    """Row checking for image estimators, against the training image size ``image_size_`` once fitted."""

    def _prepare(self, X: Any) -> Prepared:
        size = getattr(self, "image_size_", None)
        return prepare_images(X, None if size is None else tuple(size))


class _NeuralImageClassifier(ImageInputMixin, ClassifierMixin, NeuralEstimator):
    """Training and prediction shared by the CNN and ResNet-18 estimators."""

    input_kind = "image"

    def _net(self, n_classes: int) -> nn.Module:
        raise NotImplementedError

    def _build_module(self) -> nn.Module:
        return self._net(len(self.classes_))

    def fit(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        val_images: np.ndarray | None = None,
        val_labels: np.ndarray | None = None,
        classes: Sequence[str] | None = None,
    ) -> _NeuralImageClassifier:
        """Train on ``n x H x W`` images in ``[0, 1]`` with integer labels ``0 .. C-1``.

        Args:
            images, labels: training images and class indices.
            val_images, val_labels: validation set for the best-epoch choice (optional).
            classes: class names in index order; defaults to ``"0" .. "C-1"``.
        """
        images = np.asarray(images, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.int64)
        self.classes_ = class_names_for(labels, classes)
        self.image_size_ = (int(images.shape[1]), int(images.shape[2]))
        self.mean_, self.std_ = pixel_statistics(images)
        module = self._new_module()
        augment = ImageAugment(degrees=self.degrees, pad=self.pad, hflip=self.hflip) if self.augment else None

        def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            x = batch["x"]
            return model(augment(x) if augment is not None and model.training else x)

        val = None
        if val_images is not None and val_labels is not None and len(val_images):
            val = tensor_batches(self._tensors(val_images, val_labels), 256)
        trainer = self._trainer()
        self.history_ = trainer.fit(
            module,
            tensor_batches(self._tensors(images, labels), self.batch_size, shuffle=True),
            val,
            classification_loss,
            classification_val_metrics if val else None,
            forward=forward,
        )
        self.module_ = module.eval()
        return self

    def embed(self, X: Any) -> np.ndarray:
        """Penultimate features ``n x D`` of the usable rows of ``X`` (bad rows are NaN)."""
        self._check_fitted()
        prepared = self._prepare(X)
        outputs = self._predict_batches(
            tensor_batches({"x": self._normalise(prepared.data)}, 256), lambda m, b: m.embed(b["x"])
        )
        valid = prepared.valid
        features = np.full((len(valid), outputs[0].shape[1] if outputs else 0), np.nan, dtype=np.float32)
        if outputs:
            features[valid] = torch.cat(outputs).numpy()
        return features

    def _proba(self, data: np.ndarray) -> np.ndarray:
        outputs = self._predict_batches(
            tensor_batches({"x": self._normalise(data)}, 256), lambda m, b: torch.softmax(m(b["x"]), 1)
        )
        return torch.cat(outputs).double().numpy()

    def _normalise(self, images: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(images, dtype=np.float32))
        return ((x - self.mean_) / self.std_).unsqueeze(1)

    def _tensors(self, images: np.ndarray, labels: np.ndarray) -> dict[str, torch.Tensor]:
        return {"x": self._normalise(images), "y": torch.as_tensor(np.asarray(labels, dtype=np.int64))}

    def _get_state(self) -> dict[str, Any]:
        return {
            "classes": self.classes_,
            "image_size": list(self.image_size_),
            "mean": self.mean_,
            "std": self.std_,
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.classes_ = list(state["classes"])
        self.image_size_ = tuple(state["image_size"])
        self.mean_, self.std_ = float(state["mean"]), float(state["std"])


@ESTIMATORS.register("cnn")
class CNNClassifier(_NeuralImageClassifier):
    """Small conv net (:class:`~biomodels.diagnostics.cnn.SmallCNN`) for grey images.

    Args:
        channels: channels of the conv blocks.
        dropout: dropout before the head.
        augment: random rotation/zoom and shift during training; ``degrees``, ``pad`` and
            ``hflip`` set the transform (see :class:`~biomodels.diagnostics.augment.ImageAugment`).
        epochs, batch_size, lr, seed: training settings.
        trainer_options: further :class:`~biomodels.train.TrainerConfig` fields.
    """

    name = "cnn"

    def __init__(
        self,
        channels: Sequence[int] = (32, 64, 128),
        dropout: float = 0.3,
        augment: bool = True,
        degrees: float = 10.0,
        pad: int = 2,
        hflip: bool = False,
        epochs: int = 15,
        batch_size: int = 64,
        lr: float = 3e-3,
        seed: int = 0,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.channels = channels
        self.dropout = dropout
        self.augment = augment
        self.degrees = degrees
        self.pad = pad
        self.hflip = hflip
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.trainer_options = trainer_options

    def _net(self, n_classes: int) -> nn.Module:
        return SmallCNN(1, n_classes, tuple(self.channels), self.dropout)


@ESTIMATORS.register("resnet18")
class ResNet18Classifier(_NeuralImageClassifier):
    """ResNet-18 for small grey images (:class:`~biomodels.diagnostics.cnn.ResNet18`).

    Args:
        width: channels of the first stage (64 as torchvision; smaller is much faster on CPU).
        dropout, augment, degrees, pad, hflip, epochs, batch_size, lr, seed, trainer_options:
            as :class:`CNNClassifier`.
    """

    name = "resnet18"

    def __init__(
        self,
        width: int = 64,
        dropout: float = 0.0,
        augment: bool = True,
        degrees: float = 10.0,
        pad: int = 2,
        hflip: bool = False,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 2e-3,
        seed: int = 0,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.width = width
        self.dropout = dropout
        self.augment = augment
        self.degrees = degrees
        self.pad = pad
        self.hflip = hflip
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.trainer_options = trainer_options

    def _net(self, n_classes: int) -> nn.Module:
        return ResNet18(1, n_classes, self.width, self.dropout)
