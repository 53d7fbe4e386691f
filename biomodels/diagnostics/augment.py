"""Train-time image augmentation in plain torch (torchvision is not a dependency).

:class:`ImageAugment` draws an independent random transform per image of a batch:

- a small affine warp (rotation by a few degrees and a slight zoom) through
  :func:`torch.nn.functional.affine_grid` / :func:`~torch.nn.functional.grid_sample`, bilinear,
  with border padding;
- a random crop with padding: the image is padded by ``pad`` pixels (edge values repeated) and an
  ``H x W`` window is cut at a random offset, i.e. a random shift of up to ``pad`` pixels;
- optionally a horizontal flip. It is off by default: chest X-rays are not left-right
  symmetric (the heart sits on the left), so a flip makes images no scanner produces.

It is applied by the models' training forward only, never at evaluation or prediction.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ImageAugment"]


class ImageAugment(nn.Module):
    """Random rotation/zoom, shift (crop with padding) and optional flip, per image.

    Args:
        degrees: rotation angle drawn uniformly from ``[-degrees, degrees]``.
        scale: zoom factor range; 1 keeps the size.
        pad: maximum shift in pixels of the random crop; 0 disables it.
        hflip: flip half of the images left-right.

    Shapes:
        x: ``B x C x H x W`` -> ``B x C x H x W``.
    """

    def __init__(
        self,
        degrees: float = 10.0,
        scale: tuple[float, float] = (0.9, 1.1),
        pad: int = 2,
        hflip: bool = False,
    ):
        super().__init__()
        self.degrees = degrees
        self.scale = scale
        self.pad = pad
        self.hflip = hflip

    def forward(self, x: Tensor) -> Tensor:
        x = self.affine(x)
        if self.pad:
            x = self.shift(x)
        if self.hflip:
            flip = torch.rand(len(x), device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        return x

    def affine(self, x: Tensor) -> Tensor:
        """Rotate each image by a random angle and zoom it by a random factor about its centre."""
        b = len(x)
        angle = (torch.rand(b, device=x.device) * 2 - 1) * math.radians(self.degrees)
        low, high = self.scale
        zoom = low + torch.rand(b, device=x.device) * (high - low)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        zero = torch.zeros_like(cos)
        theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def shift(self, x: Tensor) -> Tensor:
        """Random crop of the original size from the image padded by ``pad`` (edge replicated)."""
        h, w = x.shape[-2:]
        padded = F.pad(x, [self.pad] * 4, mode="replicate")
        offsets = torch.randint(0, 2 * self.pad + 1, (len(x), 2)).tolist()
        return torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets)])
