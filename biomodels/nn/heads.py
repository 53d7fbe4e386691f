"""Prediction heads: graph embeddings -> per-task outputs, registered in :data:`HEADS`.

Every head is built as ``HEADS.get(name)(in_dim, n_tasks, n_classes=1, hidden=300, layers=1,
dropout=0.0)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from biomodels.registry import Registry

HEADS: Registry[type[nn.Module]] = Registry("head")


def mlp(in_dim: int, out_dim: int, hidden: int = 300, layers: int = 1, dropout: float = 0.0) -> nn.Sequential:
    """Feed-forward network with ``layers`` hidden layers, as chemprop's ``MLP``.

    ``Linear(in, hidden)``, then ``ReLU, Dropout, Linear`` per further layer, the last to
    ``out_dim``; ``layers=0`` is a single ``Linear(in, out)``.
    """
    dims = [in_dim] + [hidden] * layers + [out_dim]
    blocks: list[nn.Module] = [nn.Linear(dims[0], dims[1])]
    for d_in, d_out in zip(dims[1:-1], dims[2:], strict=True):
        blocks += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_in, d_out)]
    return nn.Sequential(*blocks)


@HEADS.register("ffn")
class FFNHead(nn.Module):
    """One output per task, or ``n_classes`` logits per task when ``n_classes > 1``.

    Shapes:
        h: ``B x in_dim``; returns ``B x n_tasks`` (``n_classes == 1``) or
        ``B x n_tasks x n_classes``.
    """

    def __init__(
        self,
        in_dim: int,
        n_tasks: int,
        n_classes: int = 1,
        hidden: int = 300,
        layers: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.n_tasks, self.n_classes = n_tasks, n_classes
        self.mlp = mlp(in_dim, n_tasks * n_classes, hidden, layers, dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        out = self.mlp(h)
        return out if self.n_classes == 1 else out.view(-1, self.n_tasks, self.n_classes)


@HEADS.register("mve")
class MVEHead(nn.Module):
    """Mean-variance estimation for regression: a mean and a variance ``softplus(.) + eps``
    per task (train with the Gaussian negative log-likelihood).

    Shapes:
        h: ``B x in_dim``; returns ``B x n_tasks x 2``: ``[..., 0]`` mean, ``[..., 1]`` variance.
    """

    def __init__(
        self,
        in_dim: int,
        n_tasks: int,
        n_classes: int = 1,
        hidden: int = 300,
        layers: int = 1,
        dropout: float = 0.0,
        eps: float = 1e-6,
    ):
        super().__init__()
        if n_classes != 1:
            raise ValueError(f"the mve head is for regression; got n_classes={n_classes}")
        self.n_tasks, self.eps = n_tasks, eps
        self.mlp = mlp(in_dim, 2 * n_tasks, hidden, layers, dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        mean, raw = self.mlp(h).view(-1, self.n_tasks, 2).unbind(-1)
        return torch.stack([mean, F.softplus(raw) + self.eps], dim=-1)
