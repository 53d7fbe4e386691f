"""Encoders: shapes, wiring, batch independence; D-MPNN against a plain loop implementation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from rdkit import Chem
from torch_geometric.data import Batch

from biomodels.data.graphs import collate_graphs
from biomodels.featurize.graph import ATOM_DIM, BOND_DIM, featurize_graphs
from biomodels.nn import ENCODERS, DMPNNEncoder, GATEncoder, gcn_norm

SMILES = ["CCO", "c1ccccc1O", "C", "[Na+].[Cl-]", "CC(=O)N[C@@H](C)C(=O)O"]


def _batch(smiles: list[str]) -> Batch:
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    return collate_graphs(featurize_graphs(mols), range(len(mols)))


def test_registry_names():
    assert ENCODERS.names() == ["attentivefp", "dmpnn", "gat", "gcn", "gin"]


@pytest.mark.parametrize("name", ENCODERS.names())
def test_encoder_shapes_and_gradients(name):
    torch.manual_seed(0)
    encoder = ENCODERS.get(name)(ATOM_DIM, BOND_DIM, hidden=32, depth=2)
    batch = _batch(SMILES)
    out = encoder(batch)
    rows = batch.num_graphs if encoder.graph_level else batch.x.shape[0]
    assert out.shape == (rows, 32) and encoder.out_dim == 32
    assert torch.isfinite(out).all()
    out.pow(2).sum().backward()
    missing = [n for n, p in encoder.named_parameters() if p.grad is None]
    assert not missing, f"parameters without gradient: {missing}"


@pytest.mark.parametrize("name", ENCODERS.names())
def test_molecules_in_a_batch_do_not_interact(name):
    torch.manual_seed(0)
    encoder = ENCODERS.get(name)(ATOM_DIM, BOND_DIM, hidden=16, depth=3).eval()
    together = encoder(_batch(SMILES))
    alone = encoder(_batch(SMILES[1:2]))
    if encoder.graph_level:
        torch.testing.assert_close(together[1:2], alone)
    else:
        start = Chem.MolFromSmiles(SMILES[0]).GetNumAtoms()
        torch.testing.assert_close(together[start : start + alone.shape[0]], alone)


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        DMPNNEncoder(ATOM_DIM, BOND_DIM, depth=0)


def test_gat_heads_must_divide_hidden():
    with pytest.raises(ValueError, match="heads"):
        GATEncoder(ATOM_DIM, BOND_DIM, hidden=30, heads=4)


def test_dmpnn_defaults_as_chemprop():
    encoder = DMPNNEncoder(ATOM_DIM, BOND_DIM)
    assert encoder.W_i.bias is None and encoder.W_h.bias is None
    assert encoder.W_o.bias is not None
    batch = _batch(SMILES)
    assert encoder(batch).shape == (batch.x.shape[0], 300)


def _dmpnn_loop(encoder, x, edges, edge_attr):
    """D-MPNN written edge by edge: messages into u from every neighbour except v."""
    h0 = [encoder.W_i(torch.cat([x[u], edge_attr[k]])) for k, (u, _) in enumerate(edges)]
    m = [F.relu(h) for h in h0]
    zero = torch.zeros_like(h0[0])
    for _ in range(encoder.depth - 1):
        m = [
            F.relu(
                h0[k] + encoder.W_h(sum((m[j] for j, (a, b) in enumerate(edges) if b == u and a != v), zero))
            )
            for k, (u, v) in enumerate(edges)
        ]
    nodes = []
    for v in range(x.shape[0]):
        incoming = sum((m[j] for j, (_, b) in enumerate(edges) if b == v), zero)
        nodes.append(F.relu(encoder.W_o(torch.cat([x[v], incoming]))))
    return torch.stack(nodes)


def test_dmpnn_matches_loop_on_hand_graph():
    torch.manual_seed(0)
    # Bonds 0-1, 1-2, 1-3, 3-4 and isolated atom 5; directed edges in a shuffled order.
    edges = [(1, 0), (3, 4), (1, 2), (0, 1), (4, 3), (2, 1), (3, 1), (1, 3)]
    rev = [edges.index((v, u)) for u, v in edges]
    x = torch.randn(6, 4, dtype=torch.float64)
    bond = torch.randn(4, 3, dtype=torch.float64)
    bond_of = {frozenset(p): i for i, p in enumerate([(0, 1), (1, 2), (1, 3), (3, 4)])}
    edge_attr = torch.stack([bond[bond_of[frozenset(e)]] for e in edges])
    batch = Batch(
        x=x,
        edge_index=torch.tensor(edges).t(),
        edge_attr=edge_attr,
        rev_edge_index=torch.tensor(rev),
        batch=torch.zeros(6, dtype=torch.long),
    )
    encoder = DMPNNEncoder(4, 3, hidden=8, depth=3).double()
    expected = _dmpnn_loop(encoder, x, edges, edge_attr)
    torch.testing.assert_close(encoder(batch), expected)
    # The isolated atom sees only its own features.
    alone = F.relu(encoder.W_o(torch.cat([x[5], x.new_zeros(8)])))
    torch.testing.assert_close(expected[5], alone)


def test_gcn_norm_weights():
    edge_index, weight = gcn_norm(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 3)
    assert edge_index.shape == (2, 7)
    degree = torch.tensor([2.0, 3.0, 2.0])  # neighbours + self-loop
    expected = (degree[edge_index[0]] * degree[edge_index[1]]).rsqrt()
    torch.testing.assert_close(weight, expected)
