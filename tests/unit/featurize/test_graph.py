import numpy as np
import pytest
import torch
from rdkit import Chem

from biomodels.data.graphs import collate_graphs
from biomodels.featurize import ATOM_DIM, BOND_DIM, featurize_graphs, get_featurizer
from biomodels.featurize.graph import ATOM_FIELDS, expand_atom_features
from biomodels.io.molecules import smiles_to_mol

OFFSETS = dict(zip([n for n, _ in ATOM_FIELDS], np.cumsum([0] + [k for _, k in ATOM_FIELDS]), strict=False))
ATOM_FIELDS_INDEX = {name: i for i, (name, _) in enumerate(ATOM_FIELDS)}
AROMATIC_COL, RING_COL, MASS_COL = ATOM_DIM - 3, ATOM_DIM - 2, ATOM_DIM - 1


def graph_of(smiles):
    graphs = featurize_graphs([Chem.MolFromSmiles(smiles)], [smiles])
    return collate_graphs(graphs, [0])


def test_benzene():
    g = graph_of("c1ccccc1")
    assert g.x.shape == (6, ATOM_DIM) and g.edge_attr.shape == (12, BOND_DIM)
    assert g.x[:, AROMATIC_COL].sum() == 6 and g.x[:, RING_COL].sum() == 6
    assert g.edge_index.shape == (2, 12)
    src, dst = g.edge_index
    rev = g.rev_edge_index
    assert torch.equal(src[rev], dst) and torch.equal(dst[rev], src)
    assert torch.equal(rev[rev], torch.arange(12))
    assert (g.edge_attr[:, 3] == 1).all()  # aromatic bond type
    assert (g.edge_attr[:, 4] == 1).all()  # conjugated
    assert torch.allclose(g.x[:, MASS_COL], torch.full((6,), 12.011 / 100), atol=1e-4)
    # each carbon: total degree 3, one H, SP2
    assert (g.x[:, OFFSETS["degree"] + 3] == 1).all()
    assert (g.x[:, OFFSETS["hydrogens"] + 1] == 1).all()
    assert (g.x[:, OFFSETS["hybridisation"] + 2] == 1).all()


def test_one_hot_fields_sum_to_one_and_values():
    g = graph_of("C[C@H](N)C(=O)[O-]")
    assert torch.equal(g.x[:, : ATOM_DIM - 3].sum(1), torch.full((6,), 6.0))
    charge = g.x[:, OFFSETS["formal_charge"] : OFFSETS["chirality"]].argmax(1) - 2
    assert charge.tolist() == [0, 0, 0, 0, 0, -1]
    chirality = g.x[:, OFFSETS["chirality"] : OFFSETS["hydrogens"]].argmax(1)
    assert chirality[1] in (1, 2) and chirality[[0, 2, 3, 4, 5]].eq(0).all()
    stereo_bond = graph_of("C/C=C/C").edge_attr
    assert stereo_bond[2:4, 6 + 3].eq(1).all()  # the double bond is E


def test_unknown_element_goes_to_other():
    g = graph_of("[Fe]")
    assert g.x[0, OFFSETS["element"] + 15] == 1
    assert g.edge_index.shape == (2, 0)


def test_batch_offsets_and_hints_do_not_change_features(shared_data):
    import pandas as pd

    smiles = pd.read_csv(shared_data / "molnet" / "bbbp.csv")["smiles"].tolist()[:300]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    keep = [i for i, m in enumerate(mols) if m is not None]
    mols, smiles = [mols[i] for i in keep], [smiles[i] for i in keep]
    with_hints = featurize_graphs(mols, smiles)
    without = featurize_graphs(mols, None)
    for field in ("atom_codes", "edge_index", "bond_codes", "atom_ptr"):
        assert np.array_equal(getattr(with_hints, field), getattr(without, field))
    batch = collate_graphs(with_hints, [5, 0, 7])
    sizes = [mols[i].GetNumAtoms() for i in (5, 0, 7)]
    assert batch.x.shape[0] == sum(sizes) and batch.num_graphs == 3
    assert batch.edge_index.max() < sum(sizes)
    assert torch.equal(batch.batch.bincount(), torch.tensor(sizes))
    # edges of the second graph point into its own atom range
    first = 2 * mols[5].GetNumBonds()
    assert batch.edge_index[:, first:].min() >= sizes[0]


def test_nitro_charges_set_by_sanitisation_are_read():
    """``N(=O)=O`` has no charge marks, but sanitisation makes it ``[N+](=O)[O-]``."""
    smiles = "CN(=O)=O"
    graphs = featurize_graphs([smiles_to_mol(smiles)], [smiles])
    charge = graphs.atom_codes[:, ATOM_FIELDS_INDEX["formal_charge"]].astype(int) - 2
    assert sorted(charge.tolist()) == [-1, 0, 0, 1]


def test_codes_match_rdkit_atom_and_bond_queries(shared_data):
    """The shortcuts (fast parse, flags read off bonds, stereo hints) agree with RDKit's getters."""
    import pandas as pd

    smiles = pd.read_csv(shared_data / "molnet" / "hiv.csv.gz")["smiles"].tolist()[:3000]
    mols, kept = [], []
    for text in smiles:
        try:
            mol = smiles_to_mol(text)
        except Exception:  # RDKit's sanitisation errors: not this test's subject
            continue
        if mol is not None:
            mols.append(mol)
            kept.append(text)
    codes = featurize_graphs(mols, kept)
    reference = [Chem.MolFromSmiles(text) for text in kept]
    atoms = [atom for mol in reference for atom in mol.GetAtoms()]
    index = ATOM_FIELDS_INDEX
    assert np.array_equal(codes.atom_codes[:, 6], [a.GetIsAromatic() for a in atoms])
    assert np.array_equal(codes.atom_codes[:, 7], [a.IsInRing() for a in atoms])
    charges = [a.GetFormalCharge() for a in atoms]
    coded = [c + 2 if abs(c) <= 2 else 5 for c in charges]  # beyond +-2: "other"
    assert np.array_equal(codes.atom_codes[:, index["formal_charge"]], coded)
    assert np.array_equal(codes.atom_codes[:, index["hydrogens"]], [min(a.GetTotalNumHs(), 5) for a in atoms])
    bonds = [bond for mol in reference for bond in mol.GetBonds()]
    assert np.array_equal(codes.bond_codes[0::2, 1], [b.GetIsConjugated() for b in bonds])
    assert np.array_equal(codes.bond_codes[0::2, 2], [b.IsInRing() for b in bonds])


def test_expand_empty():
    assert expand_atom_features(torch.zeros(0, 8, dtype=torch.int16), torch.zeros(0)).shape == (0, ATOM_DIM)


@pytest.mark.parametrize("name,width", [("morgan", 2048), ("morgan_count", 2048)])
def test_fingerprints(name, width):
    feats = get_featurizer(name).featurize_chunk([Chem.MolFromSmiles("CCO"), Chem.MolFromSmiles("c1ccccc1")])
    assert feats.shape == (2, width)
    assert 0 < feats[0].sum() < feats[1].sum() + 10


def test_morgan_options_and_descriptors():
    feat = get_featurizer("morgan", radius=1, size=64)
    assert feat.featurize_chunk([Chem.MolFromSmiles("CCO")]).shape == (1, 64)
    desc = get_featurizer("rdkit2d")
    values = desc.featurize_chunk([Chem.MolFromSmiles("CCO")])
    mw = values[0, desc.feature_names().index("MolWt")]
    assert mw == pytest.approx(46.069, abs=1e-2)
