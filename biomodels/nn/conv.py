"""Message-passing convolutions. Every one reduces messages through :mod:`biomodels.nn.aggregation`.

Each layer maps hidden node states to new hidden node states of the same width; the encoders in
:mod:`biomodels.nn.encoders` stack them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from biomodels.nn.aggregation import aggregate, segment_count, segment_softmax, segment_sum


class GINEConv(nn.Module):
    """GIN with edge features (Hu et al., 2020).

    ``h'_i = MLP((1 + eps) h_i + sum_{j -> i} relu(h_j + W_e e_ji))``

    Shapes:
        h: ``N x dim``; edge_index: ``2 x E``; edge_attr: ``E x edge_dim``; returns ``N x dim``.
    """

    def __init__(self, dim: int, edge_dim: int):
        super().__init__()
        self.edge_lin = nn.Linear(edge_dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.eps = nn.Parameter(torch.zeros(1))

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        messages = F.relu(h[edge_index[0]] + self.edge_lin(edge_attr))
        return self.mlp((1 + self.eps) * h + segment_sum(messages, edge_index[1], h.shape[0]))


class GCNConv(nn.Module):
    """Graph convolution (Kipf & Welling, 2017): ``h' = sum_{j -> i} w_ji W h_j + b``.

    The weights ``w`` (symmetric normalisation, self-loops included) come from :func:`gcn_norm`.

    Shapes:
        h: ``N x dim``; edge_index: ``2 x E'``; edge_weight: ``E'``; returns ``N x dim``.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.lin = nn.Linear(dim, dim, bias=False)
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
        x = self.lin(h)
        return aggregate(x, edge_index, h.shape[0], "sum", edge_weight.to(x.dtype)) + self.bias


def gcn_norm(edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Add self-loops and the weights ``1 / sqrt(deg_i deg_j)`` (degrees counting the loop).

    Shapes:
        edge_index: ``2 x E``; returns edge_index ``2 x (E + N)`` and weights ``E + N``.
    """
    loops = torch.arange(num_nodes, device=edge_index.device)
    edge_index = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
    inv_sqrt = segment_count(edge_index[1], num_nodes).rsqrt()
    return edge_index, inv_sqrt[edge_index[0]] * inv_sqrt[edge_index[1]]


class GATv2Conv(nn.Module):
    """GATv2 attention with edge features (Brody et al., 2022), heads concatenated.

    ``a_ji = softmax_j(att . leaky_relu(W_s h_j + W_t h_i + W_e e_ji))``,
    ``h'_i = sum_{j -> i} a_ji W_s h_j + b``: one weighted :func:`aggregate` per head, the
    attention normalised by :func:`~biomodels.nn.aggregation.segment_softmax`. Add self-loops to
    the graph (:func:`add_self_loops`) so a node attends to itself.

    Shapes:
        h: ``N x dim``; edge_index: ``2 x E``; edge_attr: ``E x edge_dim``; returns ``N x dim``.
    """

    def __init__(self, dim: int, edge_dim: int, heads: int = 4, negative_slope: float = 0.2):
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden size {dim} is not divisible by heads={heads}")
        self.heads, self.negative_slope = heads, negative_slope
        self.lin_src = nn.Linear(dim, dim)
        self.lin_dst = nn.Linear(dim, dim)
        self.lin_edge = nn.Linear(edge_dim, dim, bias=False)
        self.att = nn.Parameter(torch.empty(heads, dim // heads))
        nn.init.xavier_uniform_(self.att)
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        src, dst = edge_index
        n, shape = h.shape[0], (-1, self.heads, h.shape[1] // self.heads)
        source = self.lin_src(h).view(shape)
        z = source[src] + self.lin_dst(h).view(shape)[dst] + self.lin_edge(edge_attr).view(shape)
        score = (F.leaky_relu(z, self.negative_slope) * self.att).sum(-1)
        alpha = segment_softmax(score, dst, n)
        heads = [aggregate(source[:, k], edge_index, n, "sum", alpha[:, k]) for k in range(self.heads)]
        return torch.cat(heads, dim=1) + self.bias


def add_self_loops(
    edge_index: torch.Tensor, edge_attr: torch.Tensor, num_nodes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Append a loop ``i -> i`` per node whose features are the mean of the node's in-edges'
    (0 without in-edges), as PyG's ``add_self_loops(fill_value="mean")``.

    Shapes:
        edge_index: ``2 x E``; edge_attr: ``E x edge_dim``; returns ``2 x (E + N)`` and
        ``(E + N) x edge_dim``.
    """
    loops = torch.arange(num_nodes, device=edge_index.device)
    dst = edge_index[1]
    count = segment_count(dst, num_nodes, edge_attr.dtype).clamp(min=1).unsqueeze(1)
    loop_attr = segment_sum(edge_attr, dst, num_nodes) / count
    return torch.cat([edge_index, torch.stack([loops, loops])], dim=1), torch.cat([edge_attr, loop_attr])
