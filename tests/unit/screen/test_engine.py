"""Screening chunks: every row exactly once, invalid rows explained, filters, the iterator form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import biomodels.screen as screen_package
from biomodels.chem.domain import DOMAIN_COLUMNS
from biomodels.exceptions import InputError, UnknownNameError
from biomodels.io.molecules import iter_raw_chunks
from biomodels.screen import DEFAULT_PROPERTIES, ScreenConfig, iter_screen
from biomodels.screen.engine import ScreenJob, load_models

from .conftest import BAD_ROWS


@pytest.mark.parametrize("workers", [1, 2])
def test_every_row_once_with_invalid_rows(run_a, library, workers):
    config = ScreenConfig(chunk_size=37, workers=workers)
    frames = list(iter_screen([run_a], library, config))
    assert [len(f) for f in frames[:-1]] == [37] * (len(frames) - 1)
    out = pd.concat(frames, ignore_index=True)
    assert out["row"].tolist() == list(range(300))
    assert list(out.columns) == [
        *("row", "id", "smiles", "logp", "logp_std", "logp_in_range", *DOMAIN_COLUMNS, *DEFAULT_PROPERTIES),
        *("pass_organic", "organic_match", "pass_fragments<=1", "pass_heavy_atoms>=8"),
        *("pass_heavy_atoms<=70", "passes_all", "error"),
    ]  # the sane-chemistry filters run by default
    bad = out[out["error"].notna()]
    assert sorted(bad["row"]) == sorted(BAD_ROWS)
    assert bad.loc[bad["row"] == 10, "error"].item() == "empty SMILES"
    assert "valence" in bad.loc[bad["row"] == 17, "error"].item().lower()
    assert bad[["logp", "logp_std", "mw"]].isna().all().all()
    good = out.drop(bad.index)
    assert good[["logp", "logp_std", *DEFAULT_PROPERTIES]].notna().all().all()
    assert (good["logp_std"] > 0).all()  # two ensemble members disagree
    assert out.loc[0, "id"] == "1" and out.loc[3, "id"] == "bad3"


@pytest.mark.parametrize("pool", ["threads", "processes"])
def test_pools_equal_in_process(run_a, library, pool):
    """Invalid rows keep their own RDKit reason when threads parse side by side."""
    one = pd.concat(iter_screen([run_a], library, ScreenConfig(chunk_size=20, workers=1)), ignore_index=True)
    config = ScreenConfig(chunk_size=20, workers=2, pool=pool)
    two = pd.concat(iter_screen([run_a], library, config), ignore_index=True)
    pd.testing.assert_frame_equal(one, two)


def test_filters_agree_with_rdkit_on_known_molecules(run_a, run_b, tmp_path):
    lib = tmp_path / "known.smi"
    lib.write_text(
        "CC(=O)Oc1ccccc1C(=O)O aspirin\nO=C1NC(=S)SC1=Cc1ccccc1 rhodanine\n"
        "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC(=O)O long\n"
    )
    config = ScreenConfig(filters="lipinski,pains,qed>=0.3", workers=1)
    out = pd.concat(iter_screen([run_a, run_b], lib, config), ignore_index=True).set_index("id")
    assert out.loc["aspirin", "pass_lipinski"] and out.loc["aspirin", "pass_pains"]
    assert not out.loc["rhodanine", "pass_pains"] and "ene_rhod" in out.loc["rhodanine", "pains_match"]
    assert not out.loc["long", "pass_lipinski"]  # MW and logP both over
    assert out.loc["aspirin", "mw"] == pytest.approx(180.159, abs=1e-3)
    assert {"a:logp", "a:logp_std", "b:solubility", "b:potency_std", "passes_all"} <= set(out.columns)
    assert out["a:logp"].notna().all()  # filters flag, they do not stop scoring by default


def test_filter_first_skips_inference_but_keeps_rows(run_a, library):
    config = ScreenConfig(filters="pains,mw<300", filter_first=True, chunk_size=100, workers=1)
    out = pd.concat(iter_screen([run_a], library, config), ignore_index=True)
    assert out["row"].tolist() == list(range(300))
    skipped = out["note"].notna()
    assert skipped.any() and (~out.loc[skipped, "passes_all"]).all()
    assert out.loc[skipped, "logp"].isna().all() and out.loc[skipped, "error"].isna().all()
    assert out.loc[skipped, "note"].str.startswith("not scored: failed ").all()
    heavy = out["mw"] >= 300
    assert out.loc[heavy & out["error"].isna(), "note"].str.contains("mw<300").all()
    scored = out["error"].isna() & ~skipped
    assert out.loc[scored, "passes_all"].all() and out.loc[scored, "logp"].notna().all()


def test_properties_are_optional_and_qed_sa_computed_when_filtered(run_a, library):
    raws = next(iter_raw_chunks(library, chunk_size=20))
    models = load_models([run_a])
    bare = ScreenJob.from_config(ScreenConfig(properties=[], sanity=None, domain=False)).screen(models, raws)
    assert list(bare.columns) == ["row", "id", "smiles", "logp", "logp_std", "error"]
    job = ScreenJob.from_config(ScreenConfig(properties=["qed"], filters="sa<=4"))
    frame = job.screen(models, raws)
    assert {"qed", "pass_sa<=4"} <= set(frame.columns) and "sa" not in frame.columns
    assert np.isfinite(frame.loc[frame["error"].isna(), "qed"]).all()


def test_bad_settings_are_named():
    with pytest.raises(UnknownNameError, match="choose one of"):
        ScreenConfig(properties=["weight"])
    with pytest.raises(InputError, match="filter-first needs filters"):
        ScreenConfig(filter_first=True, sanity=None)
    with pytest.raises(InputError, match=r"min-similarity must be in \[0, 1\]"):
        ScreenConfig(min_similarity=1.5)
    with pytest.raises(UnknownNameError, match="threads"):
        ScreenConfig(pool="fibers")


def test_every_exported_name_exists():
    assert all(hasattr(screen_package, name) for name in screen_package.__all__)
    wanted = {"screen", "iter_screen", "ScreenConfig", "RankingConfig", "ScreenSummary"}
    assert wanted <= set(screen_package.__all__)


def test_each_smiles_parsed_once_for_every_model_and_filter(run_a, run_b, library, tmp_path, monkeypatch):
    """A forest (Morgan counts), two GNNs (graphs), properties and filters share one parse."""
    import collections

    from rdkit import Chem

    import biomodels.io.molecules as molecules
    import biomodels.screen.engine as engine
    from biomodels.train.run import TrainRunConfig, train_run

    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "train.csv"
    smiles = [line.split()[0] for line in library.read_text().splitlines()[30:130]]
    pd.DataFrame({"smiles": smiles, "y": np.arange(len(smiles)) % 7}).to_csv(data, index=False)
    forest = train_run(
        TrainRunConfig(data=str(data), model="rf", targets=["y"], params={"n_estimators": 5}, workers=1),
        tmp_path / "rf",
    ).run_dir
    parses, reads = collections.Counter(), collections.Counter()
    parse, read = Chem.MolFromSmiles, molecules.iter_raw_chunks
    monkeypatch.setattr(Chem, "MolFromSmiles", lambda s, *a, **k: parses.update([s]) or parse(s, *a, **k))
    monkeypatch.setattr(engine, "iter_raw_chunks", lambda p, *a, **k: reads.update([p]) or read(p, *a, **k))
    config = ScreenConfig(chunk_size=64, workers=1, filters="qed>=0.3,pains")
    out = pd.concat(iter_screen([forest, run_a, run_b], library, config), ignore_index=True)
    assert len(out) == 300 and out["rf:y"].notna().sum() == 296
    assert reads == {library: 1}
    assert sum(parses.values()) == 299 and max(parses.values()) == 1  # the empty row is not parsed
