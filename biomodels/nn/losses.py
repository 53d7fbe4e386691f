"""Masked losses for multi-task targets with missing labels.

Targets are ``B x T`` float tensors where NaN marks a missing label, with a ``B x T`` bool mask
that is True where a label is observed (``batch.y`` and ``batch.y_mask`` from
:func:`biomodels.data.graphs.collate_graphs`). Missing entries contribute nothing, neither to the
value nor to the gradient; each loss is the mean over observed entries, and 0 (still attached to
the graph) when a batch has none.

Each model owns its loss (e.g. :meth:`biomodels.models.property.PropertyModel.loss`) and
builds it from these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "LossFn",
    "gaussian_nll",
    "masked_bce_with_logits",
    "masked_cross_entropy",
    "masked_mse",
]

LossFn = Callable[[Any, Any], Tensor]
"""The trainer's loss protocol: ``loss_fn(outputs, batch) -> scalar tensor``."""


def masked_mse(pred: Tensor, y: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean squared error over observed labels.

    Args:
        pred: ``B x T`` predictions.
        y: ``B x T`` targets, NaN where missing.
        mask: ``B x T`` bool, True where observed; defaults to ``~isnan(y)``.
    """
    mask, y = _observed(y, mask)
    return _masked_mean((pred - y) ** 2, mask)


def masked_bce_with_logits(logits: Tensor, y: Tensor, mask: Tensor | None = None) -> Tensor:
    """Binary cross-entropy on logits over observed 0/1 labels.

    Args:
        logits: ``B x T`` raw scores (before the sigmoid).
        y: ``B x T`` targets in {0, 1}, NaN where missing.
        mask: ``B x T`` bool, True where observed; defaults to ``~isnan(y)``.
    """
    mask, y = _observed(y, mask)
    return _masked_mean(F.binary_cross_entropy_with_logits(logits, y, reduction="none"), mask)


def masked_cross_entropy(logits: Tensor, y: Tensor, mask: Tensor | None = None) -> Tensor:
    """Cross-entropy over observed class labels, one softmax per task.

    Args:
        logits: ``B x T x C`` raw class scores.
        y: ``B x T`` class indices stored as floats, NaN where missing.
        mask: ``B x T`` bool, True where observed; defaults to ``~isnan(y)``.
    """
    mask, y = _observed(y, mask)
    n_classes = logits.shape[-1]
    per_entry = F.cross_entropy(
        logits.reshape(-1, n_classes), y.reshape(-1).long(), reduction="none"
    ).reshape(y.shape)
    return _masked_mean(per_entry, mask)


def gaussian_nll(mean: Tensor, var: Tensor, y: Tensor, mask: Tensor | None = None) -> Tensor:
    """Gaussian negative log-likelihood (constant dropped) for a mean-variance head.

    ``0.5 * (log(var) + (y - mean)^2 / var)`` averaged over observed labels; ``var`` is clamped
    below at 1e-6 for stability (as in :func:`torch.nn.functional.gaussian_nll_loss`).

    Args:
        mean: ``B x T`` predicted means.
        var: ``B x T`` predicted variances (positive, e.g. from a softplus).
        y: ``B x T`` targets, NaN where missing.
        mask: ``B x T`` bool, True where observed; defaults to ``~isnan(y)``.
    """
    mask, y = _observed(y, mask)
    per_entry = F.gaussian_nll_loss(mean, y, var, reduction="none", eps=1e-6)
    return _masked_mean(per_entry, mask)


def _observed(y: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Return the mask and ``y`` with missing entries zeroed (NaN would poison gradients)."""
    observed = ~torch.isnan(y)
    mask = observed if mask is None else mask.bool() & observed
    return mask, torch.where(mask, y, torch.zeros_like(y))


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    # torch.where, not multiplication: a non-finite value at a masked entry must not leak in.
    total = torch.where(mask, values, torch.zeros_like(values)).sum()
    return total / mask.sum().clamp(min=1)
