import numpy as np
import pytest

from biomodels.data.dataset import MoleculeTable, infer_task
from biomodels.exceptions import ColumnNotFoundError, InputError


def test_tox21_multitask_with_missing_labels(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path))
    table = MoleculeTable.from_file(shared_data / "molnet" / "tox21.csv", ["NR-AR", "SR-p53"], workers=1)
    assert table.task == "binary"
    assert len(table) == 7823 and len(table.meta) == 7831
    assert table.targets.shape == (7823, 2)
    assert np.isnan(table.targets).any()
    assert set(np.unique(table.targets[~np.isnan(table.targets)])) == {0.0, 1.0}


def test_regression_with_extra_features(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path))
    table = MoleculeTable.from_file(
        shared_data / "molnet" / "freesolv.csv", "freesolv", workers=1, extra_features="rdkit2d"
    )
    assert table.task == "regression"
    assert table.features["rdkit2d"].shape[0] == len(table) == 642
    assert table.targets[0, 0] == pytest.approx(-11.01)


def test_multiclass_from_text_labels_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "t.csv"
    path.write_text("smiles,kind,value\nCCO,alcohol,1.5\nCC(=O)O,acid,x\nCCCO,alcohol,2\nbad(,acid,3\n")
    table = MoleculeTable.from_file(path, "kind", workers=1)
    assert table.task == "multiclass" and table.classes == ["acid", "alcohol"]
    assert table.targets[:, 0].tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(InputError, match=r"record 1: target 'value' holds non-numeric value 'x'"):
        MoleculeTable.from_file(path, "value", workers=1)
    with pytest.raises(ColumnNotFoundError, match="'nope' not found"):
        MoleculeTable.from_file(path, "nope", workers=1)


def test_infer_task():
    assert infer_task(np.array([[0.0], [1.0], [np.nan]])) == "binary"
    assert infer_task(np.array([[0.0], [2.0]])) == "regression"
