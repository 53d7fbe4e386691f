"""Mini-batches of tensors for the trainer: dicts of equally long tensors, sliced by row."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor

__all__ = ["tensor_batches"]

TensorBatch = dict[str, Tensor]


def tensor_batches(
    tensors: Mapping[str, Tensor], batch_size: int, shuffle: bool = False
) -> list[TensorBatch] | Callable[[], list[TensorBatch]]:
    """Cut ``tensors`` (same first dimension) into dict batches of ``batch_size`` rows.

    Args:
        tensors: named tensors, row ``i`` of each belonging to item ``i``.
        batch_size: rows per batch (the last batch may be smaller).
        shuffle: return a callable giving a new random order on each call (one call per epoch,
            drawn from torch's global generator, which the trainer seeds); else a fixed list.

    Shapes:
        each tensor: ``n x ...``; each batch's tensors: ``b x ...``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n = len(next(iter(tensors.values())))

    def batches(order: Tensor) -> list[TensorBatch]:
        return [{k: v[idx] for k, v in tensors.items()} for idx in order.split(batch_size)]

    if shuffle:
        return lambda: batches(torch.randperm(n))
    return batches(torch.arange(n))
