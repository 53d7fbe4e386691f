"""Cascade screening: every row once, the full model's columns equal the exhaustive screen's on
the rows it rescored, errors kept, the recall estimate, resume in each phase, bad options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biomodels.cli.main import app
from biomodels.exceptions import InputError
from biomodels.screen import CascadeConfig, RankingConfig, ScreenConfig, screen
from biomodels.screen.cascade import SCORED_BY, in_sample, measure
from biomodels.screen.resume import PartStore, parts_dir
from biomodels.screen.surrogate import SurrogateRidge
from biomodels.train.estimator import Estimator

from .conftest import BAD_ROWS, write_library

CONFIG = ScreenConfig(chunk_size=60, workers=1)
CASCADE = CascadeConfig(sample=0.25, keep=0.2, bits=256)  # small: a fast fit
RANKING = RankingConfig(top=10)


class Crash(Exception):
    """Stands for the process dying inside a phase."""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return write_library(tmp_path_factory.mktemp("cascade") / "lib.smi", 600)


@pytest.fixture(scope="module")
def exhaustive(run_a, lib, tmp_path_factory):
    out = tmp_path_factory.mktemp("exhaustive") / "all.parquet"
    screen([run_a], lib, out, CONFIG, RANKING)
    return pd.read_parquet(out)


@pytest.fixture(scope="module")
def cascaded(run_a, lib, tmp_path_factory):
    out = tmp_path_factory.mktemp("cascaded") / "hits.parquet"
    summary = screen([run_a], lib, out, CONFIG, RANKING, cascade=CASCADE)
    return pd.read_parquet(out), summary


def test_every_row_once_and_full_rows_equal_the_exhaustive_screen(exhaustive, cascaded):
    frame, summary = cascaded
    assert frame["row"].tolist() == list(range(600)) == exhaustive["row"].tolist()
    full = (frame[SCORED_BY] == "full").to_numpy()
    surrogate = (frame[SCORED_BY] == "surrogate").to_numpy()
    bad = sorted(BAD_ROWS)
    assert frame.loc[bad, "error"].tolist() == exhaustive.loc[bad, "error"].tolist()
    assert frame.loc[bad, SCORED_BY].isna().all() and (full | surrogate).sum() == 600 - len(bad)
    for column in ("logp", "logp_std", "nn_similarity"):
        np.testing.assert_allclose(frame.loc[full, column], exhaustive.loc[full, column], rtol=1e-5)
    assert frame.loc[full, "nn_id"].tolist() == exhaustive.loc[full, "nn_id"].tolist()
    assert frame.loc[surrogate, "logp"].isna().all() and frame.loc[surrogate, "surrogate_score"].notna().all()
    quality = summary.cascade
    assert quality["full_rows"] == full.sum() and quality["surrogate_rows"] == surrogate.sum()
    sampled = in_sample(np.arange(600), CASCADE.sample, CASCADE.seed) & ~np.isin(np.arange(600), bad)
    assert full[sampled].all()  # every sample row keeps the full model's score
    # the rescored rows are the surrogate's best: none left out scores above the lowest rescored
    rescored = full & ~sampled
    assert frame.loc[surrogate, "surrogate_score"].max() <= frame.loc[rescored, "surrogate_score"].min()
    above = (frame["surrogate_score"] >= frame.loc[rescored, "surrogate_score"].min()).sum()
    assert abs(above / (600 - len(bad)) - quality["rescored_fraction"]) < 0.03
    # ranking uses the full model's score: the top equals the exhaustive top among the full rows
    assert set(summary.top["row"]) <= set(frame.loc[full, "row"])
    loaded = Estimator.load(quality["surrogate"])
    assert isinstance(loaded, SurrogateRidge)
    np.testing.assert_allclose(loaded.predict(frame.loc[full, "smiles"].tolist())["surrogate_score"],
                               frame.loc[full, "surrogate_score"], rtol=1e-5)  # fmt: skip


def test_recall_estimate_against_truth():
    """On a population where the truth is known, the held-out estimate tracks the true recall."""
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200_000)
    predicted = 0.8 * truth + rng.normal(scale=0.35, size=truth.size)
    held = rng.random(truth.size) < 0.05
    config = CascadeConfig(keep=0.05, top=0.01)
    quality = measure(predicted[held], truth[held], truth[held], config)
    cut = np.quantile(predicted, 1 - quality.rescored_fraction)
    top = truth >= np.quantile(truth, 0.99)
    true_recall = (predicted[top] >= cut).mean()
    assert quality.top_rows >= 80
    assert abs(quality.estimated_recall - true_recall) < 0.05
    assert abs(quality.modelled_recall - true_recall) < 0.05
    assert true_recall >= 0.93 and quality.margin >= 0


def _crash_in(monkeypatch, phase: str) -> None:
    """Make the run die in ``phase``: at the second chunk committed to its folder, or while the
    surrogate is saved."""
    if phase == "surrogate":
        monkeypatch.setattr(
            SurrogateRidge, "save", lambda self, path, versions=None: (_ for _ in ()).throw(Crash)
        )
        return
    commit, seen = PartStore.commit, []

    def crashing(self, index, frame):
        if self.folder.name == phase:
            seen.append(index)
            if len(seen) == 2:
                raise Crash
        commit(self, index, frame)

    monkeypatch.setattr(PartStore, "commit", crashing)


@pytest.mark.parametrize("phase", ["sample.parts", "surrogate", "scores.parts", "hits.parquet.parts"])
def test_resume_in_each_phase_equals_uninterrupted(run_a, lib, cascaded, phase, tmp_path, monkeypatch):
    out = tmp_path / "hits.parquet"
    with monkeypatch.context() as patch:
        _crash_in(patch, phase)
        with pytest.raises(Crash):
            screen([run_a], lib, out, CONFIG, RANKING, cascade=CASCADE)
    assert not out.exists() and parts_dir(out).is_dir()
    with pytest.raises(InputError, match="--resume"):
        screen([run_a], lib, out, CONFIG, RANKING, cascade=CASCADE)
    summary = screen([run_a], lib, out, CONFIG, RANKING, resume=True, cascade=CASCADE)
    pd.testing.assert_frame_equal(pd.read_parquet(out), cascaded[0])
    assert summary.cascade["spearman"] == cascaded[1].cascade["spearman"]
    assert not parts_dir(out).exists()


def test_resume_with_other_cascade_options_is_refused(run_a, lib, tmp_path, monkeypatch):
    out = tmp_path / "hits.parquet"
    with monkeypatch.context() as patch:
        _crash_in(patch, "scores.parts")
        with pytest.raises(Crash):
            screen([run_a], lib, out, CONFIG, RANKING, cascade=CASCADE)
    with pytest.raises(InputError, match="options differ"):
        screen(
            [run_a],
            lib,
            out,
            CONFIG,
            RANKING,
            resume=True,
            cascade=CascadeConfig(sample=0.3, keep=0.2, bits=256),
        )


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--keep", "0"], "--keep must be in (0, 1], got 0"),
        (["--sample", "2"], "--sample must be in (0, 1], got 2"),
    ],
)
def test_bad_cascade_options_are_one_line_errors(run_a, lib, tmp_path, flags, message):
    out = tmp_path / "hits.parquet"
    result = CliRunner().invoke(app, ["screen", str(run_a), str(lib), "-o", str(out), "--cascade", *flags])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]
    assert not out.exists() and not parts_dir(out).exists()


def test_the_fit_uses_at_most_max_fit_rows_of_the_sample(run_a, lib, tmp_path):
    capped = CascadeConfig(sample=0.5, keep=0.2, bits=256, max_fit_rows=40)
    summary = screen([run_a], lib, tmp_path / "capped.parquet", CONFIG, RANKING, cascade=capped)
    quality = summary.cascade
    assert quality["fit_rows"] == 40 < quality["sample_rows"] - quality["holdout_rows"]
    assert pd.read_parquet(tmp_path / "capped.parquet")["row"].tolist() == list(range(600))
    with pytest.raises(InputError, match="max_fit_rows"):
        CascadeConfig(max_fit_rows=5)
