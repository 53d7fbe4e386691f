"""Plain scatter forms of the kernels, for graph exporters (ONNX) rather than for speed.

The fused kernels keep a CSR cache keyed on tensor identity, run ``embedding_bag`` and custom
autograd functions: nothing an exporter can trace into a graph with dynamic atom and bond
counts. While :func:`exporting` is true, :func:`biomodels.kernels.aggregate` and
:func:`biomodels.kernels.dmpnn_message_update` run these instead: ``index_select`` gathers and
``index_add`` / ``scatter_reduce`` reductions, which ``torch.onnx.export`` turns into ONNX
``Gather`` and ``ScatterND`` / ``ScatterElements``. Three exporter pitfalls are avoided here:

* ``scatter_reduce(..., include_self=False)`` (PyG's max and softmax): the reduction starts
  from the dtype's lowest value with ``include_self=True`` and empty segments are set to 0;
* mean scatter (``reduce="mean"``): a sum divided by a count made with ``index_add``;
* ``bincount`` (degrees, atoms per molecule), whose output size depends on the data:
  :func:`segment_count` is an ``index_add`` of ones into a given number of segments.

Every function gives the same numbers as the fused kernels (up to float summation order).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "aggregate",
    "dmpnn_update",
    "exporting",
    "segment_count",
    "segment_max",
    "segment_softmax",
    "segment_sum",
]


def exporting() -> bool:
    """Whether a graph exporter (``torch.export``, ``torch.onnx.export``) is tracing right now."""
    return bool(torch.compiler.is_exporting() or torch.onnx.is_in_onnx_export())


def segment_sum(values: Tensor, index: Tensor, num_segments: int) -> Tensor:
    """Rows of ``values`` summed by segment id.

    Shapes:
        values: ``S x *``; index: ``S`` long in ``[0, num_segments)``; returns
        ``num_segments x *``, 0 for empty segments.
    """
    return values.new_zeros((num_segments, *values.shape[1:])).index_add(0, index, values)


def segment_count(index: Tensor, num_segments: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Rows per segment, as ``dtype`` (``bincount`` with a fixed length, but traceable).

    Shapes:
        index: ``S`` long; returns ``num_segments``.
    """
    ones = torch.ones(index.shape[0], dtype=dtype, device=index.device)
    return torch.zeros(num_segments, dtype=dtype, device=index.device).index_add(0, index, ones)


def segment_max(values: Tensor, index: Tensor, num_segments: int) -> Tensor:
    """Row-wise maximum per segment, 0 for empty segments.

    Equal to ``scatter_reduce(..., "amax", include_self=False)`` without that flag, which
    exporters either reject or translate wrongly: the reduction starts from the lowest finite
    value of the dtype and includes it, and segments that got no row are zeroed.

    Shapes:
        values: ``S x *``; index: ``S`` long; returns ``num_segments x *``.
    """
    shape = (num_segments, *values.shape[1:])
    expanded = index.view(-1, *([1] * (values.dim() - 1))).expand_as(values)
    start = torch.full(shape, torch.finfo(values.dtype).min, dtype=values.dtype, device=values.device)
    out = start.scatter_reduce(0, expanded, values, "amax", include_self=True)
    filled = segment_count(index, num_segments, values.dtype).view(-1, *([1] * (values.dim() - 1))) > 0
    return torch.where(filled, out, torch.zeros_like(out))


def segment_softmax(scores: Tensor, index: Tensor, num_segments: int) -> Tensor:
    """Softmax of ``scores`` over the rows of each segment (PyG's ``utils.softmax``).

    Shapes:
        scores: ``S x *``; index: ``S`` long; returns ``S x *``, summing to 1 per segment and
        column.
    """
    shifted = (scores - segment_max(scores, index, num_segments).index_select(0, index)).exp()
    return shifted / (segment_sum(shifted, index, num_segments).index_select(0, index) + 1e-16)


def aggregate(
    x: Tensor, edge_index: Tensor, num_nodes: int, reduce: str, edge_weight: Tensor | None
) -> Tensor:
    """``y[i] = reduce_{e: dst_e = i} w_e x[src_e]`` as gather + scatter (see
    :func:`biomodels.kernels.aggregate` for the arguments; nodes without in-edges get 0).

    Shapes:
        x: ``N x F``; edge_index: ``2 x E``; edge_weight: ``E``; returns ``N x F``.
    """
    gathered = x.index_select(0, edge_index[0])
    if edge_weight is not None:
        gathered = gathered * edge_weight.to(x.dtype).unsqueeze(1)
    if reduce == "max":
        return segment_max(gathered, edge_index[1], num_nodes)
    out = segment_sum(gathered, edge_index[1], num_nodes)
    if reduce == "mean":
        out = out / segment_count(edge_index[1], num_nodes, x.dtype).clamp(min=1).unsqueeze(1)
    return out


def dmpnn_update(messages: Tensor, edge_index: Tensor, rev_edge_index: Tensor, num_nodes: int) -> Tensor:
    """``out[e] = sum_{e' -> src_e} m[e'] - m[rev_e]`` as gather + scatter.

    Shapes:
        messages: ``E x F``; edge_index: ``2 x E``; rev_edge_index: ``E``; returns ``E x F``.
    """
    node_sum = segment_sum(messages, edge_index[1], num_nodes)
    return node_sum.index_select(0, edge_index[0]) - messages.index_select(0, rev_edge_index)
