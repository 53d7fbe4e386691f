"""The ``gan`` estimator: a class-conditional DCGAN trained by the shared trainer, with its judge.

``fit(data, val=None)`` trains the GAN (:mod:`biomodels.diagnostics.gan`) on a labelled
:class:`~biomodels.io.images.ImageSet` and takes a **judge**: an image classifier over the same
classes that :meth:`~ConditionalGANEstimator.evaluate` scores generated images with (class
consistency, Frechet distances in its penultimate features, see
:func:`~biomodels.diagnostics.evaluate.gan_metrics`). The judge is loaded from ``judge`` (a run
directory or model folder of a trained ``cnn`` / ``resnet18``) or, when None, a ``cnn`` is
trained on the same data; either way it is saved inside the GAN's model folder (``member_1``),
with the mean and covariance of its features of the real training images, so a loaded GAN
evaluates on its own.

``predict(data)`` scores real images with the discriminator, each image alone (see
:meth:`~biomodels.diagnostics.gan.Discriminator.score_each`): ``row, id, [label], realness,
prediction, prob_<class>..., error``. ``realness`` is the projection discriminator's logit for
the image as its labelled class (as the predicted class when unlabelled): higher is more like
the training images. Training pushed it above 1 on real batches and below -1 on generated ones
(hinge loss); scored alone (no minibatch spread) an image lands on another scale, so compare
these values with each other, not with the training thresholds. ``prediction`` and
``prob_<class>`` come from the discriminator's auxiliary classifier. To make images, use
:meth:`~ConditionalGANEstimator.sample`.

During ``fit`` a fixed probe (the same noise each epoch, 8 images of each class) is generated
after every epoch; :meth:`~ConditionalGANEstimator.save` writes those grids as
``samples/epoch_001.png``... beside the model, and ``samples.png`` (16 images per class).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from biomodels.diagnostics.base import NeuralEstimator, label_indices
from biomodels.diagnostics.batches import tensor_batches
from biomodels.diagnostics.evaluate import gan_metrics, gaussian_statistics
from biomodels.diagnostics.gan import ConditionalGAN, gan_forward, gan_loss
from biomodels.diagnostics.image_classifier import CNNClassifier, ImageInputMixin, training_classes
from biomodels.diagnostics.imagegrid import image_grid_png, save_image_grid
from biomodels.io.images import ImageSet
from biomodels.registry import MODELS
from biomodels.train.estimator import Estimator, make_model

logger = logging.getLogger(__name__)

__all__ = ["PROBE_PER_CLASS", "ConditionalGANEstimator"]

PROBE_PER_CLASS = 8
"""Images of each class in the per-epoch probe grids."""


class ConditionalGANEstimator(ImageInputMixin, NeuralEstimator):
    """Class-conditional DCGAN for small grey images (see :mod:`biomodels.diagnostics.gan`).

    Args:
        z_dim: noise width.
        g_channels, d_channels: generator and discriminator widths.
        d_steps: discriminator updates per generator update.
        mode_seeking: weight of the mode-seeking term against mode collapse (0: off).
        class_weight: weight of the auxiliary-classifier terms that tie images to their class.
        judge: run directory or model folder of a trained image classifier (``cnn``,
            ``resnet18``) over the same classes; None: ``fit`` trains a ``cnn`` judge.
        judge_params: constructor arguments of the ``cnn`` judge trained when ``judge`` is None.
        eval_samples: images generated per class by :meth:`evaluate`.
        epochs, batch_size, lr, seed: training settings; the learning rate is constant (no warm-up
            or decay) and gradients are not clipped, as usual for GANs.
        device: ``auto``, ``cpu`` or ``cuda``. progress: a progress bar over epochs.
        trainer_options: further :class:`~biomodels.train.TrainerConfig` fields.
    """

    def __init__(
        self,
        z_dim: int = 64,
        g_channels: int = 64,
        d_channels: int = 32,
        d_steps: int = 2,
        mode_seeking: float = 1.0,
        class_weight: float = 1.0,
        judge: str | None = None,
        judge_params: dict[str, Any] | None = None,
        eval_samples: int = 500,
        epochs: int = 24,
        batch_size: int = 32,
        lr: float = 1e-3,
        seed: int = 0,
        device: str = "auto",
        progress: bool = False,
        trainer_options: dict[str, Any] | None = None,
    ):
        self.z_dim = z_dim
        self.g_channels = g_channels
        self.d_channels = d_channels
        self.d_steps = d_steps
        self.mode_seeking = mode_seeking
        self.class_weight = class_weight
        self.judge = judge
        self.judge_params = judge_params
        self.eval_samples = eval_samples
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device
        self.progress = progress
        self.trainer_options = trainer_options

    # ------------------------------------------------------------------ training
    def fit(self, data: ImageSet, val: ImageSet | None = None) -> ConditionalGANEstimator:
        """Train on a labelled ``ImageSet`` (intensities in ``[0, 1]``), then take the judge.

        ``val`` is only used to train a judge (the GAN keeps its last weights: GAN losses do not
        say which epoch is best).
        """
        classes = training_classes(data)
        images, labels = self._labelled_images(data, classes, None, "training")
        self.classes_ = classes
        self.image_size_ = (int(images.shape[1]), int(images.shape[2]))
        module = self._new_module()
        x = torch.as_tensor(images * 2 - 1).unsqueeze(1)
        y = torch.as_tensor(labels)
        probe = self._probe(x, y)
        samples = _EpochSamples()
        trainer = self._trainer(
            init_lr=self.lr, final_lr=self.lr, warmup_epochs=0.0, grad_clip=None, restore_best=False
        )
        self.history_ = trainer.fit(
            module,
            tensor_batches({"x": x, "y": y}, self.batch_size, shuffle=True),
            [probe],
            gan_loss,
            samples,
            forward=gan_forward,
        )
        self.module_ = module.eval()
        self.probe_samples_ = (
            np.stack(samples.grids) if samples.grids else np.zeros((0, 0, *self.image_size_))
        )
        self.judge_ = self._take_judge(data, val)
        self.reference_ = gaussian_statistics(self.judge_.embed(images))
        self.fitted_ = True
        return self

    def _take_judge(self, data: ImageSet, val: ImageSet | None) -> Estimator:
        if self.judge is None:
            logger.info("no judge classifier given: training a cnn on the same data")
            params = {"seed": self.seed, "device": self.device, **(self.judge_params or {})}
            return CNNClassifier(**params).fit(data, val)
        path = Path(self.judge)
        judge = Estimator.load(path / "model" if (path / "model").is_dir() else path)
        if not hasattr(judge, "embed") or judge.input_kind != "image":
            raise ValueError(
                f"the judge in {path} is a {judge.name} model; it must be a neural image classifier"
            )
        if list(judge.classes_) != self.classes_:
            raise ValueError(f"the judge's classes {judge.classes_} differ from the data's {self.classes_}")
        return judge

    def _probe(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Fixed noise and labels (class by class), with real images of the same classes."""
        generator = torch.Generator().manual_seed(self.seed)
        real = torch.cat([x[y == c][:PROBE_PER_CLASS] for c in range(len(self.classes_))])
        labels = torch.cat([y[y == c][:PROBE_PER_CLASS] for c in range(len(self.classes_))])
        return {"x": real, "y": labels, "z": torch.randn(len(real), self.z_dim, generator=generator)}

    def history(self) -> list[dict[str, Any]]:
        """The GAN's history, then the judge's when ``fit`` trained it."""
        return super().history() + (self.judge_.history() if hasattr(self, "judge_") else [])

    # ---------------------------------------------------------------- generation
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
        return save_image_grid(self._per_class(n_per_class, label, seed), path, ncol=min(n_per_class, 16))

    def _per_class(
        self, n_per_class: int, label: int | str | None = None, seed: int | None = 0
    ) -> np.ndarray:
        """``n_per_class`` generated images of every class (or of ``label``), class by class."""
        labels = self.classes_ if label is None else [label]
        return np.concatenate([self.sample(n_per_class, c, seed) for c in labels])

    def _class_index(self, label: int | str) -> int:
        """Index of a class given by name, or by index (an int or a string of digits)."""
        if str(label) in self.classes_:
            return self.classes_.index(str(label))
        if str(label).isdigit() and int(label) < len(self.classes_):
            return int(label)
        raise ValueError(f"unknown class {label!r}; the model's classes are: {', '.join(self.classes_)}")

    # ------------------------------------------------------- scoring real images
    def predict(self, data: Any) -> pd.DataFrame:
        """The discriminator's scores of each input image (see the module docstring):
        ``row, id, [label], realness, prediction, prob_<class>..., error``."""
        self._check_fitted()
        prepared = self._prepare(data)
        n, valid = len(prepared.ids), prepared.valid
        realness = np.full(n, np.nan)
        probs = np.full((n, len(self.classes_)), np.nan)
        if valid.any():
            x = torch.as_tensor(prepared.data * 2 - 1).unsqueeze(1)
            outputs = self._predict_batches(
                tensor_batches({"x": x}, 256), lambda m, b: m.discriminator.score_each(b["x"])
            )
            per_class = torch.cat([r for r, _ in outputs]).double().numpy()
            class_probs = torch.softmax(torch.cat([c for _, c in outputs]), 1).double().numpy()
            known = label_indices(prepared.labels, self.classes_)[valid] if prepared.labels else None
            chosen = (
                class_probs.argmax(1) if known is None else np.where(known >= 0, known, class_probs.argmax(1))
            )
            realness[valid] = per_class[np.arange(len(chosen)), chosen]
            probs[valid] = class_probs
        table = pd.DataFrame({"row": np.arange(n), "id": prepared.ids})
        if prepared.labels is not None:
            table["label"] = pd.Series(prepared.labels, dtype=object)
        table["realness"] = realness
        names = np.array(self.classes_, dtype=object)
        prediction = np.full(n, None, dtype=object)
        prediction[valid] = names[probs[valid].argmax(1)]
        table["prediction"] = pd.Series(prediction, dtype=object)
        for c, name in enumerate(self.classes_):
            table[f"prob_{name}"] = probs[:, c]
        table["error"] = pd.Series(prepared.errors, dtype=object)
        return table

    def evaluate(self, data: Any) -> dict[str, Any]:
        """:func:`~biomodels.diagnostics.evaluate.gan_metrics` of ``eval_samples`` generated images
        per class against ``data``'s usable images, judged by the model's judge (``frechet_train``:
        the judge's features of the real training images against ``data``'s)."""
        self._check_fitted()
        prepared = self._prepare(data)
        if len(prepared.data) < 2:
            raise ValueError("evaluating a GAN needs at least two usable real images")
        metrics = gan_metrics(
            self, self.judge_, prepared.data, self.reference_, n_per_class=self.eval_samples, seed=self.seed
        )
        return {**metrics, "n_skipped": int((~prepared.valid).sum())}

    # --------------------------------------------------------------- persistence
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
        judge = {
            "model": self.judge_.name,
            "params": self.judge_.get_params(),
            "state": self.judge_._get_state(),
        }
        return {"classes": self.classes_, "image_size": list(self.image_size_), "judge": judge}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {
            "reference_mean": self.reference_[0],
            "reference_cov": self.reference_[1],
            "probe_samples": np.round(self.probe_samples_ * 255).astype(np.uint8),
        }

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.classes_ = list(state["classes"])
        self.image_size_ = tuple(state["image_size"])
        spec = state["judge"]
        if spec["model"] not in MODELS.names(input="image"):
            raise ValueError(f"judge model {spec['model']!r} is not an image model")
        self.judge_ = make_model(spec["model"], **spec["params"])
        self.judge_._set_state(spec["state"], {})
        self.reference_ = (arrays["reference_mean"], arrays["reference_cov"])
        self.probe_samples_ = arrays["probe_samples"].astype(np.float32) / 255

    def _modules(self) -> list[nn.Module]:
        return [self.module_, *self.judge_._modules()]

    def _build_modules(self, n: int) -> list[nn.Module]:
        if n != 2:
            raise ValueError(f"{n} weight files; a GAN saves 2 (the GAN and its judge)")
        return [self._build_module(), *self.judge_._build_modules(1)]

    def _set_modules(self, modules: list[nn.Module]) -> None:
        self.module_ = modules[0]
        self.judge_._set_modules(modules[1:])
        self.judge_.fitted_ = True

    def _get_files(self) -> dict[str, bytes]:
        """The probe grid of each training epoch (``samples/epoch_001.png``...) and
        ``samples.png`` (16 images per class, seed 0), saved and checksummed with the model."""
        files = {
            f"samples/epoch_{epoch:03d}.png": image_grid_png(images, ncol=PROBE_PER_CLASS)
            for epoch, images in enumerate(self.probe_samples_, start=1)
        }
        files["samples.png"] = image_grid_png(self._per_class(16), ncol=16)
        return files


class _EpochSamples:
    """The trainer's validation-metric hook for the GAN: discriminator scores on the probe, and
    the probe's generated images of each epoch kept in ``grids`` (``k x H x W`` in ``[0, 1]``)."""

    def __init__(self) -> None:
        self.grids: list[np.ndarray] = []

    def __call__(self, outputs: list[dict[str, torch.Tensor]], batches: list[Any]) -> dict[str, float]:
        fake = torch.cat([o["fake"] for o in outputs])[:, 0]
        self.grids.append(((fake + 1) / 2).clamp(0, 1).numpy())
        return {
            "d_real": float(torch.sigmoid(torch.cat([o["real"] for o in outputs])).mean()),
            "d_fake": float(torch.sigmoid(torch.cat([o["fake_detached"] for o in outputs])).mean()),
        }
