"""Autoencoders: convolutional for small images, dense for fingerprint or tabular vectors.

Both expose ``encode`` (latent features), ``decode`` and ``forward`` (reconstruction). The anomaly
score of an input is its reconstruction error, absolute (:func:`reconstruction_error`) or relative
to the input's variance (:func:`relative_reconstruction_error`): trained on normal images only,
the autoencoder reconstructs abnormal ones worse.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

__all__ = ["ConvAutoencoder", "DenseAutoencoder", "reconstruction_error", "relative_reconstruction_error"]


def reconstruction_error(x: Tensor, reconstruction: Tensor) -> Tensor:
    """Mean squared error per item over all its features: ``B x ...`` -> ``B``."""
    return (x - reconstruction).pow(2).flatten(1).mean(1)


def relative_reconstruction_error(x: Tensor, reconstruction: Tensor) -> Tensor:
    """Reconstruction MSE divided by the item's own variance (``1 - R^2``): ``B x ...`` -> ``B``.

    The share of an image's contrast the autoencoder fails to reproduce. Unlike the plain MSE it
    does not reward low-contrast images: hazy pneumonia X-rays are easy to reconstruct in
    absolute terms but lose their structure.
    """
    return reconstruction_error(x, reconstruction) / x.flatten(1).var(1, unbiased=False).clamp(min=1e-8)


class ConvAutoencoder(nn.Module):
    """Strided-conv encoder to a latent vector, transposed-conv decoder back to the image.

    Args:
        in_channels: image channels.
        image_size: side of the square input; divisible by 4 (two stride-2 stages).
        latent_dim: width of the bottleneck.
        channels: channels of the two encoder stages (mirrored by the decoder).

    Shapes:
        x: ``B x in_channels x S x S`` (normalised); ``encode``: ``B x latent_dim``;
        ``forward``: ``B x in_channels x S x S``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        latent_dim: int = 32,
        channels: Sequence[int] = (32, 64),
    ):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4, got {image_size}")
        c1, c2 = channels
        side = image_size // 4
        self.shape = (c2, side, side)
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, c1, 4, 2, 1),
            nn.BatchNorm2d(c1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c1, c2, 4, 2, 1),
            nn.BatchNorm2d(c2),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(c2 * side * side, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, c2 * side * side),
            nn.Unflatten(1, self.shape),
            nn.ReLU(),
            nn.ConvTranspose2d(c2, c1, 4, 2, 1),
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.ConvTranspose2d(c1, in_channels, 4, 2, 1),
        )

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


class DenseAutoencoder(nn.Module):
    """MLP encoder and mirrored decoder for feature vectors (fingerprints, descriptors).

    Args:
        in_dim: input width.
        hidden: hidden layer widths of the encoder (reversed for the decoder).
        latent_dim: width of the bottleneck.
        dropout: dropout after each hidden layer.

    Shapes:
        x: ``B x in_dim``; ``encode``: ``B x latent_dim``; ``forward``: ``B x in_dim``.
    """

    def __init__(
        self, in_dim: int, hidden: Sequence[int] = (256,), latent_dim: int = 32, dropout: float = 0.0
    ):
        super().__init__()
        self.encoder = _mlp([in_dim, *hidden, latent_dim], dropout)
        self.decoder = _mlp([latent_dim, *reversed(hidden), in_dim], dropout)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


def _mlp(widths: Sequence[int], dropout: float) -> nn.Sequential:
    """Linear layers with ReLU and dropout between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers += [nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)
