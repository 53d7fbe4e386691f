"""Batches of molecular graphs built straight from :class:`GraphArrays` (no per-graph objects)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.data import Batch

from biomodels.featurize.graph import GraphArrays, expand_atom_features, expand_bond_features


def collate_graphs(
    graphs: GraphArrays,
    indices: Sequence[int] | np.ndarray,
    targets: np.ndarray | None = None,
    extra_features: np.ndarray | None = None,
) -> Batch:
    """Build one PyG :class:`~torch_geometric.data.Batch` of the molecules at ``indices``.

    Much faster than ``Batch.from_data_list``: slices the concatenated code arrays once and
    expands features for the whole batch in one scatter.

    Attributes of the returned batch (``B`` graphs, ``N`` atoms, ``E`` directed edges):
        x: ``N x ATOM_DIM`` float atom features.
        edge_index: ``2 x E`` long, batch-global atom indices (source, target).
        edge_attr: ``E x BOND_DIM`` float bond features.
        rev_edge_index: ``E`` long, index of each edge's reverse edge.
        batch: ``N`` long, graph of each atom; ptr: ``B + 1`` atom offsets.
        y: ``B x T`` float targets (NaN = missing) and y_mask: ``B x T`` bool, when targets given.
        features: ``B x D`` float molecule-level features, when extra_features given.
    """
    idx = np.asarray(indices, dtype=np.int64)
    a0, a1 = graphs.atom_ptr[idx], graphs.atom_ptr[idx + 1]
    e0, e1 = graphs.edge_ptr[idx], graphs.edge_ptr[idx + 1]
    n_atoms, n_edges = a1 - a0, e1 - e0
    atom_sel = _ranges(a0, n_atoms)
    edge_sel = _ranges(e0, n_edges)
    new_atom_ptr = np.zeros(len(idx) + 1, np.int64)
    np.cumsum(n_atoms, out=new_atom_ptr[1:])
    new_edge_ptr = np.zeros(len(idx) + 1, np.int64)
    np.cumsum(n_edges, out=new_edge_ptr[1:])

    edge_index = graphs.edge_index[:, edge_sel] + np.repeat(new_atom_ptr[:-1], n_edges)
    # Edges come in (2k, 2k+1) pairs within each molecule, so the reverse of e is e ^ 1.
    rev = np.arange(len(edge_sel), dtype=np.int64) ^ 1
    batch = Batch(
        x=expand_atom_features(
            torch.from_numpy(graphs.atom_codes[atom_sel]), torch.from_numpy(graphs.atom_mass[atom_sel])
        ),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=expand_bond_features(torch.from_numpy(graphs.bond_codes[edge_sel])),
        rev_edge_index=torch.from_numpy(rev),
        batch=torch.from_numpy(np.repeat(np.arange(len(idx)), n_atoms)),
        ptr=torch.from_numpy(new_atom_ptr),
    )
    batch._num_graphs = len(idx)
    if targets is not None:
        y = torch.as_tensor(np.asarray(targets[idx], dtype=np.float32)).reshape(len(idx), -1)
        batch.y_mask = ~torch.isnan(y)
        batch.y = y
    if extra_features is not None:
        batch.features = torch.as_tensor(np.asarray(extra_features[idx], dtype=np.float32))
    return batch


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + n)`` for each start/length pair, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + offsets
