"""Public entry points: :func:`aggregate` and :func:`dmpnn_message_update`.

Each validates its inputs, looks up the cached CSR of the graph and dispatches to the fused
Triton kernels (:mod:`biomodels.kernels.triton_ops`) or the PyTorch path
(:mod:`biomodels.kernels.torch_ops`); while a graph exporter traces, to the plain scatter forms
of :mod:`biomodels.kernels.scatter`. Triton is imported only when a Triton backend is chosen.
"""

from __future__ import annotations

import importlib.util
import math
from types import ModuleType

import torch
from torch import Tensor

from biomodels.exceptions import BiomodelsError, UnknownNameError
from biomodels.kernels import scatter, torch_ops
from biomodels.kernels.autograd import DmpnnUpdate, SegmentMax, SegmentSum
from biomodels.kernels.csr import get_csr, get_dmpnn_plan

#: Whether the optional dependency Triton is installed (checked without importing it).
WITH_TRITON = importlib.util.find_spec("triton") is not None

REDUCES = ("sum", "mean", "max")
BACKENDS = ("auto", "triton", "torch")


class KernelUnavailableError(BiomodelsError, RuntimeError):
    """The requested kernel backend cannot run here; says why and what to do instead."""


def resolve_backend(backend: str, device: torch.device, reduce: str | None = None,
                    dtype: torch.dtype | None = None) -> str:  # fmt: skip
    """The backend that runs for tensors on ``device``: ``"triton"`` or ``"torch"``.

    ``"auto"`` picks Triton for CUDA tensors when Triton is installed, PyTorch otherwise, with
    one exception measured on an H200: an fp32 sum or mean (``reduce``, ``dtype`` given) runs
    faster through PyTorch's CSR product (cuSPARSE) than through the Triton sum, forward and
    backward (0.27 against 0.45 ms on 16,384 HIV molecules at 128 features), so it takes that.

    Raises:
        UnknownNameError: ``backend`` is not one of :data:`BACKENDS`.
        KernelUnavailableError: ``"triton"`` was asked for but Triton is not installed, or the
            tensors are on the CPU and Triton's interpreter is off.
    """
    if backend not in BACKENDS:
        raise UnknownNameError("backend", backend, list(BACKENDS))
    if backend == "auto":
        if device.type != "cuda" or not WITH_TRITON:
            return "torch"
        return "torch" if reduce in ("sum", "mean") and dtype == torch.float32 else "triton"
    if backend == "triton":
        if not WITH_TRITON:
            raise KernelUnavailableError(
                "backend='triton' needs the optional dependency triton "
                "(pip install 'biomodels[gpu]'); use backend='torch' or 'auto'"
            )
        if device.type != "cuda" and not _triton_ops().INTERPRETED:
            raise KernelUnavailableError(
                f"backend='triton' got tensors on {device}, but Triton compiles for GPUs: move "
                "them to CUDA, use backend='torch', or set TRITON_INTERPRET=1 before triton is "
                "imported to run the kernels in Triton's CPU interpreter"
            )
    return backend


def _triton_ops() -> ModuleType:
    from biomodels.kernels import triton_ops

    return triton_ops


def _rows(x: Tensor, num_nodes: int, name: str) -> Tensor:
    """``x`` as a 2-D tensor with a contiguous last dimension."""
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor; got {x.dtype}")
    if x.dim() == 0 or x.size(0) != num_nodes:
        raise ValueError(f"{name} must have {num_nodes} rows (shape ({num_nodes}, *)); got {tuple(x.shape)}")
    flat = x if x.dim() == 2 else x.reshape(num_nodes, math.prod(x.shape[1:]))
    return flat if flat.stride(-1) == 1 else flat.contiguous()


def _needs_grad(*tensors: Tensor | None) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _check_device(name: str, tensor: Tensor, device: torch.device) -> None:
    if tensor.device != device:
        raise ValueError(f"{name} is on {tensor.device} but the features are on {device}")


def aggregate(
    x: Tensor,
    edge_index: Tensor,
    num_nodes: int,
    reduce: str = "sum",
    edge_weight: Tensor | None = None,
    backend: str = "auto",
) -> Tensor:
    """Aggregate neighbour features at each target node: ``y[i] = reduce_{e: dst_e = i} w_e x[src_e]``.

    Messages flow from source (row 0 of ``edge_index``) to target (row 1), as in PyG. The gather
    and the reduction run as one fused pass over a CSR of the graph that is built once per
    ``edge_index`` tensor and cached (see :mod:`biomodels.kernels.csr`), so repeated layers on
    one batch share it. Sums accumulate in fp32 for fp32, bf16 and fp16 inputs (fp64 for fp64);
    the Triton kernels also weight in fp32, while the PyTorch path on CPU weights half-precision
    inputs in their own dtype, as PyG does. A node without in-edges gets 0 for every reduce.
    Differentiable in ``x`` and ``edge_weight``; the max gradient goes to one winner per output
    (the first edge in CSR order on ties) with the Triton backend, and is shared between tied
    inputs with PyTorch's.

    Args:
        x: Node features.
        edge_index: Source node ids in row 0, target node ids in row 1; any order, duplicates
            allowed.
        num_nodes: Number of nodes ``N``.
        reduce: ``"sum"``, ``"mean"`` or ``"max"``.
        edge_weight: Optional weight of each edge (e.g. GCN normalisation); mean divides the
            weighted sum by the in-degree.
        backend: ``"auto"`` (see :func:`resolve_backend`), ``"triton"`` or ``"torch"``.

    Returns:
        Aggregated features, same dtype as ``x``.

    Raises:
        UnknownNameError: Unknown ``reduce`` or ``backend``.
        KernelUnavailableError: ``backend="triton"`` cannot run here.
        ValueError: Shapes, dtypes or devices do not match, or node ids are out of range.

    Shapes:
        - x: ``(N, *)``, floating point
        - edge_index: ``(2, E)`` int32 or int64
        - edge_weight: ``(E,)``
        - output: ``(N, *)``
    """
    if reduce not in REDUCES:
        raise UnknownNameError("reduce", reduce, list(REDUCES))
    if scatter.exporting():  # an exporter traces plain gathers and scatters, not the CSR kernels
        return scatter.aggregate(x, edge_index, num_nodes, reduce, edge_weight)
    name = resolve_backend(backend, x.device, reduce, x.dtype)
    flat = _rows(x, num_nodes, "x")
    _check_device("edge_index", edge_index, x.device)
    if edge_weight is not None:
        _check_device("edge_weight", edge_weight, x.device)
        if edge_weight.shape != (edge_index.size(-1),) or not edge_weight.is_floating_point():
            raise ValueError(
                f"edge_weight must be a floating-point tensor of shape ({edge_index.size(-1)},); "
                f"got {edge_weight.dtype} of shape {tuple(edge_weight.shape)}"
            )
    csr = get_csr(edge_index, num_nodes)
    impl = _triton_ops() if name == "triton" else torch_ops
    if reduce == "max" and name == "torch":
        values = None if edge_weight is None else csr.to_csr_order(edge_weight)
        out = torch_ops.aggregate_max(csr, flat, values)
    elif _needs_grad(flat, edge_weight):
        if reduce == "max":
            out = SegmentMax.apply(flat, edge_weight, csr, impl)
        else:
            out = SegmentSum.apply(flat, edge_weight, csr, reduce == "mean", impl)
    else:  # skip autograd's bookkeeping (a few microseconds that matter on small batches)
        values = None if edge_weight is None else csr.to_csr_order(edge_weight)
        if reduce == "max":
            out, _ = impl.gather_max(csr, flat, values)
        else:
            out = impl.gather_reduce(csr, flat, values, reduce)
    return out if x.dim() == 2 else out.view(x.shape)


def dmpnn_message_update(
    messages: Tensor,
    edge_index: Tensor,
    rev_edge_index: Tensor,
    num_nodes: int,
    backend: str = "auto",
) -> Tensor:
    """The message part of a D-MPNN step: ``out[e] = s[u] - m[rev(e)]`` for ``e = (u -> v)``.

    ``s[u] = sum_{e': dst_e' = u} m[e']`` is the sum of the messages into ``u``; subtracting the
    reverse edge's message keeps a message from flowing straight back. A D-MPNN layer is then
    ``m' = act(h0 + W(out))`` in torch. With Triton the node sums stay in registers: one pass
    reads each message twice and writes ``out`` once. Differentiable in ``messages``.

    Args:
        messages: Message of each directed edge.
        edge_index: Source node ids in row 0, target node ids in row 1.
        rev_edge_index: Id of each edge's reverse edge (``(v, u)`` for ``(u, v)``); validated
            once per graph and cached with it.
        num_nodes: Number of nodes.
        backend: ``"auto"``, ``"triton"`` or ``"torch"``, as for :func:`aggregate`.

    Returns:
        The updated messages before ``W`` and the activation, same dtype as ``messages``.

    Raises:
        UnknownNameError: Unknown ``backend``.
        KernelUnavailableError: ``backend="triton"`` cannot run here.
        ValueError: Shapes or devices do not match, or ``rev_edge_index`` does not pair each
            edge with its reverse.

    Shapes:
        - messages: ``(E, *)``, floating point
        - edge_index: ``(2, E)``; rev_edge_index: ``(E,)``
        - output: ``(E, *)``
    """
    if scatter.exporting():
        return scatter.dmpnn_update(messages, edge_index, rev_edge_index, num_nodes)
    name = resolve_backend(backend, messages.device)
    _check_device("edge_index", edge_index, messages.device)
    _check_device("rev_edge_index", rev_edge_index, messages.device)
    plan = get_dmpnn_plan(edge_index, rev_edge_index, num_nodes)
    flat = _rows(messages, plan.csr.num_edges, "messages")
    impl = _triton_ops() if name == "triton" else torch_ops
    out = DmpnnUpdate.apply(flat, plan, impl)
    return out if messages.dim() == 2 else out.view(messages.shape)
