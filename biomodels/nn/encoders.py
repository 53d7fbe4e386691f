"""Graph encoders: a batch of molecular graphs -> node (or graph) embeddings.

All encoders take ``(atom_dim, bond_dim, hidden=300, depth=3, dropout=0.0, **options)`` and are
registered by name in :data:`ENCODERS`. An encoder with ``graph_level = False`` returns node
embeddings and a readout (:mod:`biomodels.nn.readout`) pools them; ``graph_level = True``
encoders (AttentiveFP) pool themselves and return graph embeddings.

Batches are those of :func:`biomodels.data.graphs.collate_graphs`: ``x``, ``edge_index``,
``edge_attr``, ``rev_edge_index``, ``batch``, ``num_graphs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from biomodels.nn.aggregation import dmpnn_message, segment_sum
from biomodels.nn.conv import GATv2Conv, GCNConv, GINEConv, add_self_loops, gcn_norm
from biomodels.registry import Registry

if TYPE_CHECKING:
    from biomodels.data.graphs import MoleculeBatch as Batch

ENCODERS: Registry[type[Encoder]] = Registry("encoder")


class Encoder(nn.Module):
    """Base class: ``forward(batch)`` -> ``N x out_dim`` node embeddings, or ``B x out_dim``
    graph embeddings when ``graph_level`` is true."""

    graph_level: ClassVar[bool] = False

    def __init__(self, hidden: int, depth: int):
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self.out_dim = hidden


@ENCODERS.register("dmpnn")
class DMPNNEncoder(Encoder):
    """Directed message passing on bonds, as chemprop v2's ``BondMessagePassing``.

    ``h0_e = W_i [x_src(e) || e_e]``, ``m_e = relu(h0_e)``; then ``depth - 1`` times
    ``m_e = dropout(relu(h0_e + W_h (sum_{e' -> src(e)} m_e' - m_rev(e))))``; finally
    ``h_v = dropout(relu(W_o [x_v || sum_{e -> v} m_e]))``. An atom without bonds gets
    ``relu(W_o [x_v || 0])``. ``W_i`` and ``W_h`` have no bias unless ``bias=True``, as in chemprop.

    Shapes:
        batch.x: ``N x atom_dim``; batch.edge_attr: ``E x bond_dim``; batch.rev_edge_index: ``E``;
        returns ``N x hidden``.
    """

    def __init__(
        self,
        atom_dim: int,
        bond_dim: int,
        hidden: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        bias: bool = False,
    ):
        super().__init__(hidden, depth)
        self.depth = depth
        self.W_i = nn.Linear(atom_dim + bond_dim, hidden, bias=bias)
        self.W_h = nn.Linear(hidden, hidden, bias=bias)
        self.W_o = nn.Linear(atom_dim + hidden, hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        x, (src, dst), rev = batch.x, batch.edge_index, batch.rev_edge_index
        n = x.shape[0]
        h0 = self.W_i(torch.cat([x[src], batch.edge_attr], dim=1))
        m = F.relu(h0)
        for _ in range(1, self.depth):
            m = self.dropout(F.relu(h0 + self.W_h(dmpnn_message(m, batch.edge_index, rev, n))))
        node_messages = segment_sum(m, dst, n)
        return self.dropout(F.relu(self.W_o(torch.cat([x, node_messages], dim=1))))


class StackedEncoder(Encoder):
    """Atom embedding then ``depth`` convolutions, each ``h = h + dropout(relu(norm(conv(h))))``.

    Subclasses override two hooks: :meth:`init_conv` builds one layer and :meth:`graph_inputs`
    prepares what every layer receives after ``h``.

    Args:
        batch_norm: batch-normalise each layer's output.
        residual: add each layer's input to its output.

    Shapes:
        batch.x: ``N x atom_dim``; returns ``N x hidden``.
    """

    def __init__(
        self,
        atom_dim: int,
        bond_dim: int,
        hidden: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        batch_norm: bool = False,
        residual: bool = True,
    ):
        super().__init__(hidden, depth)
        self.residual = residual
        self.embed = nn.Linear(atom_dim, hidden)
        self.convs = nn.ModuleList(self.init_conv(hidden, bond_dim) for _ in range(depth))
        self.norms = nn.ModuleList(
            nn.BatchNorm1d(hidden) if batch_norm else nn.Identity() for _ in range(depth)
        )
        self.dropout = nn.Dropout(dropout)

    def init_conv(self, hidden: int, bond_dim: int) -> nn.Module:
        raise NotImplementedError

    def graph_inputs(self, batch: Batch) -> tuple[torch.Tensor, ...]:
        return batch.edge_index, batch.edge_attr

    def forward(self, batch: Batch) -> torch.Tensor:
        inputs = self.graph_inputs(batch)
        h = self.embed(batch.x)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            out = self.dropout(F.relu(norm(conv(h, *inputs))))
            h = h + out if self.residual else out
        return h


@ENCODERS.register("gin")
class GINEncoder(StackedEncoder):
    """Stacked :class:`~biomodels.nn.conv.GINEConv` layers (bond features used)."""

    def init_conv(self, hidden: int, bond_dim: int) -> nn.Module:
        return GINEConv(hidden, bond_dim)


@ENCODERS.register("gcn")
class GCNEncoder(StackedEncoder):
    """Stacked :class:`~biomodels.nn.conv.GCNConv` layers. GCN has no edge features:
    ``bond_dim`` is accepted for a uniform constructor and ignored."""

    def init_conv(self, hidden: int, bond_dim: int) -> nn.Module:
        return GCNConv(hidden)

    def graph_inputs(self, batch: Batch) -> tuple[torch.Tensor, ...]:
        return gcn_norm(batch.edge_index, batch.x.shape[0])


@ENCODERS.register("gat")
class GATEncoder(StackedEncoder):
    """Stacked :class:`~biomodels.nn.conv.GATv2Conv` layers with ``heads`` attention heads;
    self-loops (with the mean of a node's incoming bond features) are added once per batch."""

    def __init__(
        self,
        atom_dim: int,
        bond_dim: int,
        hidden: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        batch_norm: bool = False,
        residual: bool = True,
        heads: int = 4,
    ):
        self.heads = heads
        super().__init__(atom_dim, bond_dim, hidden, depth, dropout, batch_norm, residual)

    def init_conv(self, hidden: int, bond_dim: int) -> nn.Module:
        return GATv2Conv(hidden, bond_dim, heads=self.heads)

    def graph_inputs(self, batch: Batch) -> tuple[torch.Tensor, ...]:
        return add_self_loops(batch.edge_index, batch.edge_attr, batch.x.shape[0])


@ENCODERS.register("attentivefp")
class AttentiveFPEncoder(Encoder):
    """AttentiveFP (Xiong et al., 2020), PyG's implementation: a graph-level encoder.

    It carries its own attention readout (``timesteps`` GRU steps over a virtual super-node),
    so it returns graph embeddings and the model skips its readout. The one exception to
    "message passing goes through :func:`biomodels.nn.aggregation.aggregate`": PyG's layers
    aggregate with their own scatter.

    Shapes:
        batch.x: ``N x atom_dim``; batch.edge_attr: ``E x bond_dim``; returns ``B x hidden``.
    """

    graph_level = True

    def __init__(
        self,
        atom_dim: int,
        bond_dim: int,
        hidden: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        timesteps: int = 2,
    ):
        from torch_geometric.nn.models import AttentiveFP

        super().__init__(hidden, depth)
        self.net = AttentiveFP(
            atom_dim, hidden, hidden, bond_dim, num_layers=depth, num_timesteps=timesteps, dropout=dropout
        )

    def forward(self, batch: Batch) -> torch.Tensor:
        out = self.net(batch.x, batch.edge_index, batch.edge_attr, batch.batch)
        # PyG pools over batch.max() + 1 graphs; pad if trailing graphs have no atoms.
        return F.pad(out, (0, 0, 0, batch.num_graphs - out.shape[0]))
