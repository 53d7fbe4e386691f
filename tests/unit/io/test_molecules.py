import gzip
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdkit import Chem, RDConfig

from biomodels.exceptions import ColumnNotFoundError, InputError
from biomodels.io import MoleculeParser, RawRecord, read_molecules
from biomodels.io.molecules import smiles_to_mol

NCI = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
CMET_SDF = os.path.join(RDConfig.RDContribDir, "FreeWilson", "data", "cmet_ligands.sdf")


def test_tox21_every_row_accounted_for(shared_data):
    records = list(read_molecules(shared_data / "molnet" / "tox21.csv"))
    assert len(records) == 7831
    assert [r.row for r in records] == list(range(7831))
    bad = [r for r in records if not r.ok]
    assert len(bad) == 8
    assert all("valence" in r.error.lower() for r in bad)
    assert records[0].props["NR-AR"] == "0"


def test_hiv_gz_seven_rejected(shared_data):
    records = list(read_molecules(shared_data / "molnet" / "hiv.csv.gz"))
    assert len(records) == 41127
    assert sum(not r.ok for r in records) == 7


def test_smi_file_with_ids_and_sdf_with_props():
    records = list(read_molecules(NCI))
    assert len(records) == 4999
    assert records[0].id == "1"
    assert Chem.MolToSmiles(records[0].mol) == Chem.CanonSmiles("CC1=CC(=O)C=CC1=O")
    sdf = list(read_molecules(CMET_SDF))
    assert len(sdf) == 24 and all(r.ok for r in sdf)
    assert sdf[0].id == "CHEMBL3402753_200" and "r_exp_dg" in sdf[0].props


def test_bad_rows_become_error_records(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("name,SMILES\na,CCO\nb,C1CC(\nc,\nd,c1cccc1\ne,N(C)(C)(C)(C)C\nf,c1ccccc1\n")
    records = list(read_molecules(path))
    assert [r.id for r in records] == list("abcdef")
    assert [r.ok for r in records] == [True, False, False, False, False, True]
    assert "syntax error" in records[1].error
    assert records[2].error == "empty SMILES"
    assert "kekulize" in records[3].error.lower()
    assert "valence" in records[4].error.lower()
    assert all("\n" not in r.error for r in records if r.error)


def test_unknown_column_lists_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("smiles,y\nCCO,1\n")
    with pytest.raises(ColumnNotFoundError, match=r"'structure' not found; columns are: smiles, y"):
        list(read_molecules(path, smiles_col="structure"))
    path.write_text("structure,y\nCCO,1\n")
    with pytest.raises(InputError, match="no SMILES column found"):
        list(read_molecules(path))
    assert next(read_molecules(path, smiles_col="STRUCTURE")).ok


@pytest.mark.parametrize(
    "name,content", [("e.csv", ""), ("e.smi", ""), ("e.sdf", ""), ("h.csv", "smiles,y\n")]
)
def test_empty_files(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError, match="empty file"):
        list(read_molecules(path))


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        list(read_molecules(tmp_path / "nope.csv"))
    (tmp_path / "x.xyz").write_text("C")
    with pytest.raises(InputError, match="supported"):
        list(read_molecules(tmp_path / "x.xyz"))


def test_truncated_sdf_record(tmp_path):
    with open(CMET_SDF) as handle:
        text = handle.read()
    blocks = text.split("$$$$\n")
    truncated = "$$$$\n".join(blocks[:2]) + "$$$$\n" + blocks[2][: len(blocks[2]) // 3]
    path = tmp_path / "t.sdf.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(truncated)
    records = list(read_molecules(path))
    assert len(records) == 3
    assert records[0].ok and records[1].ok
    assert not records[2].ok and records[2].error


def test_parquet_and_tsv(tmp_path):
    frame = pd.DataFrame({"Canonical_SMILES": ["CCO", "bad", "c1ccccc1"], "ID": ["x", "y", "z"]})
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_csv(tmp_path / "t.tsv", sep="\t", index=False)
    for name in ("t.parquet", "t.tsv"):
        records = list(read_molecules(tmp_path / name, chunk_size=2))
        assert [r.id for r in records] == ["x", "y", "z"]
        assert [r.ok for r in records] == [True, False, True]


def test_standardize_removes_salt_and_charge(tmp_path):
    path = tmp_path / "s.smi"
    path.write_text("C[NH3+].[Cl-] salt\nCC(=O)[O-].[Na+] acetate\n")
    plain = [Chem.MolToSmiles(r.mol) for r in read_molecules(path)]
    std = [Chem.MolToSmiles(r.mol) for r in read_molecules(path, standardize=True)]
    assert plain[0] == "C[NH3+].[Cl-]"
    assert std == ["CN", "CC(=O)O"]


def test_fast_parse_matches_rdkit(shared_data):
    smiles = pd.read_csv(shared_data / "molnet" / "bbbp.csv")["smiles"].tolist()[:500]
    for s in smiles:
        reference = Chem.MolFromSmiles(s)
        if reference is None:
            continue
        assert Chem.MolToSmiles(smiles_to_mol(s)) == Chem.MolToSmiles(reference)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet=st.sampled_from(list("CNOSclnos()[]=#@+-123456789%/\\.H ")), max_size=40)
    | st.text(max_size=40)
)
def test_random_strings_never_crash(text):
    (record,) = MoleculeParser().parse_chunk([RawRecord(0, None, text)])
    assert record.row == 0
    assert record.ok or (isinstance(record.error, str) and record.error)
    assert record.ok == (record.mol is not None)
