"""The ``gan`` estimator: a class-conditional DCGAN trained by the shared trainer.

During ``fit`` a fixed probe (the same noise for every epoch, ``n_per_class`` images of each
class) is generated after each epoch; with ``sample_dir`` its grid is saved as
``epoch_001.png``, ``epoch_002.png``... so the progress of training can be watched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from biomodels.diagnostics.base import ESTIMATORS, NeuralEstimator
from biomodels.diagnostics.batches import tensor_batches
from biomodels.diagnostics.gan import ConditionalGAN, gan_forward, gan_loss
from biomodels.diagnostics.image_classifier import class_names_for
from biomodels.diagnostics.imagegrid import save_image_grid

__all__ = ["ConditionalGANEstimator"]


@ESTIMATORS.register("gan")
class ConditionalGANEstimator(NeuralEstimator):
    """Class-conditional DCGAN for small grey images (see :mod:`biomodels.diagnostics.gan`).

    Args:
        z_dim: noise width.
        g_channels, d_channels: generator and discriminator widths.
        d_steps: discriminator updates per generator update.
        mode_seeking: weight of the mode-seeking term against mode collapse (0: off).
        class_weight: weight of the auxiliary-classifier terms that tie images to their class.
        epochs, batch_size, lr, seed: training settings; the learning rate is constant (no warm-up
            or decay) and gradients are not clipped, as usual for GANs.
        trainer_options: further :class:`~biomodels.train.TrainerConfig` fields.
    """

    name = "gan"
    input_kind = "image"

    def __init__(
        self,
        z_dim: int = 64,
        g_channels: int = 64,
        d_channels: int = 32,
        d_steps: int = 2,
        mode_seeking: float = 1.0,
        class_weight: float = 1.0,
        epochs: int = 24,
        batch_size: int = 32,
        lr: float = 1e-3,
        seed: int = 0,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.z_dim = z_dim
        self.g_channels = g_channels
        self.d_channels = d_channels
        self.d_steps = d_steps
        self.mode_seeking = mode_seeking
        self.class_weight = class_weight
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.trainer_options = trainer_options

    def fit(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        classes: Sequence[str] | None = None,
        sample_dir: str | Path | None = None,
        n_per_class: int = 8,
    ) -> ConditionalGANEstimator:
        """Train on ``n x H x W`` images in ``[0, 1]`` with class indices ``labels``.

        Args:
            images, labels: training images and integer labels ``0 .. C-1``.
            classes: class names; defaults to ``"0" .. "C-1"``.
            sample_dir: folder for the per-epoch sample grids (none written when None).
            n_per_class: probe images per class in each grid (one grid row per class).
        """
        images = np.asarray(images, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.int64)
        self.classes_ = class_names_for(labels, classes)
        self.image_size_ = (int(images.shape[1]), int(images.shape[2]))
        module = self._new_module()
        x = torch.as_tensor(images * 2 - 1).unsqueeze(1)
        y = torch.as_tensor(labels)
        probe = self._probe(x, y, n_per_class)
        trainer = self._trainer(
            init_lr=self.lr, final_lr=self.lr, warmup_epochs=0.0, grad_clip=None, restore_best=False
        )
        self.history_ = trainer.fit(
            module,
            tensor_batches({"x": x, "y": y}, self.batch_size, shuffle=True),
            [probe],
            gan_loss,
            _EpochSamples(sample_dir, n_per_class),
            forward=gan_forward,
        )
        self.module_ = module.eval()
        return self

    def sample(self, n: int, label: int | str, seed: int | None = None) -> np.ndarray:
        """``n x H x W`` generated images of class ``label`` (name or index), intensities in ``[0, 1]``."""
        self._check_fitted()
        index = self._class_index(label)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.z_dim, generator=generator)
        batches = tensor_batches({"z": z, "y": torch.full((n,), index, dtype=torch.long)}, 256)
        outputs = self._predict_batches(batches, lambda m, b: m(b["z"], b["y"]))
        return ((torch.cat(outputs)[:, 0] + 1) / 2).clamp(0, 1).numpy()

    def sample_grid(
        self, path: str | Path, n_per_class: int = 8, label: int | str | None = None, seed: int | None = 0
    ) -> Path:
        """Save a grid PNG: one row per class (or ``n_per_class`` images of ``label`` only)."""
        labels = self.classes_ if label is None else [label]
        images = np.concatenate([self.sample(n_per_class, c, seed) for c in labels])
        return save_image_grid(images, path, ncol=min(n_per_class, 16))

    def _class_index(self, label: int | str) -> int:
        """Index of a class given by name, or by index (an int or a string of digits)."""
        if str(label) in self.classes_:
            return self.classes_.index(str(label))
        if str(label).isdigit() and int(label) < len(self.classes_):
            return int(label)
        raise ValueError(f"unknown class {label!r}; the model's classes are: {', '.join(self.classes_)}")

    def _probe(self, x: torch.Tensor, y: torch.Tensor, n_per_class: int) -> dict[str, torch.Tensor]:
        """Fixed noise and labels (class by class), with real images of the same classes."""
        generator = torch.Generator().manual_seed(self.seed)
        labels = torch.arange(len(self.classes_)).repeat_interleave(n_per_class)
        real = torch.cat([x[y == c][:n_per_class] for c in range(len(self.classes_))])
        labels = labels[: len(real)]
        return {"x": real, "y": labels, "z": torch.randn(len(real), self.z_dim, generator=generator)}

    def _build_module(self) -> nn.Module:
        if self.image_size_[0] != self.image_size_[1]:
            raise ValueError(f"the GAN needs square images, got {self.image_size_}")
        return ConditionalGAN(
            self.z_dim,
            len(self.classes_),
            self.image_size_[0],
            self.g_channels,
            self.d_channels,
            self.d_steps,
            self.mode_seeking,
            self.class_weight,
        )

    def _get_state(self) -> dict[str, Any]:
        return {"classes": self.classes_, "image_size": list(self.image_size_)}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.classes_ = list(state["classes"])
        self.image_size_ = tuple(state["image_size"])


class _EpochSamples:
    """The trainer's validation-metric hook for the GAN: discriminator scores on the probe and,
    with a folder, the probe's generated images saved as a grid per epoch."""

    def __init__(self, folder: str | Path | None, ncol: int):
        self.folder = None if folder is None else Path(folder)
        self.ncol = ncol
        self.epoch = 0

    def __call__(self, outputs: list[dict[str, torch.Tensor]], batches: list[Any]) -> dict[str, float]:
        self.epoch += 1
        if self.folder is not None:
            fake = torch.cat([o["fake"] for o in outputs])[:, 0]
            save_image_grid(
                ((fake + 1) / 2).numpy(), self.folder / f"epoch_{self.epoch:03d}.png", ncol=self.ncol
            )
        return {
            "d_real": float(torch.sigmoid(torch.cat([o["real"] for o in outputs])).mean()),
            "d_fake": float(torch.sigmoid(torch.cat([o["fake_detached"] for o in outputs])).mean()),
        }
