import numpy as np
import pandas as pd
import pytest
import torch

from biomodels.featurize import featurize_file
from biomodels.featurize.output import write_featurized


@pytest.fixture
def mixed_csv(tmp_path):
    path = tmp_path / "m.csv"
    rows = ["CCO", "C1CC(", "c1ccccc1", "", "CC(=O)O"] * 3
    pd.DataFrame({"smiles": rows, "id": [f"m{i}" for i in range(len(rows))]}).to_csv(path, index=False)
    return path


def test_parallel_equals_serial_and_keeps_order(mixed_csv):
    serial = featurize_file(mixed_csv, "graph", workers=1, chunk_size=4)
    parallel = featurize_file(mixed_csv, "graph", workers=2, chunk_size=4)
    assert serial.meta["row"].tolist() == list(range(15))
    assert serial.meta["id"].tolist() == parallel.meta["id"].tolist()
    assert np.array_equal(serial.features.atom_codes, parallel.features.atom_codes)
    assert serial.valid.sum() == 9 and len(serial.features) == 9


def test_cache_round_trip(mixed_csv, tmp_path):
    first = featurize_file(mixed_csv, "morgan", use_cache=True, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 1
    second = featurize_file(mixed_csv, "morgan", use_cache=True, cache_dir=tmp_path / "cache")
    assert np.array_equal(first.features, second.features)
    pd.testing.assert_frame_equal(first.meta, second.meta)
    # a different featurizer config is a different entry
    featurize_file(mixed_csv, "morgan_count", use_cache=True, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_outputs_account_for_every_row(mixed_csv, tmp_path):
    table = featurize_file(mixed_csv, "graph")
    report = write_featurized(table, tmp_path / "out.parquet")
    out = pd.read_parquet(tmp_path / "out.parquet")
    errors = pd.read_csv(report)
    assert len(out) == 15 and len(errors) == 6
    assert set(errors["row"]) | set(out.loc[out["error"].isna(), "row"]) == set(range(15))
    assert out["atom_codes"].isna().sum() == 6
    write_featurized(table, tmp_path / "out.pt")
    payload = torch.load(tmp_path / "out.pt", weights_only=True)
    assert payload["valid"].sum() == 9 and len(payload["id"]) == 15
