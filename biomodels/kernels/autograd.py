"""Autograd for the fused kernels.

* Sum / mean: the gradient of ``y = A x`` is ``A^T dy``, the same gather-reduce kernel run on the
  transposed CSR (cached on the graph); the edge-weight gradient is ``dw_e = <dy[dst_e],
  x[src_e]>`` (a sampled dense-dense product), divided by the target's degree for mean.
* Max: the gradient of each output goes to the input (and edge weight) that won, found through
  the argmax the kernel records.
* D-MPNN update: the map is linear and, because ``rev`` is an involution, its transpose is the
  same update on reversed edges.

``impl`` is :mod:`biomodels.kernels.torch_ops` or :mod:`biomodels.kernels.triton_ops`; both
offer ``gather_reduce``, ``edge_dot`` and ``dmpnn_update`` with the same meaning. First-order
gradients only.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from biomodels.kernels.csr import CSR, DmpnnPlan
from biomodels.kernels.torch_ops import accumulation_dtype


def _transposed_values(csr: CSR, values: Tensor | None, mean: bool, dtype: torch.dtype) -> Tensor | None:
    """Weights of the transposed CSR, in its position order, with mean's 1/degree folded in."""
    positions = csr.transpose_positions()
    acc = accumulation_dtype(dtype)
    if values is None:
        if not mean:
            return None
        return csr.derived(("inv_degree_t", acc), lambda: csr.inv_degree(acc).index_select(0, positions))
    scaled = values.to(acc)
    if mean:
        scaled = scaled * csr.inv_degree(acc)
    return scaled.index_select(0, positions)


class SegmentSum(torch.autograd.Function):
    """``y[i] = reduce_{e: dst_e = i} w_e x[src_e]`` for sum or mean (``mean=True``)."""

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        x: Tensor,
        edge_weight: Tensor | None,
        csr: CSR,
        mean: bool,
        impl: ModuleType,
    ) -> Tensor:
        values = None if edge_weight is None else csr.to_csr_order(edge_weight)
        ctx.csr, ctx.mean, ctx.impl = csr, mean, impl
        ctx.save_for_backward(x, values)
        return impl.gather_reduce(csr, x, values, "mean" if mean else "sum")

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        x, values = ctx.saved_tensors
        csr, mean, impl = ctx.csr, ctx.mean, ctx.impl
        grad_out = grad_out.contiguous()
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            weights_t = _transposed_values(csr, values, mean, x.dtype)
            grad_x = impl.gather_reduce(csr.transpose(), grad_out, weights_t, "sum")
        if ctx.needs_input_grad[1]:
            dots = impl.edge_dot(csr, grad_out, x)
            if mean:
                dots = dots * csr.inv_degree(dots.dtype)
            grad_w = csr.to_edge_order(dots).to(values.dtype)
        return grad_x, grad_w, None, None, None


class SegmentMax(torch.autograd.Function):
    """``y[i] = max_{e: dst_e = i} w_e x[src_e]`` through a kernel that records the argmax."""

    @staticmethod
    def forward(
        ctx: FunctionCtx, x: Tensor, edge_weight: Tensor | None, csr: CSR, impl: ModuleType
    ) -> Tensor:
        values = None if edge_weight is None else csr.to_csr_order(edge_weight)
        out, arg = impl.gather_max(csr, x, values)
        ctx.csr = csr
        ctx.mark_non_differentiable(arg)
        ctx.save_for_backward(x, values, arg)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        x, values, arg = ctx.saved_tensors
        csr: CSR = ctx.csr
        acc = accumulation_dtype(x.dtype)
        grad_x = grad_w = None
        if csr.num_edges == 0:
            if ctx.needs_input_grad[1]:
                grad_w = torch.zeros_like(values)
            return torch.zeros_like(x), grad_w, None, None
        position = arg.long().clamp(min=0)
        grad = torch.where(arg >= 0, grad_out.to(acc), 0.0)
        source = csr.col.long()[position]
        if ctx.needs_input_grad[0]:
            weighted = grad if values is None else grad * values.to(acc)[position]
            grad_x = torch.zeros(x.shape, dtype=acc, device=x.device)
            grad_x = grad_x.scatter_add_(0, source, weighted).to(x.dtype)
        if ctx.needs_input_grad[1]:
            won = grad * x.to(acc).gather(0, source)
            dots = torch.zeros(csr.num_edges, dtype=acc, device=x.device)
            dots.scatter_add_(0, position.flatten(), won.flatten())
            grad_w = csr.to_edge_order(dots).to(values.dtype)
        return grad_x, grad_w, None, None


class DmpnnUpdate(torch.autograd.Function):
    """``out[e] = s[src_e] - m[rev_e]`` with ``s[u]`` the sum of the messages into ``u``."""

    @staticmethod
    def forward(ctx: FunctionCtx, messages: Tensor, plan: DmpnnPlan, impl: ModuleType) -> Tensor:
        ctx.plan, ctx.impl = plan, impl
        return impl.dmpnn_update(plan, messages, backward=False)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        grad = ctx.impl.dmpnn_update(ctx.plan, grad_out.contiguous(), backward=True)
        return grad, None, None
