"""Image classifier estimators: the small CNN (``cnn``) and ResNet-18 (``resnet18``).

They fit on a labelled :class:`~biomodels.io.images.ImageSet` (``n x H x W`` intensities in
``[0, 1]``) and predict any image input (see :mod:`biomodels.diagnostics.base`); images are
normalised with the mean and standard deviation
of the training pixels, and augmented (:class:`~biomodels.diagnostics.augment.ImageAugment`)
during training only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from biomodels.diagnostics.augment import ImageAugment
from biomodels.diagnostics.base import (
    ClassifierMixin,
    NeuralEstimator,
    Prepared,
    check_path_kind,
    classification_loss,
    classification_val_metrics,
    label_indices,
)
from biomodels.diagnostics.batches import tensor_batches
from biomodels.diagnostics.cnn import ResNet18, SmallCNN
from biomodels.diagnostics.data import image_training_data
from biomodels.exceptions import InputError
from biomodels.io.images import ImageSet, images_from_arrays, pixel_statistics, read_images
from biomodels.train.estimator import TrainingData

if TYPE_CHECKING:
    from biomodels.train.run import TrainRunConfig

__all__ = ["CNNClassifier", "ImageInputMixin", "ResNet18Classifier", "prepare_images", "training_classes"]


def prepare_images(X: Any, size: tuple[int, int] | None) -> Prepared:
    """Check image rows: an ``ImageSet``, an ``n x H x W`` array or a list of single images.

    Rows of another size than ``size`` or with unusable arrays get an error; ``data`` is the
    ``n_valid x H x W`` float32 array of the good rows; an ``ImageSet``'s labels are kept (as
    class names).
    """
    if not isinstance(X, ImageSet):
        X = images_from_arrays(list(X), size=size)
    elif size is not None and X.image_size != tuple(size):
        reason = f"image is {X.image_size[0]}x{X.image_size[1]}, expected {size[0]}x{size[1]}"
        X = ImageSet(X.images, X.ids, X.labels, X.classes, [e or reason for e in X.errors], X.source)
    valid = X.valid
    return Prepared(list(X.ids), list(X.errors), X.images[valid], X.label_names())


class ImageInputMixin:
    """Reading and row checking of image estimators (against the training image size
    ``image_size_`` once fitted), and their training data."""

    input_kind = "image"
    classes_: list[str]

    @classmethod
    def training_data(cls, config: TrainRunConfig) -> TrainingData:
        """The ``.npz`` file's own split, or a split image folder
        (see :mod:`biomodels.diagnostics.data`)."""
        return image_training_data(config)

    def _prepare(self, X: Any) -> Prepared:
        size = getattr(self, "image_size_", None)
        if isinstance(X, (str, Path)):
            check_path_kind(X, "image", type(self).__name__)
            X = read_images(X, class_names=getattr(self, "classes_", None))
        elif isinstance(X, pd.DataFrame):
            raise InputError(
                None, "image models read an ImageSet, arrays, an .npz file or a folder, not a table"
            )
        return prepare_images(X, None if size is None else tuple(size))

    def _labelled_images(
        self, data: Any, classes: Sequence[str], size: tuple[int, int] | None, what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n x H x W`` images and ``n`` class indices of a clean labelled ``ImageSet``.

        Raises:
            ValueError: not a labelled ``ImageSet``, unusable rows, or labels outside ``classes``.
        """
        if not isinstance(data, ImageSet) or data.labels is None:
            raise ValueError(f"{what} data must be a labelled ImageSet, not {type(data).__name__}")
        prepared = prepare_images(data, size)
        prepared.require_usable(what)
        y = label_indices(prepared.labels, classes)
        bad = np.flatnonzero(y < 0)
        if len(bad):
            raise ValueError(
                f"{what} rows {bad[:5].tolist()} have labels outside the classes {list(classes)}"
            )
        return prepared.data, y


def training_classes(data: ImageSet) -> list[str]:
    """The class names of a labelled training ``ImageSet`` (at least one)."""
    if not isinstance(data, ImageSet) or data.labels is None or not data.classes:
        raise ValueError("training data must be a labelled ImageSet (with class names)")
    return [str(c) for c in data.classes]


class _NeuralImageClassifier(ImageInputMixin, ClassifierMixin, NeuralEstimator):
    """Training and prediction shared by the CNN and ResNet-18 estimators."""

    def _net(self, n_classes: int) -> nn.Module:
        raise NotImplementedError

    def _build_module(self) -> nn.Module:
        return self._net(len(self.classes_))

    def fit(self, data: ImageSet, val: ImageSet | None = None) -> _NeuralImageClassifier:
        """Train on a labelled :class:`~biomodels.io.images.ImageSet` (intensities in ``[0, 1]``).

        Args:
            data: the training images; the classes are its class names.
            val: validation images (labelled) for the best-epoch choice, or None.
        """
        classes = training_classes(data)
        images, labels = self._labelled_images(data, classes, None, "training")
        size = (int(images.shape[1]), int(images.shape[2]))
        self.classes_, self.image_size_ = classes, size
        self.mean_, self.std_ = pixel_statistics(images)
        module = self._new_module()
        augment = ImageAugment(degrees=self.degrees, pad=self.pad, hflip=self.hflip) if self.augment else None

        def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            x = batch["x"]
            return model(augment(x) if augment is not None and model.training else x)

        val_batches = None
        if val is not None and len(val):
            val_images, val_labels = self._labelled_images(val, classes, size, "validation")
            val_batches = tensor_batches(self._tensors(val_images, val_labels), 256)
        self.history_ = self._trainer().fit(
            module,
            tensor_batches(self._tensors(images, labels), self.batch_size, shuffle=True),
            val_batches,
            classification_loss,
            classification_val_metrics if val_batches else None,
            forward=forward,
        )
        self.module_ = module.eval()
        self.fitted_ = True
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


class CNNClassifier(_NeuralImageClassifier):
    """Small conv net (:class:`~biomodels.diagnostics.cnn.SmallCNN`) for grey images.

    Args:
        channels: channels of the conv blocks.
        dropout: dropout before the head.
        augment: random rotation/zoom and shift during training; ``degrees``, ``pad`` and
            ``hflip`` set the transform (see :class:`~biomodels.diagnostics.augment.ImageAugment`).
        epochs, batch_size, lr, seed: training settings.
        device: ``auto``, ``cpu`` or ``cuda``. progress: a progress bar over epochs.
        trainer_options: further :class:`~biomodels.train.TrainerConfig` fields.
    """

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
        device: str = "auto",
        progress: bool = False,
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
        self.device = device
        self.progress = progress
        self.trainer_options = trainer_options

    def _net(self, n_classes: int) -> nn.Module:
        return SmallCNN(1, n_classes, tuple(self.channels), self.dropout)


class ResNet18Classifier(_NeuralImageClassifier):
    """ResNet-18 for small grey images (:class:`~biomodels.diagnostics.cnn.ResNet18`).

    Args:
        width: channels of the first stage (64 as torchvision; smaller is much faster on CPU).
        dropout, augment, degrees, pad, hflip, epochs, batch_size, lr, seed, device, progress,
            trainer_options: as :class:`CNNClassifier`.
    """

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
        device: str = "auto",
        progress: bool = False,
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
        self.device = device
        self.progress = progress
        self.trainer_options = trainer_options

    def _net(self, n_classes: int) -> nn.Module:
        return ResNet18(1, n_classes, self.width, self.dropout)
