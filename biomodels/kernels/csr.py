"""Graphs in compressed sparse row (CSR) form, built once per ``edge_index`` and cached.

Message passing aggregates at the target node, so :func:`build_csr` groups the edges of a
PyG-style ``edge_index`` (row 0 = source, row 1 = target) by target. The sort is stable and is
skipped when the targets are already sorted; :meth:`CSR.transpose` groups the same edges by
source for the backward pass and is built once, on first use.

Caching: :func:`get_csr` and :func:`get_dmpnn_plan` keep the structures of the last few graphs,
keyed on the *identity* of the index tensors (the Python object, its ``data_ptr``, shape and
stride) plus ``num_nodes``, and validated by the tensors' version counters. An entry is reused
only while the same tensor object is alive and unmodified, so the layers of one forward pass
share one CSR and a new batch builds a new one. It is invalidated when:

* the tensor is modified in place through torch (``edge_index[0, 3] = 7``, ``add_``, ...): the
  version counter changes and the next call rebuilds;
* the tensor is freed: the entry is dropped at the next call (a new tensor at the same address
  is a different object, so it never matches a stale entry);
* more than :data:`CACHE_SIZE` graphs are in use: the least recently used entry is evicted.

Edits that bypass the version counter are *not* detected: writes through a NumPy view or DLPack,
and in-place edits of inference-mode tensors (they carry no version counter). Call
:func:`clear_csr_cache` after such edits.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import torch
from torch import Tensor

T = TypeVar("T")

#: How many graphs (and D-MPNN plans) the caches keep.
CACHE_SIZE = 8

_INT32_MAX = 2**31 - 1


class _Derived:
    """Arrays computed from an immutable index structure on first use and kept with it."""

    def __init__(self) -> None:
        self._derived: dict[Hashable, Any] = {}

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """Return ``build()``, computed once per key and kept on this object."""
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]


class CSR(_Derived):
    """Edges grouped by one endpoint, the *row*; the other endpoint is the *column*.

    Positions ``rowptr[i]:rowptr[i + 1]`` hold the edges of row ``i`` in their original order.
    Derived arrays (row of each position, the transpose, inverse degrees, ...) are computed on
    first use and kept on the object; treat it as read-only.

    Args:
        rowptr: Offsets of each row's edges.
        col: Column (the other endpoint) of each position.
        perm: Original edge id of each position; ``None`` when the input was already sorted.
        num_nodes: Number of rows (and of columns).
        max_degree: Largest number of edges in one row.

    Shapes:
        - rowptr: ``(N + 1,)`` int64
        - col: ``(E,)`` int32 when ``N < 2**31``, else int64
        - perm: ``(E,)`` int64, or ``None`` for the identity
    """

    def __init__(self, rowptr: Tensor, col: Tensor, perm: Tensor | None, num_nodes: int, max_degree: int):
        self.rowptr = rowptr
        self.col = col
        self.perm = perm
        self.num_nodes = num_nodes
        self.max_degree = max_degree
        super().__init__()

    @property
    def num_edges(self) -> int:
        """Number of edges ``E``."""
        return self.col.numel()

    @property
    def device(self) -> torch.device:
        """Device of the index arrays."""
        return self.col.device

    def degree(self) -> Tensor:
        """Edges per row, shape ``(N,)`` int64."""
        return self.derived("degree", lambda: self.rowptr.diff())

    def rows(self) -> Tensor:
        """Row of each position, shape ``(E,)`` int64."""
        return self.derived(
            "rows",
            lambda: torch.repeat_interleave(
                torch.arange(self.num_nodes, device=self.device),
                self.degree(),
                output_size=self.num_edges,
            ),
        )

    def col_long(self) -> Tensor:
        """``col`` as int64 (torch's CPU ``index_select`` is slower with int32 indices)."""
        return self.col if self.col.dtype == torch.int64 else self.derived("col_long", self.col.long)

    def edge_rows(self) -> Tensor:
        """Row of each edge in original edge order (the target, for the in-edge CSR)."""
        return self.derived("edge_rows", lambda: self.to_edge_order(self.rows()))

    def positions(self) -> Tensor:
        """``arange(E)``, shape ``(E,)`` int64."""
        return self.derived("positions", lambda: torch.arange(self.num_edges, device=self.device))

    def edge_ids(self) -> Tensor:
        """Original edge id of each position (``perm``, or ``arange(E)``), shape ``(E,)`` int64."""
        return self.positions() if self.perm is None else self.perm

    def inv_degree(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """``1 / degree`` of each position's row (the mean's weights), shape ``(E,)``."""
        return self.derived(
            ("inv_degree", dtype),
            lambda: self.degree().clamp(min=1).to(dtype).reciprocal().index_select(0, self.rows()),
        )

    def to_csr_order(self, values: Tensor) -> Tensor:
        """Reorder per-edge values from edge order to CSR position order.

        Shapes:
            - values: ``(E, *)`` in edge order; returns ``(E, *)`` in position order
        """
        return values if self.perm is None else values.index_select(0, self.perm)

    def to_edge_order(self, values: Tensor) -> Tensor:
        """Inverse of :meth:`to_csr_order`.

        Shapes:
            - values: ``(E, *)`` in position order; returns ``(E, *)`` in edge order
        """
        if self.perm is None:
            return values
        return torch.empty_like(values).index_copy_(0, self.perm, values)

    def transpose(self) -> CSR:
        """The same edges grouped by column (by source, for the in-edge CSR); built once."""
        return self.derived("transpose", self._build_transpose)[0]

    def transpose_positions(self) -> Tensor:
        """For each position of :meth:`transpose`, its position in this CSR; shape ``(E,)``."""
        return self.derived("transpose", self._build_transpose)[1]

    def _build_transpose(self) -> tuple[CSR, Tensor]:
        rowptr, order, max_degree = _group(self.col.long(), self.num_nodes)
        if order is None:
            order = self.positions()
        t_col = self.rows().index_select(0, order).to(self.col.dtype)
        t_perm = self.edge_ids().index_select(0, order)
        return CSR(rowptr, t_col, t_perm, self.num_nodes, max_degree), order

    def __repr__(self) -> str:
        return (
            f"CSR(num_nodes={self.num_nodes}, num_edges={self.num_edges}, "
            f"max_degree={self.max_degree}, sorted_input={self.perm is None}, device={self.device})"
        )


def _group(key: Tensor, num_nodes: int) -> tuple[Tensor, Tensor | None, int]:
    """Stable grouping of positions by ``key``: (rowptr, order or None if sorted, max degree)."""
    device = key.device
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=device)
    if key.numel() == 0:
        return rowptr, None, 0
    degree = torch.bincount(key, minlength=num_nodes)
    rowptr[1:] = degree.cumsum(0)
    is_sorted, max_degree = torch.stack([(key[1:] >= key[:-1]).all().long(), degree.max()]).tolist()
    order = None if is_sorted else torch.sort(key, stable=True).indices
    return rowptr, order, int(max_degree)


def _check_edge_index(edge_index: Tensor, num_nodes: int) -> None:
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape (2, E); got {tuple(edge_index.shape)}")
    if edge_index.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"edge_index must be int32 or int64; got {edge_index.dtype}")
    if num_nodes < 0:
        raise ValueError(f"num_nodes must be >= 0; got {num_nodes}")
    if edge_index.size(1) == 0:
        return
    low, high = torch.stack([edge_index.min(), edge_index.max()]).tolist()
    if low < 0 or high >= num_nodes:
        raise ValueError(
            f"edge_index holds node ids in [{low}, {high}] but num_nodes={num_nodes}: "
            f"ids must lie in [0, {num_nodes - 1}]"
        )


def build_csr(edge_index: Tensor, num_nodes: int) -> CSR:
    """Group the edges of ``edge_index`` by target node (uncached; see :func:`get_csr`).

    Validates ``edge_index`` (one host synchronisation) and sorts the targets stably, unless they
    are already sorted.

    Args:
        edge_index: Source node ids in row 0, target node ids in row 1.
        num_nodes: Number of nodes; every id must be below it.

    Returns:
        The in-edge CSR: row = target, column = source.

    Raises:
        ValueError: ``edge_index`` has the wrong shape or dtype, or ids out of range.

    Shapes:
        - edge_index: ``(2, E)`` int32 or int64
    """
    _check_edge_index(edge_index, num_nodes)
    src, dst = edge_index.long()
    rowptr, order, max_degree = _group(dst, num_nodes)
    col = src if order is None else src.index_select(0, order)
    col_dtype = torch.int32 if num_nodes <= _INT32_MAX else torch.int64
    return CSR(rowptr, col.to(col_dtype), order, num_nodes, max_degree)


class DmpnnPlan(_Derived):
    """Index structures of a directed-message (D-MPNN) update on one graph.

    Holds the in-edge CSR, its transpose (out-edges per node) and the reverse-edge map permuted
    into each one's position order, so the forward pass reads ``(csr, csr_t, rev_t)`` and the
    backward pass the mirror image ``(csr_t, csr, rev_in)``.

    Args:
        csr: In-edge CSR (row = target).
        rev: Id of each edge's reverse edge.

    Shapes:
        - rev: ``(E,)`` int64
        - rev_in, rev_t: ``(E,)`` int64, ``rev`` in the position order of ``csr`` / ``csr_t``
    """

    def __init__(self, csr: CSR, rev: Tensor):
        super().__init__()
        self.csr = csr
        self.csr_t = csr.transpose()
        self.rev = rev
        self.rev_in = csr.to_csr_order(rev)
        self.rev_t = self.csr_t.to_csr_order(rev)


def build_dmpnn_plan(edge_index: Tensor, rev_edge_index: Tensor, num_nodes: int) -> DmpnnPlan:
    """Validate the reverse-edge map and build a :class:`DmpnnPlan` (uncached).

    Args:
        edge_index: Directed edges, source in row 0 and target in row 1.
        rev_edge_index: For edge ``e = (u, v)``, the id of the edge ``(v, u)``.
        num_nodes: Number of nodes.

    Raises:
        ValueError: ``rev_edge_index`` is not an involution pairing each edge with its reverse.

    Shapes:
        - edge_index: ``(2, E)``
        - rev_edge_index: ``(E,)`` int32 or int64
    """
    csr = get_csr(edge_index, num_nodes)
    num_edges = edge_index.size(1)
    if rev_edge_index.shape != (num_edges,) or rev_edge_index.dtype not in (
        torch.int32,
        torch.int64,
    ):
        raise ValueError(
            f"rev_edge_index must be an integer tensor of shape ({num_edges},); got "
            f"{rev_edge_index.dtype} of shape {tuple(rev_edge_index.shape)}"
        )
    rev = rev_edge_index.long().contiguous()
    if num_edges:
        low, high = torch.stack([rev.min(), rev.max()]).tolist()
        ok = low >= 0 and high < num_edges
        if ok:
            src, dst = edge_index.long()
            arange = torch.arange(num_edges, device=rev.device)
            ok = bool(((rev[rev] == arange) & (src[rev] == dst) & (dst[rev] == src)).all().item())
        if not ok:
            raise ValueError(
                "rev_edge_index must map every edge (u, v) to the id of an edge (v, u), and "
                "back: rev_edge_index[rev_edge_index[e]] == e"
            )
    return DmpnnPlan(csr, rev)


class _Entry:
    __slots__ = ("refs", "versions", "value")

    def __init__(self, refs: tuple[weakref.ref, ...], versions: tuple[int, ...], value: Any):
        self.refs, self.versions, self.value = refs, versions, value


def _version(tensor: Tensor) -> int:
    # Inference tensors carry no version counter; their in-place edits are not detected.
    return -1 if tensor.is_inference() else tensor._version


class _IdentityCache:
    """LRU of values built from index tensors, valid while those tensors live unmodified."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._dead: list[Hashable] = []
        self._lock = threading.Lock()

    def get(self, tensors: tuple[Tensor, ...], extra: Hashable, build: Callable[[], T]) -> T:
        key = (tuple([(id(t), t.data_ptr(), t.shape, t.stride()) for t in tensors]), extra)
        versions = tuple([_version(t) for t in tensors])
        with self._lock:
            self._purge()
            entry = self._entries.get(key)
            if (
                entry is not None
                and entry.versions == versions
                and all(ref() is t for ref, t in zip(entry.refs, tensors, strict=True))
            ):
                self._entries.move_to_end(key)
                return entry.value
        value = build()
        # Weakref callbacks may run inside garbage collection at any point, so they only
        # record the key; the entry is dropped at the next lookup.
        refs = tuple(weakref.ref(t, lambda _, key=key: self._dead.append(key)) for t in tensors)
        with self._lock:
            self._entries[key] = _Entry(refs, versions, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def _purge(self) -> None:
        while self._dead:
            key = self._dead.pop()
            entry = self._entries.get(key)
            if entry is not None and any(ref() is None for ref in entry.refs):
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._dead.clear()

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._entries)


_CSR_CACHE = _IdentityCache(CACHE_SIZE)
_DMPNN_CACHE = _IdentityCache(CACHE_SIZE)


def get_csr(edge_index: Tensor, num_nodes: int) -> CSR:
    """The in-edge CSR of ``edge_index``, cached while the tensor lives unmodified.

    See the module docstring for when an entry is invalidated.

    Args:
        edge_index: Source node ids in row 0, target node ids in row 1.
        num_nodes: Number of nodes.

    Shapes:
        - edge_index: ``(2, E)`` int32 or int64
    """
    return _CSR_CACHE.get((edge_index,), num_nodes, lambda: build_csr(edge_index, num_nodes))


def get_dmpnn_plan(edge_index: Tensor, rev_edge_index: Tensor, num_nodes: int) -> DmpnnPlan:
    """The :class:`DmpnnPlan` of a graph, cached like :func:`get_csr` on both index tensors.

    Shapes:
        - edge_index: ``(2, E)``
        - rev_edge_index: ``(E,)``
    """
    return _DMPNN_CACHE.get(
        (edge_index, rev_edge_index),
        num_nodes,
        lambda: build_dmpnn_plan(edge_index, rev_edge_index, num_nodes),
    )


def clear_csr_cache() -> None:
    """Forget every cached CSR and D-MPNN plan (after edits the version counter cannot see)."""
    _CSR_CACHE.clear()
    _DMPNN_CACHE.clear()
