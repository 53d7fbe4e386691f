"""Molecular properties: values against RDKit, NaN rows for unparsed input, name selection."""

from __future__ import annotations

import pickle

import pytest
from rdkit import Chem, RDConfig
from rdkit.Chem import QED, Crippen, Descriptors

from biomodels.chem import properties
from biomodels.chem.properties import PROPERTIES, compute_properties
from biomodels.exceptions import UnknownNameError

ASPIRIN = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
BENZENE = Chem.MolFromSmiles("c1ccccc1")
PACLITAXEL = Chem.MolFromSmiles(
    "CC1=C2[C@@]([C@]([C@H]([C@@H]3[C@]4([C@H](OC4)C[C@@H]([C@]3(C(=O)[C@@H]2OC(=O)C)C)O)"
    "OC(=O)C)OC(=O)c5ccccc5)(C[C@@H]1OC(=O)[C@H](O)[C@@H](NC(=O)c6ccccc6)c7ccccc7)O)(C)C"
)


def test_aspirin_values_match_rdkit_and_textbook():
    row = compute_properties([ASPIRIN]).iloc[0]
    assert row["mw"] == pytest.approx(Descriptors.MolWt(ASPIRIN)) == pytest.approx(180.159)
    assert row["clogp"] == pytest.approx(Crippen.MolLogP(ASPIRIN))
    assert row["qed"] == pytest.approx(QED.qed(ASPIRIN))
    assert 0.5 < row["qed"] < 0.6  # published QED of aspirin: 0.55
    assert row["tpsa"] == pytest.approx(63.6)
    assert (row["hbd"], row["hba"], row["rotb"], row["heavy_atoms"]) == (1, 3, 2, 13)


def test_sa_score_ranks_benzene_easy_and_paclitaxel_hard():
    sa = compute_properties([BENZENE, PACLITAXEL], ["sa"])["sa"]
    assert sa[0] < 2
    assert sa[1] > 5


def test_none_molecule_gives_nan_row_in_place():
    frame = compute_properties([None, ASPIRIN, None])
    assert len(frame) == 3
    assert frame.iloc[[0, 2]].isna().all().all()
    assert frame.iloc[1].notna().all()


def test_names_select_columns_in_the_order_given():
    frame = compute_properties([ASPIRIN, BENZENE], ["qed", "mw"])
    assert list(frame.columns) == ["qed", "mw"]
    assert list(compute_properties([ASPIRIN], "tpsa").columns) == ["tpsa"]
    assert list(compute_properties([ASPIRIN]).columns) == PROPERTIES.names()


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownNameError, match="unknown property 'logp'.*clogp.*qed"):
        compute_properties([ASPIRIN], ["mw", "logp"])


def test_empty_batch_gives_empty_frame_with_columns():
    frame = compute_properties([], ["mw", "qed"])
    assert frame.shape == (0, 2)


def test_property_functions_pickle_for_worker_processes():
    for name in PROPERTIES:
        function = pickle.loads(pickle.dumps(PROPERTIES.get(name)))
        assert function(ASPIRIN) == PROPERTIES.get(name)(ASPIRIN)


def test_missing_sa_contrib_raises_clear_import_error(monkeypatch, tmp_path):
    monkeypatch.setattr(RDConfig, "RDContribDir", str(tmp_path))
    properties._sascorer.cache_clear()
    try:
        with pytest.raises(ImportError, match="SA_Score.*leave 'sa' out"):
            compute_properties([BENZENE], ["sa"])
        assert compute_properties([BENZENE], ["mw"])["mw"][0] == pytest.approx(78.114)
    finally:
        properties._sascorer.cache_clear()  # the next caller reloads from the real Contrib
