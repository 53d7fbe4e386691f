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
    sub = graphs.take(idx)
    n_atoms = np.diff(sub.atom_ptr)
    n_edges = np.diff(sub.edge_ptr)
    edge_index = sub.edge_index + np.repeat(sub.atom_ptr[:-1], n_edges)
    # Edges come in (2k, 2k+1) pairs within each molecule, so the reverse of e is e ^ 1.
    rev = np.arange(edge_index.shape[1], dtype=np.int64) ^ 1
    batch = Batch(
        x=expand_atom_features(torch.from_numpy(sub.atom_codes), torch.from_numpy(sub.atom_mass)),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=expand_bond_features(torch.from_numpy(sub.bond_codes)),
        rev_edge_index=torch.from_numpy(rev),
        batch=torch.from_numpy(np.repeat(np.arange(len(idx)), n_atoms)),
        ptr=torch.from_numpy(sub.atom_ptr),
    )
    batch._num_graphs = len(idx)
    if targets is not None:
        y = torch.as_tensor(np.asarray(targets[idx], dtype=np.float32)).reshape(len(idx), -1)
        batch.y_mask = ~torch.isnan(y)
        batch.y = y
    if extra_features is not None:
        batch.features = torch.as_tensor(np.asarray(extra_features[idx], dtype=np.float32))
    return batch

