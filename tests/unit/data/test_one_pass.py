"""Read once, parse once: a table, its targets and every featurizer from one pass over the file."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem, RDConfig

import biomodels.featurize.batch as batch
import biomodels.io.molecules as molecules
from biomodels.data.dataset import MoleculeTable
from biomodels.exceptions import ColumnNotFoundError
from biomodels.featurize import featurize_file, get_featurizer
from biomodels.featurize.molecular import GraphFeaturizer, MorganCountFeaturizer

FREE_WILSON = Path(RDConfig.RDContribDir) / "FreeWilson" / "data"
BAD = {5: "C1CC(", 40: "", 77: "N(C)(C)(C)(C)C"}
EXTRAS = ["rdkit2d", "morgan", "morgan_count"]


@pytest.fixture
def activity_csv(tmp_path) -> Path:
    """RDKit's CHEMBL2321810 compounds (shipped with RDKit) with their activity, three rows bad."""
    smiles = pd.read_csv(FREE_WILSON / "CHEMBL2321810.smi", sep=" ", header=None, names=["smiles", "Name"])
    table = smiles.merge(pd.read_csv(FREE_WILSON / "CHEMBL2321810_act.csv"), on="Name")
    for row, text in BAD.items():
        table.loc[row, "smiles"] = text
    path = tmp_path / "activity.csv"
    table.rename(columns={"Name": "id", "Act": "act"})[["smiles", "id", "act"]].to_csv(path, index=False)
    return path


@pytest.fixture
def counter(monkeypatch):
    """Counts SMILES parses (``Chem.MolFromSmiles``, under the reader and everywhere else) and
    reads of molecule files (``iter_raw_chunks``, under every name it is imported by)."""
    counts = {"parses": collections.Counter(), "reads": collections.Counter()}
    parse = Chem.MolFromSmiles

    def counting_parse(smiles, *args, **kwargs):
        counts["parses"][smiles] += 1
        return parse(smiles, *args, **kwargs)

    read = molecules.iter_raw_chunks

    def counting_read(path, *args, **kwargs):
        counts["reads"][str(path)] += 1
        return read(path, *args, **kwargs)

    monkeypatch.setattr(Chem, "MolFromSmiles", counting_parse)
    for module in (molecules, batch):
        monkeypatch.setattr(module, "iter_raw_chunks", counting_read)
    return counts


def parsed_smiles(path: Path) -> list[str]:
    """The SMILES of ``path`` that reach RDKit's parser (empty ones are rejected before it)."""
    return [s for s in pd.read_csv(path, keep_default_na=False)["smiles"] if s.strip()]


def test_from_file_reads_once_and_parses_each_smiles_once(activity_csv, counter):
    table = MoleculeTable.from_file(activity_csv, "act", workers=1, use_cache=False, extra_features=EXTRAS)
    expected = parsed_smiles(activity_csv)
    assert counter["reads"] == {str(activity_csv): 1}
    assert sum(counter["parses"].values()) == len(expected)
    assert set(counter["parses"]) == set(expected) and max(counter["parses"].values()) == 1
    assert len(table.meta) == 1017 and len(table) == 1014
    assert sorted(table.features) == sorted(EXTRAS)


def test_one_pass_equals_one_featurizer_at_a_time(activity_csv):
    table = MoleculeTable.from_file(activity_csv, "act", workers=2, use_cache=False, extra_features=EXTRAS)
    graph = featurize_file(activity_csv, "graph", workers=1, chunk_size=300)
    pd.testing.assert_frame_equal(table.meta, graph.meta)
    assert np.array_equal(table.valid, graph.valid)
    for name, value in vars(graph.features).items():
        assert getattr(table.graphs, name).tobytes() == value.tobytes(), name
    for name in EXTRAS:
        alone = np.asarray(featurize_file(activity_csv, name, workers=1).features, dtype=np.float32)
        assert table.features[name].dtype == np.float32 and table.features[name].tobytes() == alone.tobytes()
    acts = pd.read_csv(activity_csv)["act"].to_numpy(np.float32)[table.valid]
    assert table.targets[:, 0].tobytes() == acts.tobytes()
    assert table.features_of("morgan_count") is table.features["morgan_count"]
    other = MorganCountFeaturizer(radius=3, size=512)  # not the one carried: computed from SMILES
    assert np.array_equal(
        table.features_of(other), other.featurize_chunk([Chem.MolFromSmiles(s) for s in table.smiles])
    )


def test_cache_reuses_graphs_when_a_featurizer_is_added(activity_csv, counter, tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path / "cache"))
    graph_calls = []
    featurize_graph = GraphFeaturizer.featurize_chunk
    monkeypatch.setattr(
        GraphFeaturizer,
        "featurize_chunk",
        lambda self, *a: graph_calls.append(1) or featurize_graph(self, *a),
    )
    first = MoleculeTable.from_file(activity_csv, "act", workers=1)
    assert graph_calls and max(counter["parses"].values()) == 1
    graph_calls.clear()
    counter["parses"].clear()
    second = MoleculeTable.from_file(activity_csv, "act", workers=1, extra_features=["morgan"])
    assert not graph_calls  # the graphs came from the cache; morgan from one parse
    assert sum(counter["parses"].values()) == len(parsed_smiles(activity_csv))
    assert second.graphs.atom_codes.tobytes() == first.graphs.atom_codes.tobytes()
    counter["parses"].clear()
    counter["reads"].clear()
    third = MoleculeTable.from_file(activity_csv, "act", workers=1, extra_features=["morgan"])
    assert not counter["parses"] and not counter["reads"]  # features, meta and targets all cached
    assert third.features["morgan"].tobytes() == second.features["morgan"].tobytes()
    assert third.targets.tobytes() == second.targets.tobytes()
    pd.testing.assert_frame_equal(third.meta, second.meta)
    names = sorted(p.name.split("-")[0] for p in (tmp_path / "cache").iterdir())
    assert names == ["columns", "graph", "morgan"]


def test_new_target_with_cached_features_reads_without_parsing(tmp_path, counter, monkeypatch):
    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "t.csv"
    path.write_text("smiles,a,b\nCCO,1,0.5\nc1ccccc1,0,\nbad(,1,2\n")
    MoleculeTable.from_file(path, "a", workers=1)
    counter["parses"].clear()
    table = MoleculeTable.from_file(path, "b", workers=1)
    assert not counter["parses"]
    assert table.targets[:, 0].tolist()[0] == 0.5 and np.isnan(table.targets[1, 0])
    with pytest.raises(ColumnNotFoundError, match="'c' not found; columns are: a, b"):
        MoleculeTable.from_file(path, "c", workers=1)


def test_unknown_column_fails_before_parsing(activity_csv, counter):
    with pytest.raises(ColumnNotFoundError, match="'nope' not found"):
        MoleculeTable.from_file(activity_csv, "nope", workers=1, use_cache=False)
    assert not counter["parses"]


def test_sdf_targets_are_its_sd_properties(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path / "cache"))
    sdf = FREE_WILSON / "cmet_ligands.sdf"
    table = MoleculeTable.from_file(sdf, "r_exp_dg", workers=1, extra_features="morgan")
    expected = [m.GetDoubleProp("r_exp_dg") for m in Chem.SDMolSupplier(str(sdf))]
    assert table.task == "regression" and len(table) == 24
    assert np.allclose(table.targets[:, 0], expected)
    cached = MoleculeTable.from_file(sdf, "r_exp_dg", workers=1, extra_features="morgan")
    assert cached.targets.tobytes() == table.targets.tobytes()
    with pytest.raises(ColumnNotFoundError, match="'nope' not found; columns are: r_exp_dg"):
        MoleculeTable.from_file(sdf, "nope", workers=1, use_cache=False)


def test_featurizers_must_have_distinct_names(activity_csv):
    with pytest.raises(ValueError, match="distinct names"):
        featurize_file(activity_csv, ["morgan", get_featurizer("morgan", radius=3)])


def test_forest_training_run_parses_each_smiles_once(activity_csv, counter, tmp_path, monkeypatch):
    from biomodels.train.run import TrainRunConfig, load_run, train_run

    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path / "cache"))
    config = TrainRunConfig(
        data=str(activity_csv), model="rf", targets=["act"], params={"n_estimators": 20}, workers=1
    )
    result = train_run(config, tmp_path / "run")
    assert counter["reads"] == {str(activity_csv): 1}
    assert set(counter["parses"]) == set(parsed_smiles(activity_csv))
    assert max(counter["parses"].values()) == 1  # fit, predictions and metrics all read the table
    assert result.metrics["test"]["mean"]["r2"] > 0.3
    test = result.data.test  # the fingerprints carried by the table give what molecules give
    from_mols = load_run(tmp_path / "run").predict(test.smiles)
    assert np.allclose(from_mols["act"], result.model.predict(test)["act"], atol=1e-6)
