"""Tile images into one grid and save it as a PNG (what torchvision's ``save_image`` does)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from biomodels.utils import atomic_path

__all__ = ["image_grid", "image_grid_png", "save_image_grid"]


def image_grid(images: np.ndarray, ncol: int, gap: int = 2) -> np.ndarray:
    """Tile ``n x H x W`` images in ``[0, 1]`` row by row, ``ncol`` per row, with white gaps.

    Returns:
        ``rows (H + gap) - gap x ncol (W + gap) - gap`` array in ``[0, 1]``; empty cells are white.
    """
    images = np.clip(np.asarray(images, dtype=np.float32), 0, 1)
    n, h, w = images.shape
    ncol = max(1, min(ncol, n))
    nrow = -(-n // ncol)
    grid = np.ones((nrow * (h + gap) - gap, ncol * (w + gap) - gap), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, ncol)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return grid


def image_grid_png(images: np.ndarray, ncol: int = 8, upscale: int = 2) -> bytes:
    """:func:`image_grid` of ``images`` encoded as PNG, each pixel ``upscale``-fold."""
    grid = image_grid(images, ncol)
    picture = Image.fromarray(np.round(grid * 255).astype(np.uint8))
    if upscale > 1:
        picture = picture.resize(
            (picture.width * upscale, picture.height * upscale), Image.Resampling.NEAREST
        )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def save_image_grid(images: np.ndarray, path: str | Path, ncol: int = 8, upscale: int = 2) -> Path:
    """Write :func:`image_grid_png` of ``images`` to the PNG ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(image_grid_png(images, ncol, upscale))
    return path
