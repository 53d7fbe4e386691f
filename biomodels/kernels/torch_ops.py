"""PyTorch implementations of the kernels: the CPU path and the fallback without Triton.

Measured on CPU against PyG's ``index_select`` + ``scatter`` (benchmarks/message_passing.py):

* On CPU, sum and mean run as ``torch.nn.functional.embedding_bag`` over the cached CSR (each
  target node is one bag of source rows): one fused gather + reduce, no ``(E, F)`` gathered
  copy of ``x``, fp32 accumulation for fp16 / bf16 (FBGEMM). Several times faster than PyG's
  ``index_select`` + ``scatter`` and than MKL's sparse x dense product. As in PyG, edge weights
  multiply in the input dtype.
* On CUDA (the fallback without Triton), sum and mean run as one sparse-CSR x dense product
  (cuSPARSE) on the cached CSR, half-precision inputs upcast to fp32.
* Max gathers in target order and reduces with ``scatter_reduce_(include_self=False)``.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import Tensor

from biomodels.kernels.csr import CSR, DmpnnPlan


def _spend_beta_warning() -> None:
    """torch warns once per process that sparse CSR is in beta: spend it here, not mid-training."""
    index = torch.zeros(1, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        torch.sparse_csr_tensor(index, index[:0], torch.zeros(0), (0, 0), check_invariants=False)


_spend_beta_warning()


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 for float64 inputs, float32 for everything else."""
    return torch.float64 if dtype == torch.float64 else torch.float32


class _Pattern:
    """The sparsity pattern of a CSR in canonical form (columns sorted, no duplicates).

    Duplicate edges become one entry whose value is the sum of theirs; ``inverse`` maps each
    CSR position to its entry, or is ``None`` when the CSR is canonical already.

    Shapes:
        - rowptr: ``(N + 1,)``, col: ``(nnz,)``, same integer dtype; inverse: ``(E,)``
    """

    def __init__(self, csr: CSR, col: Tensor, num_cols: int):
        dtype = torch.int32 if max(csr.num_edges, num_cols) < 2**31 else torch.int64
        keys = csr.rows() * num_cols + col.long()
        self.inverse: Tensor | None = None
        if keys.numel() > 1 and not bool((keys[1:] > keys[:-1]).all()):
            keys, self.inverse = torch.unique(keys, sorted=True, return_inverse=True)
        rows, cols = keys.div(num_cols, rounding_mode="floor"), keys.remainder(num_cols)
        rowptr = torch.zeros(csr.num_nodes + 1, dtype=torch.long, device=csr.device)
        rowptr[1:] = torch.bincount(rows, minlength=csr.num_nodes).cumsum(0)
        self.rowptr, self.col = rowptr.to(dtype), cols.to(dtype)
        self.shape = (csr.num_nodes, num_cols)
        self.nnz = keys.numel()

    def entries(self, values: Tensor) -> Tensor:
        """Per-position values to per-entry values (duplicates summed)."""
        if self.inverse is None:
            return values
        return values.new_zeros(self.nnz).index_add_(0, self.inverse, values)

    def matrix(self, values: Tensor) -> Tensor:
        """Sparse CSR matrix with per-entry ``values``."""
        return torch.sparse_csr_tensor(self.rowptr, self.col, values, self.shape, check_invariants=False)


def _pattern(csr: CSR, col: Tensor, num_cols: int) -> _Pattern:
    key = ("pattern", col is csr.col_long(), num_cols)
    return csr.derived(key, lambda: _Pattern(csr, col, num_cols))


def _values(csr: CSR, values: Tensor | None, mean: bool, dtype: torch.dtype) -> Tensor:
    """Per-position weights in ``dtype``, with mean's ``1 / degree`` folded in."""
    if values is None:
        if mean:
            return csr.inv_degree(dtype)
        return csr.derived(("ones", dtype), lambda: torch.ones(csr.num_edges, dtype=dtype, device=csr.device))
    values = values.to(dtype)
    return values * csr.inv_degree(dtype) if mean else values


def gather_reduce(
    csr: CSR, x: Tensor, values: Tensor | None, reduce: str, col: Tensor | None = None
) -> Tensor:
    """``y[i] = reduce_{k in row i} values[k] * x[col[k]]`` for ``reduce`` in sum/mean.

    Args:
        csr: Rows to reduce into.
        x: Rows to gather.
        values: Per-position weights in CSR order, or ``None`` for ones.
        reduce: ``"sum"`` or ``"mean"``; a row without edges gets 0.
        col: Gathered row of each position; ``csr.col`` when ``None``.

    Shapes:
        - x: ``(M, F)``; returns ``(N, F)`` in ``x``'s dtype
        - values: ``(E,)``
    """
    col = csr.col_long() if col is None else col
    out = _reduce(csr, col, x, values, reduce == "mean")
    return out if out.dtype == x.dtype else out.to(x.dtype)


def _reduce(csr: CSR, col: Tensor, x: Tensor, values: Tensor | None, mean: bool) -> Tensor:
    """The weighted row sums (means), in ``x``'s dtype or the accumulation dtype."""
    if not x.is_cuda:
        return _embedding_bag_reduce(csr, col, x, values, mean)
    acc = accumulation_dtype(x.dtype)
    pattern = _pattern(csr, col, x.size(0))
    if values is None:
        matrix = csr.derived(
            ("matrix", col is csr.col_long(), x.size(0), mean, acc),
            lambda: pattern.matrix(pattern.entries(_values(csr, None, mean, acc))),
        )
    else:
        matrix = pattern.matrix(pattern.entries(_values(csr, values, mean, acc)))
    return torch.sparse.mm(matrix, x.to(acc))


def _embedding_bag_reduce(csr: CSR, col: Tensor, x: Tensor, values: Tensor | None, mean: bool) -> Tensor:
    """CPU: each row of the CSR is one bag of ``x`` rows, reduced by ``embedding_bag``.

    FBGEMM's embedding-bag kernels gather and reduce in one pass with fp32 accumulation for
    half-precision inputs; duplicate edges are simply repeated indices.
    """
    offsets = csr.derived(("bag_offsets",), lambda: csr.rowptr[:-1].contiguous())
    if values is None:
        return F.embedding_bag(col, x, offsets, mode="mean" if mean else "sum")
    out = F.embedding_bag(col, x, offsets, mode="sum", per_sample_weights=values.to(x.dtype))
    if not mean:
        return out
    # Dividing in x's dtype is what PyG does; bf16 rounds degrees above 256 (by < 0.4%).
    degree = csr.derived(("degree", x.dtype), lambda: csr.degree().clamp(min=1).to(x.dtype))
    return out.div_(degree.unsqueeze(1))


def edge_dot(csr: CSR, a: Tensor, b: Tensor) -> Tensor:
    """``out[k] = <a[row_k], b[col_k]>`` for every position ``k`` (sampled dense-dense product).

    Shapes:
        - a: ``(N, F)``, b: ``(N, F)``; returns ``(E,)`` in the accumulation dtype
    """
    acc = accumulation_dtype(a.dtype)
    pattern = _pattern(csr, csr.col_long(), b.size(0))
    ones = pattern.matrix(torch.ones(pattern.nnz, dtype=acc, device=a.device))
    dots = torch.sparse.sampled_addmm(ones, a.to(acc), b.to(acc).t(), beta=0.0).values()
    return dots if pattern.inverse is None else dots.index_select(0, pattern.inverse)


def aggregate_max(csr: CSR, x: Tensor, values: Tensor | None) -> Tensor:
    """Max over each row of ``values[k] * x[col[k]]``, 0 for rows without edges.

    Differentiable through torch's autograd (ties share the gradient equally).

    Shapes:
        - x: ``(N, F)``, values: ``(E,)`` in CSR order; returns ``(N, F)``
    """
    gathered = x.index_select(0, csr.col_long())
    if values is not None:
        # Weighted products in the accumulation dtype: rounding them to half precision first
        # would create ties (and split gradients) that the exact products do not have.
        acc = accumulation_dtype(x.dtype)
        gathered = gathered.to(acc) * values.to(acc).unsqueeze(1)
    index = csr.rows().unsqueeze(1).expand_as(gathered)
    out = gathered.new_zeros(csr.num_nodes, x.size(1))
    return out.scatter_reduce_(0, index, gathered, "amax", include_self=False).to(x.dtype)


def dmpnn_update(plan: DmpnnPlan, messages: Tensor, backward: bool) -> Tensor:
    """``out[e] = s[u] - m[rev[e]]`` for ``e = (u -> v)``, ``s[u]`` = sum of messages into ``u``.

    With ``backward=True`` the same map on reversed edges, which is the gradient of the forward
    map (``rev`` is an involution): ``out[e] = t[v] - m[rev[e]]``, ``t[v]`` = sum over edges
    out of ``v``.

    On CPU, when nodes have few edges (molecules), ``out[e]`` is one embedding bag: the messages
    into ``u`` other than ``rev[e]``. That reads each message about ``degree - 1`` times and
    writes ``out`` once, instead of materialising ``s[u]`` and ``m[rev]`` per edge.

    Shapes:
        - messages: ``(E, F)``; returns ``(E, F)``
    """
    if not messages.is_cuda:
        bags = plan.derived(("bags", backward), lambda: _dmpnn_bags(plan, backward))
        if bags is not None:
            return F.embedding_bag(bags[0], messages, bags[1], mode="sum")
    gather_csr, spread_csr = (plan.csr_t, plan.csr) if backward else (plan.csr, plan.csr_t)
    node_sum = _reduce(gather_csr, gather_csr.edge_ids(), messages, None, mean=False)
    reverse = messages.index_select(0, plan.rev).to(node_sum.dtype)
    return (node_sum.index_select(0, spread_csr.edge_rows()) - reverse).to(messages.dtype)


_MAX_BAG_GROWTH = 4  # bags hold at most this many message reads per edge; beyond, gather


def _dmpnn_bags(plan: DmpnnPlan, backward: bool) -> tuple[Tensor, Tensor] | None:
    """Indices and offsets of each edge's bag, or ``None`` when bags would be too large.

    Edge ``e`` leaving node ``u`` gets the edges that the update sums at ``u`` (``u``'s row of
    the gathering CSR), minus ``rev[e]``.
    """
    gather_csr, spread_csr = (plan.csr_t, plan.csr) if backward else (plan.csr, plan.csr_t)
    num_edges = gather_csr.num_edges
    rows = spread_csr.edge_rows()
    sizes = gather_csr.degree().index_select(0, rows)
    total = int(sizes.sum())
    if total > _MAX_BAG_GROWTH * max(num_edges, 1):
        return None
    owner = torch.repeat_interleave(torch.arange(num_edges, device=rows.device), sizes, output_size=total)
    firsts = torch.cumsum(sizes, 0) - sizes
    offset_in_row = torch.arange(total, device=rows.device) - firsts.index_select(0, owner)
    positions = gather_csr.rowptr.index_select(0, rows).index_select(0, owner) + offset_in_row
    candidates = gather_csr.edge_ids().index_select(0, positions)
    keep = candidates != plan.rev.index_select(0, owner)
    if int(keep.sum()) != total - num_edges:  # some bag lacks its reverse edge: no shortcut
        return None
    return candidates[keep], firsts - torch.arange(num_edges, device=rows.device)
