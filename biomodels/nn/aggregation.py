"""The one place where message passing in :mod:`biomodels.nn` reduces over edges.

* :func:`aggregate`: node -> node, ``y[i] = reduce_{e: dst_e = i} w_e x[src_e]`` (GCN, GAT).
* :func:`dmpnn_message`: the D-MPNN edge update ``s[src_e] - m[rev_e]``.
* :func:`segment_sum`: rows -> segments, for per-edge messages (GINE, D-MPNN) and readouts;
  :func:`segment_count` and :func:`segment_softmax` (attention) beside it.

The first two are the fused kernels of :mod:`biomodels.kernels` (Triton on CUDA, PyTorch's
``embedding_bag``/``index_add`` on CPU); swapping the kernel changes every layer. The segment
functions are the plain scatters of :mod:`biomodels.kernels.scatter`, which ONNX export traces.
"""

from __future__ import annotations

import torch

from biomodels.kernels import aggregate as kernel_aggregate
from biomodels.kernels import dmpnn_message_update, scatter


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
    return kernel_aggregate(x, edge_index, num_nodes, reduce=reduce, edge_weight=edge_weight)


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
    return dmpnn_message_update(messages, edge_index, rev_edge_index, num_nodes)


def segment_sum(values: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Sum the rows of ``values`` that share a segment id (per-edge messages, graph readouts).

    Shapes:
        values: ``S x D``; index: ``S`` long in ``[0, num_segments)``; returns
        ``num_segments x D``, 0 for empty segments.
    """
    return scatter.segment_sum(values, index, num_segments)


def segment_count(index: torch.Tensor, num_segments: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Rows per segment (in-degrees, atoms per molecule) as ``dtype``.

    Shapes:
        index: ``S`` long in ``[0, num_segments)``; returns ``num_segments``.
    """
    return scatter.segment_count(index, num_segments, dtype)


def segment_softmax(scores: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Softmax over the rows of each segment (attention over a node's in-edges, a graph's atoms).

    Shapes:
        scores: ``S x *``; index: ``S`` long; returns ``S x *``, summing to 1 per segment.
    """
    return scatter.segment_softmax(scores, index, num_segments)
