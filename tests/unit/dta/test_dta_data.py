"""DeepDTA directories and pair tables -> AffinityData: pKd, folds, skipped pairs, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from biomodels.dta.data import load_affinity_data, read_deepdta, to_pkd
from biomodels.exceptions import InputError


def test_pkd_conversion():
    assert np.allclose(to_pkd([10_000, 1, 0.1]), [5.0, 9.0, 10.0])


def test_kd_matrix_becomes_pkd_row_major_without_the_missing_entry(deepdta_dir):
    data = read_deepdta(deepdta_dir)
    assert data.units == "pKd" and len(data) == 5
    # measured entries in row-major order: (0,0) (0,1) (1,0) (2,0) (2,1)
    assert data.ligand.tolist() == [0, 0, 1, 2, 2] and data.target.tolist() == [0, 1, 0, 0, 1]
    assert np.allclose(data.affinity, [5, 9, 7, 6, 8])
    assert [f.tolist() for f in data.folds] == [[0, 1], [2, 3]] and data.test_fold.tolist() == [4]


def test_matrix_in_log_units_is_kept(tmp_path, make_deepdta):
    data = read_deepdta(make_deepdta(tmp_path / "kiba", matrix="11.1 12.0\n13.5 nan\n10 17.2\n"))
    assert data.units == "as given" and np.allclose(data.affinity, [11.1, 12.0, 13.5, 10, 17.2])


def test_deepdta_repository_layout_ignores_isomeric_ligands_and_similarity_matrices(deepdta_dir):
    # DeepDTA's own data/davis and data/kiba hold these beside the affinity matrix
    (deepdta_dir / "ligands_iso.txt").write_text((deepdta_dir / "ligands_can.txt").read_text())
    (deepdta_dir / "kiba_target_sim.txt").write_text("1 0.5\n0.5 1\n")
    (deepdta_dir / "drug-drug_similarities_2D.txt").write_text("1 0 0\n0 1 0\n0 0 1\n")
    assert np.allclose(read_deepdta(deepdta_dir).affinity, [5, 9, 7, 6, 8])
    (deepdta_dir / "second_matrix.txt").write_text("1 2\n3 4\n5 6\n")
    with pytest.raises(
        InputError, match="exactly one affinity matrix .* found affinity.txt, second_matrix.txt"
    ):
        read_deepdta(deepdta_dir)


def test_matrix_shape_must_match_the_lists(tmp_path, make_deepdta):
    folder = make_deepdta(tmp_path / "bad", matrix="1 2 3\n4 5 6\n7 8 9\n")
    with pytest.raises(
        InputError, match=r"affinity\.txt: the matrix is 3 x 3 but .* 3 compounds .* 2 proteins"
    ):
        read_deepdta(folder)


def test_bad_number_names_the_line(tmp_path, make_deepdta):
    with pytest.raises(InputError, match="affinity.txt: line 2"):
        read_deepdta(make_deepdta(tmp_path / "bad", matrix="1 2\nx 3\n4 5\n"))


def test_missing_folds_are_recorded_and_an_invalid_smiles_skips_its_pairs(tmp_path, make_deepdta):
    folder = make_deepdta(tmp_path / "nofolds", folds=False)
    ligands = json.loads((folder / "ligands_can.txt").read_text())
    ligands["caffeine"] = "C1CC"  # unclosed ring
    (folder / "ligands_can.txt").write_text(json.dumps(ligands))
    data = read_deepdta(folder)
    assert data.folds is None and data.folds_missing.endswith("train_fold_setting1.txt")
    assert len(data) == 4 and data.ligand_ids == ["aspirin", "ethanol"]
    assert [s["row"] for s in data.skipped] == [2] and "caffeine" in data.skipped[0]["reason"]


def test_pair_table_keeps_good_rows_and_lists_bad_ones(tmp_path):
    table = tmp_path / "pairs.csv"
    table.write_text(
        "smiles,target_id,target_sequence,pkd\n"
        "CCO,K1,MKKLLPT,5.5\n"
        "CCN,K1,MKKLLPT,6.0\n"
        "CCO,K3,MST1NP,7.0\n"  # a digit: not a protein
        "xx,K2,MSTNP,7.0\n"  # bad SMILES
        "CCC,K2,MSTNP,n/a\n"
    )
    data = load_affinity_data(table)
    assert len(data) == 2 and data.rows.tolist() == [0, 1] and data.target_ids == ["K1"]
    assert [s["row"] for s in data.skipped] == [2, 3, 4]
    assert "K3" in data.skipped[0]["reason"] and "not a number" in data.skipped[2]["reason"]


def test_pair_table_without_affinity_column_names_the_file(tmp_path):
    table = tmp_path / "pairs.csv"
    table.write_text("smiles,sequence\nCCO,MKK\n")
    with pytest.raises(InputError, match="pairs.csv: no affinity column"):
        load_affinity_data(table)
