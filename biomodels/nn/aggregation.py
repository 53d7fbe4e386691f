"""The one aggregation that all message passing in :mod:`biomodels.nn` goes through.

``aggregate`` gathers ``x[src]``, optionally scales it by an edge weight, and reduces into the
target nodes. It dispatches to the fused kernels of :mod:`biomodels.kernels` when that package
provides ``aggregate``, else to :func:`torch_aggregate`: replacing the kernel changes every layer.
"""

from __future__ import annotations

import logging

import torch

logger = logging.getLogger(__name__)

try:
    from biomodels.kernels import aggregate as _kernel_aggregate
except ImportError:  # kernels not built or not installed: the torch fallback is exact
    _kernel_aggregate = None
    logger.debug("biomodels.kernels.aggregate unavailable; using the torch fallback")

REDUCTIONS = ("sum", "mean", "max")


def torch_aggregate(
    x: torch.Tensor,
    edge_index: torch.Tensor,
    num_nodes: int,
    reduce: str = "sum",
    edge_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pure-torch reference of :func:`aggregate` (same arguments, same result).

    ``y[i] = reduce_{e: target(e) = i} w_e * x[source(e)]``; rows with no in-edges are 0.
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"unknown reduce {reduce!r}; choose one of: {', '.join(REDUCTIONS)}")
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
    """Gather source rows along edges and reduce them into the target nodes.

    Args:
        x: source rows (node or edge states).
        edge_index: ``(source row of x, target node)`` per edge.
        num_nodes: number of output rows.
        reduce: ``"sum"``, ``"mean"`` or ``"max"``.
        edge_weight: optional per-edge scale applied to each gathered row.

    Shapes:
        x: ``S x D``; edge_index: ``2 x E`` long; edge_weight: ``E``; returns ``num_nodes x D``.
    """
    if _kernel_aggregate is not None:
        return _kernel_aggregate(x, edge_index, num_nodes, reduce=reduce, edge_weight=edge_weight)
    return torch_aggregate(x, edge_index, num_nodes, reduce, edge_weight)


def segment_sum(values: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Sum the rows of ``values`` that share a segment id (per-edge messages, graph readouts).

    Goes through :func:`aggregate` with an identity gather, so the kernel covers it too.

    Shapes:
        values: ``S x D``; index: ``S`` long in ``[0, num_segments)``; returns
        ``num_segments x D`` (0 for empty segments).
    """
    rows = torch.arange(values.shape[0], device=values.device)
    return aggregate(values, torch.stack([rows, index]), num_segments, "sum")
