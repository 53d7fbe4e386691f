"""Class-conditional DCGAN for small grey images, trained by the shared trainer.

The generator maps noise and a class label to an image in ``[-1, 1]`` (DCGAN layout: a linear
layer to a ``7 x 7`` map, upsampling convolutions with batch norm and ReLU, tanh output). The
discriminator is a projection discriminator (Miyato & Koyama 2018) with spectral normalisation
(Miyato et al. 2018), which keeps its gradients bounded and training stable, plus an auxiliary
classifier (AC-GAN) that ties generated images to their label.

Training runs in the generic :class:`~biomodels.train.Trainer` with its single Adam optimizer:
the steps alternate between the networks (:func:`gan_forward`), and each step's loss reaches only
one network, so the other has no gradient and Adam skips it; with Adam's per-parameter state this
is the usual pair of optimizers with the same settings. Losses are hinge losses with
classifier and mode-seeking terms (:func:`gan_loss`); samples come from an exponential moving
average of the generator.

Standard tricks used, each for a failure seen on PneumoniaMNIST with the trainer's fixed Adam
betas (0.9, 0.999): upsample + conv instead of transposed convolutions (checkerboards the
discriminator wins on), class-conditional batch norm and the auxiliary classifier (else the label
is ignored), mode-seeking term and minibatch spread (else one image per class), generator EMA
(else samples oscillate between epochs).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.utils.parametrizations import spectral_norm

__all__ = [
    "ConditionalBatchNorm2d",
    "ConditionalGAN",
    "Discriminator",
    "Generator",
    "MinibatchStd",
    "gan_forward",
    "gan_loss",
]


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift are learned per class (as in SNGAN's and BigGAN's generators).

    Shapes:
        x: ``B x C x H x W``; y: ``B`` int64 -> ``B x C x H x W``.
    """

    def __init__(self, channels: int, n_classes: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(n_classes, channels)
        self.bias = nn.Embedding(n_classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.norm(x) * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]


class Generator(nn.Module):
    """Noise + label -> image.

    A linear layer maps the noise to a ``channels x S/4 x S/4`` map; two stages of nearest
    upsampling + 3x3 convolution (no transposed convolutions: they leave checkerboard artefacts
    the discriminator latches onto) double the resolution; every normalisation is a class-
    conditional batch norm, so the label steers each stage; a 3x3 convolution and tanh give the
    image.

    Args:
        z_dim: noise width.
        n_classes: number of classes.
        channels: channels of the first map (halved at each stage).
        image_size: output side; divisible by 4.

    Shapes:
        z: ``B x z_dim``; y: ``B`` int64 -> ``B x 1 x image_size x image_size`` in ``[-1, 1]``.
    """

    def __init__(self, z_dim: int = 64, n_classes: int = 2, channels: int = 64, image_size: int = 28):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {image_size}")
        side = image_size // 4
        widths = [channels, channels // 2, channels // 4]
        self.project = nn.Sequential(
            nn.Linear(z_dim, channels * side * side, bias=False), nn.Unflatten(1, (channels, side, side))
        )
        self.norms = nn.ModuleList(ConditionalBatchNorm2d(w, n_classes) for w in widths)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, 3, padding=1, bias=False) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.out = nn.Conv2d(widths[-1], 1, 3, padding=1)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = torch.relu(self.norms[0](self.project(z), y))
        for conv, norm in zip(self.convs, self.norms[1:], strict=True):
            h = torch.relu(norm(conv(F.interpolate(h, scale_factor=2.0)), y))
        return torch.tanh(self.out(h))


class MinibatchStd(nn.Module):
    """Append the batch's mean feature standard deviation as one constant channel (Karras et al. 2018).

    A generator that collapses to one image per class gives batches with no spread, which the
    discriminator then sees directly; it is the standard remedy against mode collapse.

    Shapes:
        x: ``B x C x H x W`` -> ``B x (C + 1) x H x W``.
    """

    def forward(self, x: Tensor) -> Tensor:
        spread = x.std(0, unbiased=False).mean() if len(x) > 1 else x.new_zeros(())
        return torch.cat([x, spread.expand(len(x), 1, *x.shape[2:])], 1)


class Discriminator(nn.Module):
    """Projection discriminator with spectral norm and an auxiliary classifier.

    Two stride-2 convolutions, a minibatch-spread channel (:class:`MinibatchStd`), a 3x3
    convolution, then the features ``h`` are summed over positions (as in SNGAN's discriminators,
    which keeps it small). Realness is ``w^T h + embed(y)^T h`` (projection, Miyato & Koyama
    2018); class logits ``W_c h`` (AC-GAN, Odena et al. 2017) let the generator be trained to make
    images of the class it is asked for.

    Shapes:
        x: ``B x 1 x S x S`` in ``[-1, 1]``; y: ``B`` int64 -> ``(B, B x n_classes)`` logits.
    """

    def __init__(self, n_classes: int = 2, channels: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(1, channels, 4, 2, 1)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(channels, 2 * channels, 4, 2, 1)), nn.LeakyReLU(0.2),
            MinibatchStd(),
            spectral_norm(nn.Conv2d(2 * channels + 1, 2 * channels, 3, 1, 1)), nn.LeakyReLU(0.2),
        )  # fmt: skip
        self.linear = spectral_norm(nn.Linear(2 * channels, 1))
        self.embed = spectral_norm(nn.Embedding(n_classes, 2 * channels))
        self.classifier = nn.Linear(2 * channels, n_classes)

    def forward(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        h = self.features(x).sum((2, 3))
        return self.linear(h).squeeze(1) + (self.embed(y) * h).sum(1), self.classifier(h)

    def score_each(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Realness of each image as each class, and class logits, every image scored alone.

        Alone means as a batch of one, so the minibatch-spread channel is 0 for every image and
        an image's scores do not depend on the other images it is scored with.

        Shapes:
            x: ``B x 1 x S x S`` in ``[-1, 1]`` -> ``(B x n_classes, B x n_classes)``.
        """
        h = torch.cat([self.features(x[i : i + 1]).sum((2, 3)) for i in range(len(x))])
        classes = torch.arange(self.classifier.out_features, device=x.device)
        return self.linear(h) + h @ self.embed(classes).T, self.classifier(h)


class ConditionalGAN(nn.Module):
    """The generator and discriminator, held together so one checkpoint holds both.

    Args:
        z_dim, n_classes, image_size: see :class:`Generator`.
        g_channels, d_channels: widths of the generator and discriminator.
        d_steps: discriminator updates per generator update (training alternates between them).
        mode_seeking: weight of the mode-seeking term of the generator loss (0 disables it).
        class_weight: weight of the auxiliary-classifier cross-entropy terms (0 disables them).
        ema_decay: decay of the exponential moving average of the generator's weights.

    ``generator_ema`` is that average (updated at every training step, never by the optimizer);
    it is what :meth:`forward` samples from, as in BigGAN and StyleGAN: GAN training oscillates,
    and the averaged generator makes steadier, better images than the last iterate.
    """

    def __init__(
        self,
        z_dim: int = 64,
        n_classes: int = 2,
        image_size: int = 28,
        g_channels: int = 64,
        d_channels: int = 32,
        d_steps: int = 1,
        mode_seeking: float = 1.0,
        class_weight: float = 1.0,
        ema_decay: float = 0.99,
    ):
        super().__init__()
        self.z_dim = z_dim
        self.n_classes = n_classes
        self.d_steps = d_steps
        self.mode_seeking = mode_seeking
        self.updates = 0  # training steps taken: decides whose turn it is (not saved)
        self.class_weight = class_weight
        self.ema_decay = ema_decay
        self.generator = Generator(z_dim, n_classes, g_channels, image_size)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.discriminator = Discriminator(n_classes, d_channels)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        """Images ``B x 1 x S x S`` in ``[-1, 1]`` from the averaged generator."""
        return self.generator_ema(z, y)

    @torch.no_grad()
    def update_ema(self) -> None:
        """Move ``generator_ema`` towards the generator (batch-norm statistics are copied)."""
        for ema, current in zip(self.generator_ema.parameters(), self.generator.parameters(), strict=True):
            ema.lerp_(current, 1 - self.ema_decay)
        for ema, current in zip(self.generator_ema.buffers(), self.generator.buffers(), strict=True):
            ema.copy_(current)

    def next_turn(self) -> str:
        """``"discriminator"`` for ``d_steps`` training steps, then ``"generator"`` for one."""
        turn = "discriminator" if self.updates % (self.d_steps + 1) < self.d_steps else "generator"
        self.updates += 1
        return turn


def gan_forward(model: ConditionalGAN, batch: dict[str, Tensor]) -> dict[str, Tensor]:
    """The trainer's ``forward`` hook: discriminator scores for this step's update.

    ``batch`` holds real images ``x`` (``B x 1 x S x S`` in ``[-1, 1]``) and labels ``y``; fake
    images get the same labels and fresh noise, or ``batch["z"]`` when given (a fixed probe).

    In training, steps alternate (:meth:`ConditionalGAN.next_turn`). A discriminator step scores
    real and generated images, the latter made without gradients, so the loss reaches only the
    discriminator. A generator step scores generated images with the discriminator's parameters
    detached (:func:`torch.func.functional_call`), so the loss reaches only the generator. The
    other network's gradients stay None and the optimizer leaves it untouched. Outside training
    (validation) every score is computed.

    A generator step with ``mode_seeking > 0`` also generates a second image for half the rows
    and adds the mode-seeking penalty of Mao et al. (2019): ``mode_seeking`` divided by the mean
    ratio of image distance to noise distance. It punishes a conditional generator whose images
    do not change with the noise (mode collapse within a class).

    Both steps add the auxiliary classifier's cross-entropy (weighted by ``class_weight``): the
    discriminator learns to classify real images, the generator to make images it classifies
    as their label.

    Returns:
        Some of ``real``, ``fake_detached`` (``B`` each) and ``real_class`` (scalar)
        (discriminator terms), ``fake_for_generator`` (``B``), ``fake_class`` and
        ``mode_seeking`` (scalars) (generator terms), and ``fake`` (the generated images).
    """
    x, y = batch["x"], batch["y"]
    z = batch.get("z")
    if z is None:
        z = torch.randn(len(x), model.z_dim, device=x.device)
    if model.training:
        model.update_ema()
    turn = model.next_turn() if model.training else "both"
    disc = model.discriminator
    out: dict[str, Tensor] = {}
    if turn == "discriminator":
        with torch.no_grad():
            out["fake"] = model.generator(z, y)
    else:  # outside training, score (and show) the averaged generator
        out["fake"] = (model.generator if model.training else model.generator_ema)(z, y)
    if turn in ("discriminator", "both"):
        out["real"], real_classes = disc(x, y)
        out["fake_detached"] = disc(out["fake"].detach(), y)[0]
        out["real_class"] = model.class_weight * F.cross_entropy(real_classes, y)
    if turn in ("generator", "both"):
        frozen = {name: p.detach() for name, p in disc.named_parameters()}
        out["fake_for_generator"], fake_classes = functional_call(disc, frozen, (out["fake"], y))
        out["fake_class"] = model.class_weight * F.cross_entropy(fake_classes, y)
    if turn == "generator" and model.mode_seeking > 0 and len(x) > 1:
        half = len(x) // 2
        z2 = torch.randn(half, model.z_dim, device=x.device)
        other = model.generator(z2, y[:half])
        image_gap = (out["fake"][:half] - other).abs().flatten(1).mean(1)
        diversity = (image_gap / (z[:half] - z2).abs().mean(1)).mean()
        out["mode_seeking"] = model.mode_seeking / (diversity + 1e-5)
    return out


def gan_loss(outputs: dict[str, Tensor], batch: Any) -> Tensor:
    """Hinge losses (Lim & Ye 2017; as SNGAN) of the terms :func:`gan_forward` computed.

    Discriminator: ``mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))``; generator:
    ``-mean(D(fake))``; plus the classifier and mode-seeking terms when present.
    """
    loss = torch.zeros((), device=outputs["fake"].device)
    if "real" in outputs:
        loss = loss + F.relu(1 - outputs["real"]).mean() + F.relu(1 + outputs["fake_detached"]).mean()
    if "fake_for_generator" in outputs:
        loss = loss - outputs["fake_for_generator"].mean()
    for term in ("real_class", "fake_class", "mode_seeking"):
        if term in outputs:
            loss = loss + outputs[term]
    return loss
