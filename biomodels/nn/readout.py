"""Readouts: pool node embeddings into one embedding per graph, registered in :data:`READOUTS`.

Every readout is built as ``READOUTS.get(name)(dim)`` and called as
``readout(h, index, num_graphs)``.

Shapes:
    h: ``N x dim`` node embeddings; index: ``N`` long graph of each node; returns
    ``num_graphs x dim`` (zeros for a graph without nodes).
"""

from __future__ import annotations

import torch
from torch import nn

from biomodels.nn.aggregation import segment_count, segment_softmax, segment_sum
from biomodels.registry import Registry

READOUTS: Registry[type[nn.Module]] = Registry("readout")


@READOUTS.register("sum")
class SumReadout(nn.Module):
    """Sum of node embeddings (``dim`` is accepted for a uniform constructor)."""

    def __init__(self, dim: int):
        super().__init__()

    def forward(self, h: torch.Tensor, index: torch.Tensor, num_graphs: int) -> torch.Tensor:
        return segment_sum(h, index, num_graphs)


@READOUTS.register("mean")
class MeanReadout(nn.Module):
    """Mean of node embeddings (``dim`` is accepted for a uniform constructor)."""

    def __init__(self, dim: int):
        super().__init__()

    def forward(self, h: torch.Tensor, index: torch.Tensor, num_graphs: int) -> torch.Tensor:
        count = segment_count(index, num_graphs, h.dtype).clamp(min=1)
        return segment_sum(h, index, num_graphs) / count[:, None]


@READOUTS.register("norm")
class NormReadout(nn.Module):
    """Sum of node embeddings divided by a constant (chemprop v2's default, ``norm=100``): a size-aware
    pooling like ``sum`` whose scale stays near that of ``mean`` for drug-sized molecules."""

    def __init__(self, dim: int, norm: float = 100.0):
        super().__init__()
        self.norm = norm

    def forward(self, h: torch.Tensor, index: torch.Tensor, num_graphs: int) -> torch.Tensor:
        return segment_sum(h, index, num_graphs) / self.norm


@READOUTS.register("attention")
class AttentionReadout(nn.Module):
    """Gated attention pooling (Li et al., 2016): ``sum_i softmax_i(gate(h_i)) h_i`` per graph,
    with ``gate`` a two-layer MLP to one score."""

    def __init__(self, dim: int):
        super().__init__()
        self.gate = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, h: torch.Tensor, index: torch.Tensor, num_graphs: int) -> torch.Tensor:
        weight = segment_softmax(self.gate(h), index, num_graphs)
        return segment_sum(weight * h, index, num_graphs)
