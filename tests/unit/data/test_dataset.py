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
        shared_data / "molnet" / "freesolv.csv", "freesolv", workers=1, extra_features=["rdkit2d"]
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


def _latin1_table(path):
    smiles = ["C" * n + "O" for n in range(1, 21)]
    rows = "".join(f"{s},{0.5 * i},caf\xe9 {i}\n" for i, s in enumerate(smiles))
    path.write_bytes(("smiles,y,name\n" + rows).encode("latin-1"))
    return path


def test_a_latin1_table_is_read_for_training_in_its_encoding(tmp_path, monkeypatch):
    from biomodels.train.estimator import make_model
    from biomodels.train.run import TrainRunConfig

    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path / "cache"))
    path = _latin1_table(tmp_path / "t.csv")
    with pytest.raises(InputError, match=r"t\.csv: line 2: byte 0xe9 is not utf-8 text; .* latin-1"):
        MoleculeTable.from_file(path, "y", workers=1)
    table = MoleculeTable.from_file(path, "y", workers=1, encoding="latin-1")
    assert len(table) == 20 and table.meta["id"].tolist()[:2] == ["caf\xe9 0", "caf\xe9 1"]
    config = TrainRunConfig(data=str(path), model="rf", targets=["y"], workers=1, encoding="latin-1")
    assert make_model("rf").training_data(config).summary["valid"] == 20
    with pytest.raises(InputError, match="unknown text encoding 'klingon'"):
        TrainRunConfig(data=str(path), targets=["y"], encoding="klingon")
