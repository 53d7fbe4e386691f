"""Nearest-neighbour Tanimoto similarity (the demo's applicability domain)."""

import numpy as np
from rdkit import Chem

from biomodels.chem.similarity import nearest_similarity


def mols(*smiles):
    return [Chem.MolFromSmiles(s) for s in smiles]


def test_nearest_similarity_places_molecules_against_a_series():
    series = mols("CC(=O)Nc1ccc(O)cc1", "CC(=O)Nc1ccc(OC)cc1", "c1ccccc1S(N)(=O)=O")
    queries = mols("CC(=O)Nc1ccc(O)cc1", "CC(=O)Nc1ccc(OCC)cc1", "C1CN[Co]23(N1)(NCCN2)NCCN3")
    sims = nearest_similarity(queries, series)
    assert sims[0] == 1.0
    assert 0.4 < sims[1] < 1.0
    assert sims[2] < 0.2
    assert nearest_similarity(mols("CCO"), []).tolist() == [0.0]
    assert nearest_similarity([], series).shape == (0,) and sims.dtype == np.float32
