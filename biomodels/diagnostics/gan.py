"""Class-conditional DCGAN for small grey images, trained by the shared trainer.

The generator maps noise and a class label to an image in ``[-1, 1]`` (DCGAN: a linear layer to
a ``7 x 7`` map, transposed convolutions with batch norm and ReLU, tanh output). The
discriminator is a projection discriminator (Miyato & Koyama 2018) with spectral normalisation
on every layer (Miyato et al. 2018), which keeps its gradients bounded and training stable.

One training step updates both networks from one scalar so the generic
:class:`~biomodels.train.Trainer` can run it (one Adam optimizer; Adam's per-parameter state
makes this equal to two optimizers with the same settings):

- the discriminator loss sees generated images *detached*, so it reaches only the discriminator;
- the generator loss scores generated images with a copy of the discriminator's parameters
  *detached* (:func:`torch.func.functional_call`), so it reaches only the generator.

Both losses are the non-saturating logistic GAN losses; the updates are simultaneous.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["ConditionalGAN", "Discriminator", "Generator", "gan_forward", "gan_loss"]


class Generator(nn.Module):
    """Noise + label -> image.

    Args:
        z_dim: noise width.
        n_classes: number of classes.
        channels: channels of the ``7 x 7`` map (halved at ``14 x 14``).
        image_size: output side; divisible by 4.

    Shapes:
        z: ``B x z_dim``; y: ``B`` int64 -> ``B x 1 x image_size x image_size`` in ``[-1, 1]``.
    """

    def __init__(self, z_dim: int = 64, n_classes: int = 2, channels: int = 128, image_size: int = 28):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {image_size}")
        side = image_size // 4
        self.label = nn.Embedding(n_classes, z_dim)
        self.project = nn.Sequential(
            nn.Linear(2 * z_dim, channels * side * side, bias=False), nn.Unflatten(1, (channels, side, side)),
            nn.BatchNorm2d(channels), nn.ReLU(),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(channels // 2),
            nn.ReLU(),
            nn.ConvTranspose2d(channels // 2, 1, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.up(self.project(torch.cat([z, self.label(y)], 1)))


class Discriminator(nn.Module):
    """Projection discriminator with spectral norm: image + label -> realness logit.

    ``logit = w^T h + embed(y)^T h`` where ``h`` are the convolutional features.

    Shapes:
        x: ``B x 1 x S x S`` in ``[-1, 1]``; y: ``B`` int64 -> ``B`` logits.
    """

    def __init__(self, n_classes: int = 2, channels: int = 64, image_size: int = 28):
        super().__init__()
        side = image_size // 4
        self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(1, channels, 4, 2, 1)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(channels, 2 * channels, 4, 2, 1)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(2 * channels, 2 * channels, 3, 1, 1)), nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        width = 2 * channels * side * side
        self.linear = spectral_norm(nn.Linear(width, 1))
        self.embed = spectral_norm(nn.Embedding(n_classes, width))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.features(x)
        return self.linear(h).squeeze(1) + (self.embed(y) * h).sum(1)


class ConditionalGAN(nn.Module):
    """The generator and discriminator, held together so one checkpoint holds both.

    Args:
        z_dim, n_classes, image_size: see :class:`Generator`.
        g_channels, d_channels: widths of the generator and discriminator.
    """

    def __init__(self, z_dim: int = 64, n_classes: int = 2, image_size: int = 28, g_channels: int = 128,
                 d_channels: int = 64):
        super().__init__()
        self.z_dim = z_dim
        self.n_classes = n_classes
        self.generator = Generator(z_dim, n_classes, g_channels, image_size)
        self.discriminator = Discriminator(n_classes, d_channels, image_size)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        """Generated images ``B x 1 x S x S`` in ``[-1, 1]``."""
        return self.generator(z, y)


def gan_forward(model: ConditionalGAN, batch: dict[str, Tensor]) -> dict[str, Tensor]:
    """One step's discriminator logits (the trainer's ``forward`` hook).

    ``batch`` holds real images ``x`` (``B x 1 x S x S`` in ``[-1, 1]``) and labels ``y``; fake
    images get the same labels and fresh noise, or ``batch["z"]`` when given (a fixed probe).

    Returns:
        ``real``, ``fake_detached`` and ``fake_for_generator`` logits (``B`` each) and the
        generated images ``fake``.
    """
    x, y = batch["x"], batch["y"]
    z = batch.get("z")
    if z is None:
        z = torch.randn(len(x), model.z_dim, device=x.device)
    fake = model.generator(z, y)
    disc = model.discriminator
    frozen = {name: p.detach() for name, p in disc.named_parameters()}
    return {
        "real": disc(x, y),
        "fake_detached": disc(fake.detach(), y),
        "fake_for_generator": functional_call(disc, frozen, (fake, y)),
        "fake": fake,
    }


def gan_loss(outputs: dict[str, Tensor], batch: Any) -> Tensor:
    """Discriminator loss + generator loss (non-saturating), each reaching only its network."""
    d_loss = F.softplus(-outputs["real"]).mean() + F.softplus(outputs["fake_detached"]).mean()
    g_loss = F.softplus(-outputs["fake_for_generator"]).mean()
    return d_loss + g_loss
