"""Bulk nearest-neighbour Tanimoto on packed bits equals RDKit's BulkTanimotoSimilarity."""

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from biomodels.chem import similarity
from biomodels.chem.similarity import nearest_neighbours, packed_fingerprints, popcounts

SERIES = [
    "CC(=O)Nc1ccc(O)cc1",
    "CC(=O)Nc1ccc(OC)cc1",
    "c1ccccc1S(N)(=O)=O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "O=C(O)c1ccccc1OC(C)=O",
    "CCN(CC)CCNC(=O)c1ccc(N)cc1",
    "C1CCCCC1",
]
QUERIES = [
    "CC(=O)Nc1ccc(O)cc1",  # in the reference: 1.0
    "CC(=O)Nc1ccc(OCC)cc1",
    "C1CN[Co]23(N1)(NCCN2)NCCN3",
    "c1ccc2ccccc2c1",
    "CCCCCCCCCCCCCCCCCC(=O)O",
    "OC1C(O)C(O)C(O)C(O)C1O",
    "C",
]


def mols(smiles):
    return [Chem.MolFromSmiles(s) for s in smiles]


def rdkit_nearest(queries, reference, radius=2, size=2048):
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=size)
    reference = [generator.GetFingerprint(m) for m in reference]
    sims = [DataStructs.BulkTanimotoSimilarity(generator.GetFingerprint(m), reference) for m in queries]
    return np.array([max(s) for s in sims], np.float32), np.array([int(np.argmax(s)) for s in sims])


def test_packed_bits_are_rdkits_bits():
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    packed = packed_fingerprints(mols(SERIES))
    assert packed.shape == (len(SERIES), 32) and packed.dtype == np.uint64
    for row, mol in zip(packed, mols(SERIES), strict=True):
        bits = np.flatnonzero(np.unpackbits(row.view(np.uint8), bitorder="little"))
        assert bits.tolist() == list(generator.GetFingerprint(mol).GetOnBits())
    assert popcounts(packed).tolist() == [generator.GetFingerprint(m).GetNumOnBits() for m in mols(SERIES)]
    assert not packed_fingerprints([None]).any()  # an unparsed row: no bits


@pytest.mark.parametrize("block_pairs", [1, 5, 1 << 16])  # one pair per block, ragged blocks, one block
def test_nearest_neighbours_equal_rdkit_bulk_tanimoto(monkeypatch, block_pairs):
    monkeypatch.setattr(similarity, "_BLOCK_PAIRS", block_pairs)
    got_sim, got_index = nearest_neighbours(
        packed_fingerprints(mols(QUERIES)), packed_fingerprints(mols(SERIES))
    )
    want_sim, want_index = rdkit_nearest(mols(QUERIES), mols(SERIES))
    assert got_sim.dtype == np.float32
    np.testing.assert_array_equal(got_sim, want_sim)  # bit for bit
    np.testing.assert_array_equal(got_index, want_index)
    assert got_sim[0] == 1.0 and got_sim[2] < 0.2


def test_nearest_neighbours_on_a_library_against_rdkit():
    """Hundreds of NCI molecules against the rest: the same maxima and neighbours as RDKit."""
    import os

    from rdkit import RDConfig

    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(path) as handle:
        smiles = [line.split()[0] for _, line in zip(range(400), handle, strict=False)]
    parsed = [m for m in mols(smiles) if m is not None]
    queries, reference = parsed[:150], parsed[150:]
    got_sim, got_index = nearest_neighbours(packed_fingerprints(queries), packed_fingerprints(reference))
    want_sim, want_index = rdkit_nearest(queries, reference)
    np.testing.assert_array_equal(got_sim, want_sim)
    np.testing.assert_array_equal(got_index, want_index)


def test_empty_sets_and_empty_fingerprints():
    sims, index = nearest_neighbours(packed_fingerprints(mols(["CCO"])), packed_fingerprints([]))
    assert sims.tolist() == [0.0] and index.tolist() == [-1]
    sims, index = nearest_neighbours(packed_fingerprints([]), packed_fingerprints(mols(SERIES)))
    assert sims.shape == (0,) and index.shape == (0,)
    empty = packed_fingerprints([Chem.Mol()])  # no atoms, no bits: similarity 0, as in RDKit
    assert nearest_neighbours(empty, empty)[0].tolist() == [0.0]
    with pytest.raises(ValueError, match="multiple of 64"):
        packed_fingerprints(mols(["CCO"]), size=1000)
