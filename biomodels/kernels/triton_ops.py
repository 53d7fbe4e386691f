"""Triton kernels: fused gather + segment reduction over a CSR, and the fused D-MPNN update.

This module imports Triton at import time; :mod:`biomodels.kernels` imports it only when a
Triton backend is used. Under ``TRITON_INTERPRET=1`` (set before Triton is imported) the same
kernels run on CPU tensors through Triton's interpreter, with one small fixed block shape so that
tiny test graphs still cover multi-block loops.

Layout of the work:

* **Segment reduction** (:func:`gather_reduce`): one program per (row, block of ``BLOCK_F``
  features) walks the row's edges ``BLOCK_E`` at a time, gathers ``x[col]`` rows, multiplies by
  the edge weight and reduces in fp32 (fp64 for fp64 inputs). Each output row is written once, and
  no atomics are used, so results are deterministic. Max also records the CSR position of the
  maximum (first one on ties) for the backward pass.
* **Hubs**: rows longer than a chunk (:func:`chunk_size`: a power of two near
  ``sqrt(max_degree)``, at least 256 edges) are split into chunks reduced by separate programs
  into an fp32 scratch buffer, then a second launch of the same kernel reduces each hub's
  partials (a two-level reduction, still without atomics): a node with 100k in-edges costs 196
  programs of 512 edges plus one that reduces their 196 partials, not one program of 100k edges.
  The split plan is computed once per CSR.
* **D-MPNN** (:func:`dmpnn_update`): one program per node sums the messages into the node in
  registers and writes ``sum - m[rev[e]]`` straight to each of the node's out-edges, so the node
  sums never go to memory. Graphs with a node of degree above :data:`FUSED_MAX_DEGREE` use the
  split segment reduction for the node sums and an edge-parallel kernel for the update instead.

Block sizes are autotuned per feature width (and per reduction variant and degree bucket).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
import triton
import triton.language as tl
from torch import Tensor

from biomodels.kernels.csr import CSR, DmpnnPlan
from biomodels.kernels.torch_ops import accumulation_dtype

#: True when Triton runs kernels through its CPU interpreter (``TRITON_INTERPRET=1``).
INTERPRETED = bool(triton.knobs.runtime.interpret)

#: Rows with at most this many edges are never split (the smallest chunk).
MIN_CHUNK = 256
#: The fused D-MPNN kernel is used while no node has more in- or out-edges than this.
FUSED_MAX_DEGREE = 256

_SUM, _MEAN, _MAX = 0, 1, 2
_REDUCE_CODES = {"sum": _SUM, "mean": _MEAN, "max": _MAX}
_INTERPRETER_CONFIG = triton.Config({"BLOCK_E": 4, "BLOCK_F": 16}, num_warps=1)


def _configs(shapes: list[tuple[int, int, int]]) -> list[triton.Config]:
    return [triton.Config({"BLOCK_E": e, "BLOCK_F": f}, num_warps=w) for e, f, w in shapes]


def _prune(configs: list[triton.Config], named_args: dict, **kwargs) -> list[triton.Config]:
    """Keep the block widths that fit the feature width; one fixed shape under the interpreter."""
    if INTERPRETED:
        return [_INTERPRETER_CONFIG]
    width = max(32, triton.next_power_of_2(kwargs.get("F", named_args.get("F", 1))))
    return [c for c in configs if c.kwargs["BLOCK_F"] <= width]


_ROW_CONFIGS = _configs(
    [
        (4, 32, 1), (8, 32, 1), (16, 32, 2),
        (4, 64, 1), (8, 64, 2), (16, 64, 4), (32, 64, 4),
        (4, 128, 2), (8, 128, 4), (16, 128, 4), (32, 128, 8),
        (4, 256, 4), (8, 256, 4), (16, 256, 8),
    ]
)  # fmt: skip
_EDGE_CONFIGS = _configs(
    [(32, 32, 2), (64, 32, 4), (32, 64, 4), (64, 64, 4), (32, 128, 4), (64, 128, 8), (32, 256, 8)]
)
_PRUNE = {"early_config_prune": _prune}


@triton.autotune(
    configs=_ROW_CONFIGS,
    key=["F", "DEG_KEY", "REDUCE", "HAS_COL", "HAS_W", "HAS_ROWS", "ARG_IN"],
    prune_configs_by=_PRUNE,
)
@triton.jit
def _segment_kernel(
    x_ptr, col_ptr, w_ptr, starts_ptr, ends_ptr, rows_ptr, div_ptr, arg_in_ptr, out_ptr, arg_ptr,
    F, stride_x, DEG_KEY,
    REDUCE: tl.constexpr, HAS_COL: tl.constexpr, HAS_W: tl.constexpr, HAS_ROWS: tl.constexpr,
    HAS_DIV: tl.constexpr, ARG_IN: tl.constexpr, ACC: tl.constexpr,
    BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr,
):  # fmt: skip
    """out[row] = reduce over k in [start, end) of w[k] * x[col[k]] (see gather_reduce)."""
    pid = tl.program_id(0)
    f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    f_mask = f < F
    lanes = tl.arange(0, BLOCK_E)
    start = tl.load(starts_ptr + pid).to(tl.int64)
    end = tl.load(ends_ptr + pid).to(tl.int64)
    row = tl.load(rows_ptr + pid).to(tl.int64) if HAS_ROWS else pid.to(tl.int64)
    acc = tl.zeros([BLOCK_E, BLOCK_F], ACC)
    best = tl.full([BLOCK_F], float("-inf"), ACC)
    if ARG_IN:
        best_arg = tl.load(arg_in_ptr + start * F + f, mask=f_mask, other=-1)
        best_arg = best_arg.to(tl.int64)
    else:
        best_arg = tl.zeros([BLOCK_F], tl.int64) + start
    for k0 in range(start, end, BLOCK_E):
        k = k0 + lanes
        k_mask = k < end
        src = tl.load(col_ptr + k, mask=k_mask, other=0).to(tl.int64) if HAS_COL else k
        mask = k_mask[:, None] & f_mask[None, :]
        v = tl.load(x_ptr + src[:, None] * stride_x + f[None, :], mask=mask, other=0.0).to(ACC)
        if HAS_W:
            v = v * tl.load(w_ptr + k, mask=k_mask, other=0.0).to(ACC)[:, None]
        if REDUCE == 2:
            v = tl.where(mask, v, float("-inf"))
            tile_best, tile_idx = tl.max(v, 0, return_indices=True)
            if ARG_IN:
                a = tl.load(arg_in_ptr + k[:, None] * F + f[None, :], mask=mask, other=0)
                tile_arg = tl.sum(tl.where(lanes[:, None] == tile_idx[None, :], a, 0), 0)
                tile_arg = tile_arg.to(tl.int64)
            else:
                tile_arg = k0 + tile_idx.to(tl.int64)
            better = tile_best > best
            best = tl.where(better, tile_best, best)
            best_arg = tl.where(better, tile_arg, best_arg)
        else:
            acc += v
    count = end - start
    if REDUCE == 2:
        result = tl.where(count > 0, best, 0.0)
        best_arg = tl.where(count > 0, best_arg, -1)
        tl.store(arg_ptr + row * F + f, best_arg.to(arg_ptr.dtype.element_ty), mask=f_mask)
    else:
        result = tl.sum(acc, 0)
        if REDUCE == 1:
            if HAS_DIV:
                result = result / tl.load(div_ptr + pid).to(ACC)
            else:
                result = result / tl.maximum(count, 1).to(ACC)
    tl.store(out_ptr + row * F + f, result.to(out_ptr.dtype.element_ty), mask=f_mask)


@triton.autotune(configs=_EDGE_CONFIGS, key=["F"], prune_configs_by=_PRUNE)
@triton.jit
def _edge_dot_kernel(
    a_ptr, b_ptr, rows_ptr, col_ptr, out_ptr, E, F, stride_a, stride_b,
    ACC: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr,
):  # fmt: skip
    """out[k] = <a[rows[k]], b[col[k]]>."""
    k = tl.program_id(0).to(tl.int64) * BLOCK_E + tl.arange(0, BLOCK_E)
    k_mask = k < E
    r = tl.load(rows_ptr + k, mask=k_mask, other=0).to(tl.int64)
    c = tl.load(col_ptr + k, mask=k_mask, other=0).to(tl.int64)
    acc = tl.zeros([BLOCK_E, BLOCK_F], ACC)
    for f0 in range(0, F, BLOCK_F):
        f = f0 + tl.arange(0, BLOCK_F)
        mask = k_mask[:, None] & (f < F)[None, :]
        av = tl.load(a_ptr + r[:, None] * stride_a + f[None, :], mask=mask, other=0.0)
        bv = tl.load(b_ptr + c[:, None] * stride_b + f[None, :], mask=mask, other=0.0)
        acc += av.to(ACC) * bv.to(ACC)
    tl.store(out_ptr + k, tl.sum(acc, 1), mask=k_mask)


@triton.autotune(configs=_ROW_CONFIGS, key=["F"], prune_configs_by=_PRUNE)
@triton.jit
def _dmpnn_kernel(
    m_ptr, sum_rowptr, sum_edges, spread_rowptr, spread_edges, spread_rev, out_ptr,
    F, stride_m, ACC: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr,
):  # fmt: skip
    """For node u: s = sum of m over sum-row u; out[e] = s - m[rev[e]] for e in spread-row u."""
    node = tl.program_id(0)
    f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    f_mask = f < F
    lanes = tl.arange(0, BLOCK_E)
    start = tl.load(sum_rowptr + node)
    end = tl.load(sum_rowptr + node + 1)
    acc = tl.zeros([BLOCK_E, BLOCK_F], ACC)
    for k0 in range(start, end, BLOCK_E):
        k = k0 + lanes
        k_mask = k < end
        e = tl.load(sum_edges + k, mask=k_mask, other=0)
        mask = k_mask[:, None] & f_mask[None, :]
        acc += tl.load(m_ptr + e[:, None] * stride_m + f[None, :], mask=mask, other=0.0).to(ACC)
    node_sum = tl.sum(acc, 0)
    start = tl.load(spread_rowptr + node)
    end = tl.load(spread_rowptr + node + 1)
    for k0 in range(start, end, BLOCK_E):
        k = k0 + lanes
        k_mask = k < end
        e = tl.load(spread_edges + k, mask=k_mask, other=0)
        r = tl.load(spread_rev + k, mask=k_mask, other=0)
        mask = k_mask[:, None] & f_mask[None, :]
        rev_m = tl.load(m_ptr + r[:, None] * stride_m + f[None, :], mask=mask, other=0.0)
        value = node_sum[None, :] - rev_m.to(ACC)
        tl.store(out_ptr + e[:, None] * F + f[None, :], value.to(out_ptr.dtype.element_ty),
                 mask=mask)  # fmt: skip


@triton.autotune(configs=_EDGE_CONFIGS, key=["F"], prune_configs_by=_PRUNE)
@triton.jit
def _edge_update_kernel(
    node_sum_ptr, m_ptr, node_ptr, rev_ptr, out_ptr, E, F, stride_m,
    BLOCK_E: tl.constexpr, BLOCK_F: tl.constexpr,
):  # fmt: skip
    """out[e] = node_sum[node[e]] - m[rev[e]] (the D-MPNN update for graphs with hubs)."""
    e = tl.program_id(0).to(tl.int64) * BLOCK_E + tl.arange(0, BLOCK_E)
    f = tl.program_id(1) * BLOCK_F + tl.arange(0, BLOCK_F)
    e_mask = e < E
    mask = e_mask[:, None] & (f < F)[None, :]
    node = tl.load(node_ptr + e, mask=e_mask, other=0)
    r = tl.load(rev_ptr + e, mask=e_mask, other=0)
    s = tl.load(node_sum_ptr + node[:, None] * F + f[None, :], mask=mask, other=0.0)
    rev_m = tl.load(m_ptr + r[:, None] * stride_m + f[None, :], mask=mask, other=0.0)
    value = s - rev_m.to(s.dtype)
    tl.store(out_ptr + e[:, None] * F + f[None, :], value.to(out_ptr.dtype.element_ty), mask=mask)


@dataclass(frozen=True)
class _Segments:
    """How the rows of a CSR are split over programs.

    Light rows (at most ``chunk`` edges) get one program each. Heavy rows are cut into chunks
    of ``chunk`` edges whose partial results land in a scratch buffer, ``heavy_ptr[h]:heavy_ptr
    [h + 1]`` being the chunks of heavy row ``heavy_rows[h]``.

    Shapes:
        - starts, ends: ``(L,)`` edge ranges of the light rows; rows: ``(L,)`` or ``None`` when
          every row is light (row = program id)
        - chunk_starts, chunk_ends: ``(P,)``; heavy_rows, heavy_degree: ``(H,)``;
          heavy_ptr: ``(H + 1,)``
    """

    starts: Tensor
    ends: Tensor
    rows: Tensor | None
    degree_key: int
    chunk_starts: Tensor | None = None
    chunk_ends: Tensor | None = None
    heavy_rows: Tensor | None = None
    heavy_ptr: Tensor | None = None
    heavy_degree: Tensor | None = None
    chunk_key: int = 0


def chunk_size(max_degree: int) -> int:
    """Edges per chunk: a power of two near ``sqrt(max_degree)``, at least :data:`MIN_CHUNK`."""
    return max(MIN_CHUNK, triton.next_power_of_2(math.isqrt(max(max_degree, 1))))


def _degree_key(edges: int, rows: int) -> int:
    """Autotuning bucket of the mean segment length (log2)."""
    return (edges // max(rows, 1)).bit_length()


def _build_segments(csr: CSR) -> _Segments:
    chunk = chunk_size(csr.max_degree)
    rowptr = csr.rowptr
    if csr.max_degree <= chunk:
        return _Segments(rowptr[:-1], rowptr[1:], None, _degree_key(csr.num_edges, csr.num_nodes))
    degree = csr.degree()
    heavy = degree > chunk
    heavy_rows = heavy.nonzero().squeeze(1)
    light_rows = (~heavy).nonzero().squeeze(1)
    heavy_degree = degree.index_select(0, heavy_rows)
    n_chunks = (heavy_degree + chunk - 1) // chunk
    heavy_ptr = torch.zeros(heavy_rows.numel() + 1, dtype=torch.long, device=csr.device)
    heavy_ptr[1:] = n_chunks.cumsum(0)
    owner = torch.repeat_interleave(n_chunks)
    first = rowptr.index_select(0, heavy_rows).index_select(0, owner)
    last = rowptr.index_select(0, heavy_rows + 1).index_select(0, owner)
    chunk_starts = first + (torch.arange(owner.numel(), device=csr.device) - heavy_ptr[owner]) * chunk
    light_edges = csr.num_edges - int(heavy_degree.sum())
    return _Segments(
        starts=rowptr.index_select(0, light_rows),
        ends=rowptr.index_select(0, light_rows + 1),
        rows=light_rows,
        degree_key=_degree_key(light_edges, light_rows.numel()),
        chunk_starts=chunk_starts,
        chunk_ends=torch.minimum(chunk_starts + chunk, last),
        heavy_rows=heavy_rows,
        heavy_ptr=heavy_ptr,
        heavy_degree=heavy_degree.float(),
        chunk_key=_degree_key(owner.numel(), heavy_rows.numel()),
    )


def _tl_dtype(dtype: torch.dtype) -> tl.dtype:
    return tl.float64 if dtype == torch.float64 else tl.float32


def _on(device: torch.device) -> contextlib.AbstractContextManager:
    """Make ``device`` current so that Triton launches on it."""
    return torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()


def _launch_segments(
    x: Tensor,
    col: Tensor | None,
    values: Tensor | None,
    starts: Tensor,
    ends: Tensor,
    rows: Tensor | None,
    out: Tensor,
    arg: Tensor | None,
    reduce: int,
    degree_key: int,
    div: Tensor | None = None,
    arg_in: Tensor | None = None,
) -> None:
    num_programs = starts.numel()
    features = out.size(1)
    if num_programs == 0 or features == 0:
        return
    values = None if values is None else values.contiguous()

    def grid(meta: dict) -> tuple[int, int]:
        return num_programs, triton.cdiv(features, meta["BLOCK_F"])

    _segment_kernel[grid](
        x_ptr=x, col_ptr=col, w_ptr=values, starts_ptr=starts, ends_ptr=ends, rows_ptr=rows,
        div_ptr=div, arg_in_ptr=arg_in, out_ptr=out, arg_ptr=arg,
        F=features, stride_x=x.stride(0), DEG_KEY=degree_key,
        REDUCE=reduce, HAS_COL=col is not None, HAS_W=values is not None,
        HAS_ROWS=rows is not None, HAS_DIV=div is not None, ARG_IN=arg_in is not None,
        ACC=_tl_dtype(x.dtype),
    )  # fmt: skip


def gather_reduce(
    csr: CSR,
    x: Tensor,
    values: Tensor | None,
    reduce: str,
    col: Tensor | None = None,
    out_dtype: torch.dtype | None = None,
) -> Tensor:
    """``y[i] = reduce_{k in row i} values[k] * x[col[k]]`` for ``reduce`` in sum/mean.

    One pass over the edges with fp32 accumulation (fp64 for fp64 inputs); a row without edges
    gets 0.

    Args:
        csr: Rows to reduce into.
        x: Rows to gather; the last dimension must be contiguous.
        values: Per-position weights in CSR order, or ``None`` for ones.
        reduce: ``"sum"`` or ``"mean"``.
        col: Gathered row of each position; ``csr.col`` when ``None``.
        out_dtype: Dtype of ``y``; ``x``'s dtype when ``None``.

    Shapes:
        - x: ``(M, F)``; values, col: ``(E,)``; returns ``(N, F)``
    """
    out, _ = _gather(csr, x, values, _REDUCE_CODES[reduce], col, out_dtype)
    return out


def gather_max(csr: CSR, x: Tensor, values: Tensor | None) -> tuple[Tensor, Tensor]:
    """Max over each row of ``values[k] * x[col[k]]`` (0 for rows without edges), with argmax.

    Returns:
        The maxima and the CSR position of each (the first on ties; -1 for rows without edges).

    Shapes:
        - x: ``(N, F)``; values: ``(E,)``
        - maxima, argmax: ``(N, F)``; argmax is int32 (int64 when ``E >= 2**31``)
    """
    out, arg = _gather(csr, x, values, _MAX, None, None)
    assert arg is not None
    return out, arg


def _gather(
    csr: CSR,
    x: Tensor,
    values: Tensor | None,
    code: int,
    col: Tensor | None,
    out_dtype: torch.dtype | None,
) -> tuple[Tensor, Tensor | None]:
    col = csr.col if col is None else col
    num_nodes, features = csr.num_nodes, x.size(1)
    out = torch.empty(num_nodes, features, dtype=out_dtype or x.dtype, device=x.device)
    arg = None
    if code == _MAX:
        arg_dtype = torch.int32 if csr.num_edges < 2**31 else torch.int64
        arg = torch.empty(num_nodes, features, dtype=arg_dtype, device=x.device)
    if num_nodes == 0 or features == 0:
        return out, arg
    with _on(x.device):
        seg = csr.derived("segments", lambda: _build_segments(csr))
        _launch_segments(x, col, values, seg.starts, seg.ends, seg.rows, out, arg, code,
                         seg.degree_key)  # fmt: skip
        if seg.heavy_rows is None:
            return out, arg
        partial = torch.empty(
            seg.chunk_starts.numel(), features, dtype=accumulation_dtype(x.dtype), device=x.device
        )
        partial_arg = None if arg is None else torch.empty_like(partial, dtype=arg.dtype)
        _launch_segments(x, col, values, seg.chunk_starts, seg.chunk_ends, None, partial,
                         partial_arg, _SUM if code == _MEAN else code,
                         chunk_size(csr.max_degree).bit_length())  # fmt: skip
        _launch_segments(partial, None, None, seg.heavy_ptr[:-1], seg.heavy_ptr[1:],
                         seg.heavy_rows, out, arg, code, seg.chunk_key,
                         div=seg.heavy_degree if code == _MEAN else None,
                         arg_in=partial_arg)  # fmt: skip
    return out, arg


def edge_dot(csr: CSR, a: Tensor, b: Tensor) -> Tensor:
    """``out[k] = <a[row_k], b[col_k]>`` for every CSR position ``k``.

    Shapes:
        - a: ``(N, F)``, b: ``(N, F)``; returns ``(E,)`` float32 (float64 for float64 inputs)
    """
    num_edges, features = csr.num_edges, a.size(1)
    out = torch.zeros(num_edges, dtype=accumulation_dtype(a.dtype), device=a.device)
    if num_edges == 0 or features == 0:
        return out

    def grid(meta: dict) -> tuple[int]:
        return (triton.cdiv(num_edges, meta["BLOCK_E"]),)

    with _on(a.device):
        _edge_dot_kernel[grid](
            a_ptr=a, b_ptr=b, rows_ptr=csr.rows(), col_ptr=csr.col, out_ptr=out,
            E=num_edges, F=features, stride_a=a.stride(0), stride_b=b.stride(0),
            ACC=_tl_dtype(a.dtype),
        )  # fmt: skip
    return out


def dmpnn_update(plan: DmpnnPlan, messages: Tensor, backward: bool) -> Tensor:
    """``out[e] = s[u] - m[rev[e]]`` for ``e = (u -> v)``, ``s[u]`` = sum of messages into ``u``.

    With ``backward=True`` the mirror map (the gradient of the forward one): ``out[e] = t[v] -
    m[rev[e]]``, ``t[v]`` = sum over the edges out of ``v``.

    Shapes:
        - messages: ``(E, F)``, last dimension contiguous; returns ``(E, F)``
    """
    if backward:
        gather_csr, spread_csr, spread_rev = plan.csr_t, plan.csr, plan.rev_in
    else:
        gather_csr, spread_csr, spread_rev = plan.csr, plan.csr_t, plan.rev_t
    num_edges, features = messages.shape
    out = torch.empty_like(messages, memory_format=torch.contiguous_format)
    if num_edges == 0 or features == 0:
        return out
    acc = accumulation_dtype(messages.dtype)
    with _on(messages.device):
        if max(gather_csr.max_degree, spread_csr.max_degree) <= FUSED_MAX_DEGREE:

            def grid(meta: dict) -> tuple[int, int]:
                return plan.csr.num_nodes, triton.cdiv(features, meta["BLOCK_F"])

            _dmpnn_kernel[grid](
                m_ptr=messages, sum_rowptr=gather_csr.rowptr, sum_edges=gather_csr.edge_ids(),
                spread_rowptr=spread_csr.rowptr, spread_edges=spread_csr.edge_ids(),
                spread_rev=spread_rev, out_ptr=out, F=features, stride_m=messages.stride(0),
                ACC=_tl_dtype(messages.dtype),
            )  # fmt: skip
            return out
        node_sum = gather_reduce(gather_csr, messages, None, "sum", col=gather_csr.edge_ids(),
                                 out_dtype=acc)  # fmt: skip

        def edge_grid(meta: dict) -> tuple[int, int]:
            return triton.cdiv(num_edges, meta["BLOCK_E"]), triton.cdiv(features, meta["BLOCK_F"])

        _edge_update_kernel[edge_grid](
            node_sum_ptr=node_sum, m_ptr=messages, node_ptr=spread_csr.edge_rows(),
            rev_ptr=plan.rev, out_ptr=out, E=num_edges, F=features, stride_m=messages.stride(0),
        )  # fmt: skip
    return out
