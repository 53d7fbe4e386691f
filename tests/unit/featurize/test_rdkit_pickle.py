import numpy as np
import pytest
from rdkit import Chem

from biomodels.featurize.graph import _featurize_with_objects, featurize_graphs
from biomodels.featurize.rdkit_pickle import decode_mols, decode_pickles

# Charges, chirality, E/Z, triple bonds, isotopes (4-byte field), radicals, explicit H atoms,
# fused and bridged rings, a macrocycle, a ring-free molecule, a lone ion.
COVERED = [
    "C[C@H](N)c1ccccc1C(=O)[O-]",
    "F/C=C/Cl",
    "C#CC[N+](C)(C)C",
    "[13CH3]C(=O)O",
    "[CH2]C",
    "[2H]OC",
    "c1ccc2c(c1)ccc1ccccc12",
    "C1CC2CCC1C2",
    "C1CCCCCCCCCCCCCCCCCCCCC1",
    "CCCCO",
    "[Na+]",
    "O=[N+]([O-])c1ccc(S(=O)(=O)N)cc1",
]
# Map numbers, dummy atoms, a dative bond, more than 255 atoms.
NOT_COVERED = ["[CH3:1]C", "*c1ccccc1", "[NH3]->[Pt]", "C" * 300]


def mols_of(smiles):
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    assert all(m is not None for m in mols)
    return mols


def test_fields_match_rdkit_getters():
    mols = mols_of(COVERED)
    decoded = decode_mols(mols)
    assert decoded.unsupported.tolist() == [] and decoded.molecules.tolist() == list(range(len(mols)))
    atoms = [a for m in mols for a in m.GetAtoms()]
    bonds = [b for m in mols for b in m.GetBonds()]
    assert decoded.n_atoms.tolist() == [m.GetNumAtoms() for m in mols]
    assert decoded.atomic_num.tolist() == [a.GetAtomicNum() for a in atoms]
    assert decoded.formal_charge.tolist() == [a.GetFormalCharge() for a in atoms]
    assert decoded.chiral_tag.tolist() == [int(a.GetChiralTag()) for a in atoms]
    assert decoded.hybridization.tolist() == [int(a.GetHybridization()) for a in atoms]
    assert decoded.total_hs.tolist() == [a.GetTotalNumHs() for a in atoms]
    assert decoded.begin.tolist() == [b.GetBeginAtomIdx() for b in bonds]
    assert decoded.end.tolist() == [b.GetEndAtomIdx() for b in bonds]
    assert decoded.bond_type.tolist() == [int(b.GetBondType()) for b in bonds]
    assert decoded.conjugated.tolist() == [b.GetIsConjugated() for b in bonds]
    assert decoded.bond_stereo.tolist() == [int(b.GetStereo()) for b in bonds]
    assert decoded.bond_in_ring.tolist() == [b.IsInRing() for b in bonds]


def test_uncovered_molecules_are_reported_and_featurised_through_objects():
    smiles = COVERED[:3] + NOT_COVERED + COVERED[3:]
    mols = mols_of(smiles)
    decoded = decode_mols(mols)
    assert decoded.unsupported.tolist() == list(range(3, 3 + len(NOT_COVERED)))
    via_pickles = featurize_graphs(mols, smiles)
    via_objects = _featurize_with_objects(mols, smiles)
    for field in ("atom_codes", "atom_mass", "edge_index", "bond_codes", "atom_ptr", "edge_ptr"):
        assert np.array_equal(getattr(via_pickles, field), getattr(via_objects, field)), field


def test_query_molecules_are_not_covered():
    assert decode_mols([Chem.MolFromSmarts("[#6]-[#7,#8]")]).unsupported.tolist() == [0]


def test_damaged_pickles_never_crash_and_are_reported():
    good = Chem.MolFromSmiles("c1ccccc1CC(=O)N").ToBinary()
    damaged = [good[:cut] for cut in range(0, len(good), 3)] + [b"", b"not a pickle" * 5]
    damaged.append(good[:40] + bytes([0xFF]) * (len(good) - 40))
    decoded = decode_pickles([good, *damaged, good])
    assert decoded.molecules.tolist() == [0, len(damaged) + 1]
    assert len(decoded.unsupported) == len(damaged)
    assert decoded.n_atoms.tolist() == [10, 10]


def test_empty_input():
    decoded = decode_pickles([])
    assert len(decoded.molecules) == 0 and len(decoded.atomic_num) == 0


@pytest.mark.parametrize("count", [1, 7, 300])
def test_many_molecules_of_different_sizes_keep_their_order(count):
    smiles = [COVERED[i % len(COVERED)] for i in range(count)]
    mols = mols_of(smiles)
    via_pickles = featurize_graphs(mols)
    via_objects = _featurize_with_objects(mols, [None] * count)
    assert np.array_equal(via_pickles.atom_codes, via_objects.atom_codes)
    assert np.array_equal(via_pickles.bond_codes, via_objects.bond_codes)
