"""The one place where message passing in :mod:`biomodels.nn` reduces over edges.

* :func:`aggregate`: node -> node, ``y[i] = reduce_{e: dst_e = i} w_e x[src_e]`` (GCN, GAT).
* :func:`dmpnn_message`: the D-MPNN edge update ``s[src_e] - m[rev_e]``.
* :func:`segment_sum`: rows -> segments, for per-edge messages (GINE, D-MPNN) and readouts.

The first two dispatch to the fused kernels of :mod:`biomodels.kernels` when that package
provides them, else to the PyTorch code here; swapping the kernel changes every layer.
"""

from __future__ import annotations

import logging

import torch

from biomodels.exceptions import UnknownNameError

logger = logging.getLogger(__name__)

try:
    from biomodels.kernels import aggregate as _kernel_aggregate
    from biomodels.kernels import dmpnn_message_update as _kernel_dmpnn_message
except ImportError:  # kernels not built or not installed: the PyTorch code below is exact
    _kernel_aggregate = _kernel_dmpnn_message = None
    logger.debug("biomodels.kernels unavailable; message passing uses the PyTorch fallback")

REDUCTIONS = ("sum", "mean", "max")


def torch_aggregate(
    x: torch.Tensor,
    edge_index: torch.Tensor,
    num_nodes: int,
    reduce: str = "sum",
    edge_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """PyTorch reference of :func:`aggregate` (same arguments, same result)."""
    if reduce not in REDUCTIONS:
        raise UnknownNameError("reduce", reduce, list(REDUCTIONS))
    src, dst = edge_index[0], edge_index[1]
    messages = x[src]
    if edge_weight is not None:
        messages = messages * edge_weight[:, None]
    out = x.new_zeros(num_nodes, x.shape[1])
    if reduce == "max":
        index = dst[:, None].expand_as(messages)
        return out.scatter_reduce(0, index, messages, reduce="amax", include_self=False)
    out = out.index_add(0, dst, messages)
    if reduce == "mean":
        out = out / torch.bincount(dst, minlength=num_nodes).clamp_(min=1).to(x.dtype)[:, None]
    return out


def aggregate(
    x: torch.Tensor,
    edge_index: torch.Tensor,
    num_nodes: int,
    reduce: str = "sum",
    edge_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Gather source-node rows along edges and reduce them into the target nodes.

    Args:
        x: node features.
        edge_index: source node (row 0) and target node (row 1) of each edge.
        num_nodes: number of nodes ``N``.
        reduce: ``"sum"``, ``"mean"`` (weighted sum / in-degree) or ``"max"``.
        edge_weight: optional per-edge scale of each gathered row.

    Shapes:
        x: ``N x D``; edge_index: ``2 x E`` long; edge_weight: ``E``; returns ``N x D``, 0 for
        nodes without in-edges.
    """
    if _kernel_aggregate is not None:
        return _kernel_aggregate(x, edge_index, num_nodes, reduce=reduce, edge_weight=edge_weight)
    return torch_aggregate(x, edge_index, num_nodes, reduce, edge_weight)


def dmpnn_message(
    messages: torch.Tensor,
    edge_index: torch.Tensor,
    rev_edge_index: torch.Tensor,
    num_nodes: int,
) -> torch.Tensor:
    """D-MPNN edge update before the weights: ``out_e = sum_{e' -> src_e} m_e' - m_rev(e)``.

    The sum of the messages into an edge's source atom, minus the message of its reverse edge,
    so a message never flows straight back.

    Shapes:
        messages: ``E x D``; edge_index: ``2 x E``; rev_edge_index: ``E``; returns ``E x D``.
    """
    if _kernel_dmpnn_message is not None:
        return _kernel_dmpnn_message(messages, edge_index, rev_edge_index, num_nodes)
    into_source = segment_sum(messages, edge_index[1], num_nodes)[edge_index[0]]
    return into_source - messages[rev_edge_index]


def segment_sum(values: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Sum the rows of ``values`` that share a segment id (per-edge messages, graph readouts).

    Shapes:
        values: ``S x D``; index: ``S`` long in ``[0, num_segments)``; returns
        ``num_segments x D``, 0 for empty segments.
    """
    return values.new_zeros(num_segments, values.shape[1]).index_add(0, index, values)
