"""The applicability domain: columns, label range, persistence parts."""

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from biomodels.chem.domain import DOMAIN_COLUMNS, ApplicabilityDomain
from biomodels.chem.similarity import packed_fingerprints

TRAIN = ["CC(=O)Nc1ccc(O)cc1", "CC(=O)Nc1ccc(OC)cc1", "c1ccccc1S(N)(=O)=O"]


def mols(smiles):
    return [Chem.MolFromSmiles(s) for s in smiles]


@pytest.fixture
def domain():
    labels = {"logS": np.array([-1.0, np.nan, -3.5])}
    bits = packed_fingerprints(mols(TRAIN))
    return ApplicabilityDomain.fit(bits, TRAIN, ["para", None, "sulfa"], labels, min_similarity=0.4)


def test_columns_name_the_neighbour_and_flag_the_domain(domain):
    queries = mols(["CC(=O)Nc1ccc(O)cc1", "CC(=O)Nc1ccc(OCC)cc1", "C1CN[Co]23(N1)(NCCN2)NCCN3"])
    similarity, index = domain.nearest(domain.fingerprints_of(queries))
    frame = domain.columns(5, np.array([0, 2, 4]), similarity, index)
    assert list(frame.columns) == list(DOMAIN_COLUMNS)
    assert frame["nn_similarity"].iloc[0] == 1.0 and frame["nn_id"].iloc[0] == "para"
    assert frame["nn_id"].iloc[2] == "CC(=O)Nc1ccc(OC)cc1"  # no id: its SMILES
    assert frame["in_domain"].tolist() == [True, pd.NA, True, pd.NA, False]  # the cobalt complex: out
    assert np.isnan(frame["nn_similarity"].iloc[1]) and pd.isna(frame["nn_id"].iloc[1])
    stricter = domain.columns(5, np.array([0, 2, 4]), similarity, index, min_similarity=0.99)
    assert stricter["in_domain"].tolist() == [True, pd.NA, False, pd.NA, False]


def test_label_range_flags_extrapolations(domain):
    assert domain.label_range == {"logS": (-3.5, -1.0)}
    flags = domain.in_range("logS", np.array([-2.0, 17.7, np.nan, -3.5]))
    assert flags.tolist() == [True, False, pd.NA, True]
    assert domain.in_range("other", np.array([1.0])).tolist() == [pd.NA]


def test_saved_parts_rebuild_the_same_domain(domain):
    again = ApplicabilityDomain.from_saved(domain.to_state(), domain.to_arrays(), domain.to_files())
    np.testing.assert_array_equal(again.fingerprints, domain.fingerprints)
    assert (again.names, again.smiles, again.label_range) == (domain.names, domain.smiles, domain.label_range)
    assert again.min_similarity == 0.4
    assert again.smiles_of(["sulfa", None, "unknown"]) == [TRAIN[2], None, None]
    with pytest.raises(ValueError, match="do not match"):
        ApplicabilityDomain.from_saved(
            {**domain.to_state(), "molecules": 2}, domain.to_arrays(), domain.to_files()
        )
