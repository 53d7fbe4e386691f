"""Ranking while streaming equals ranking the whole table; acquisitions; Pareto; diverse picks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from biomodels.exceptions import InputError
from biomodels.screen import Ranker, RankingConfig, pick_diverse
from biomodels.screen.ranking import DOMINATED_BY, SCORE, dominated_counts, objective

from .conftest import NCI


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "row": np.arange(n),
            "smiles": NCI.read_text().split()[: 2 * n : 2],
            "a": rng.normal(size=n).round(1),
            "a_std": rng.uniform(0, 1, n),
            "b": rng.normal(size=n),
            "error": None,
        }
    )
    frame.loc[rng.choice(n, 30, replace=False), "error"] = "bad"
    frame.loc[frame["error"].notna(), ["a", "b"]] = np.nan
    return frame


def _stream(ranker: Ranker, frame: pd.DataFrame, chunk: int) -> Ranker:
    for start in range(0, len(frame), chunk):
        ranker.update(frame.iloc[start : start + chunk])
    return ranker


@pytest.mark.parametrize(
    "config",
    [
        RankingConfig(top=25),
        RankingConfig(top=25, ascending=True),
        RankingConfig(top=40, acquisition="ucb", kappa=2.0),
    ],
)
def test_bounded_top_k_equals_full_sort(config):
    frame = _table()  # "a" is rounded: many ties, broken by row
    top = _stream(Ranker(config, ["a"]), frame, chunk=47).result()
    ok = frame["error"].isna()
    scored = frame[ok].assign(**{SCORE: objective(frame, "a", config)[ok]})
    expected = scored.sort_values([SCORE, "row"], ascending=[False, True]).head(config.top)
    assert top["row"].tolist() == expected["row"].tolist()
    assert top["rank"].tolist() == list(range(1, config.top + 1))
    assert len(_stream(Ranker(config, ["a"]), frame, chunk=47)._best) <= config.pool


def test_acquisitions():
    frame = pd.DataFrame({"y": [1.0, 2.0, 2.0], "y_std": [1.0, 0.0, 2.0]})
    assert objective(frame, "y", RankingConfig(acquisition="ucb", kappa=2)).tolist() == [3.0, 2.0, 6.0]
    prob = objective(frame, "y", RankingConfig(acquisition="prob", threshold=2.0))
    assert prob == pytest.approx([0.158655, 0.0, 0.5], abs=1e-5)
    below = objective(frame, "y", RankingConfig(acquisition="prob", threshold=2.5, ascending=True))
    assert below[1] == 1.0 and below[0] > 0.9
    with pytest.raises(InputError, match="threshold"):
        RankingConfig(acquisition="prob")


def test_weighted_sum_of_several_columns():
    frame = _table()
    config = RankingConfig(top=10, weights=[1.0, -0.5])
    top = _stream(Ranker(config, ["a", "b"]), frame, chunk=100).result()
    ok = frame[frame["error"].isna()]
    expected = ok.assign(s=ok["a"] - 0.5 * ok["b"]).sort_values(["s", "row"], ascending=[False, True])
    assert top["row"].tolist() == expected["row"].head(10).tolist()


def test_pareto_ranks_by_dominance_count_exactly():
    frame = _table(400)
    config = RankingConfig(top=15, pareto=True)
    top = _stream(Ranker(config, ["a", "b"]), frame, chunk=64).result()
    ok = frame[frame["error"].isna()].reset_index(drop=True)
    points = ok[["a", "b"]].to_numpy()
    counts = dominated_counts(points, points)
    ok = ok.assign(count=counts, s=ok["a"] + ok["b"])
    expected = ok.sort_values(["count", "s", "row"], ascending=[True, False, True]).head(15)
    assert top["row"].tolist() == expected["row"].tolist()
    assert top[DOMINATED_BY].tolist() == expected["count"].tolist()
    assert top[DOMINATED_BY].iloc[0] == 0


def test_filters_and_notes_exclude_rows():
    frame = _table(50).assign(passes_all=True, note=None)
    frame.loc[frame["a"].idxmax(), "passes_all"] = False
    frame.loc[frame["b"].idxmax(), "note"] = "not scored: failed pains"
    top = _stream(Ranker(RankingConfig(top=50), ["a"]), frame, chunk=50).result()
    assert frame["a"].idxmax() not in top["row"].tolist() and frame["b"].idxmax() not in top["row"].tolist()


def test_ranking_excludes_out_of_domain_rows_by_default():
    frame = _table(200)
    best = frame["a"].nlargest(5).index
    frame["in_domain"] = pd.array([True] * len(frame), dtype="boolean")
    frame.loc[best[:3], "in_domain"] = False  # the three best predictions are extrapolations
    frame.loc[frame["error"].notna(), "in_domain"] = pd.NA
    top = _stream(Ranker(RankingConfig(top=10), ["a"]), frame, chunk=37).result()
    assert not set(best[:3]) & set(top["row"]) and top["in_domain"].all() and best[3] in set(top["row"])
    everything = _stream(Ranker(RankingConfig(top=10, include_out_of_domain=True), ["a"]), frame, 37).result()
    assert set(best) <= set(everything["row"])
    # with several models a row must lie in every model's domain
    two = frame.rename(columns={"in_domain": "m1:in_domain"}).assign(**{"m2:in_domain": True})
    two.loc[best[3], "m2:in_domain"] = False
    top = _stream(Ranker(RankingConfig(top=10), ["a"]), two, chunk=50).result()
    assert not set(best[:4]) & set(top["row"])


def test_rank_by_unknown_column_lists_columns():
    with pytest.raises(InputError, match="no such column; columns are: row, logp"):
        RankingConfig(rank_by=["lopg"]).columns(["row", "logp"], ["logp"])


def test_diverse_picks_are_distinct_and_k_long():
    frame = _table(200)
    valid = frame["smiles"].map(lambda s: Chem.MolFromSmiles(s) is not None)
    candidates = frame[valid].reset_index(drop=True)
    picks = pick_diverse(candidates, 12, seed=3)
    assert len(picks) == 12 and picks["row"].is_unique
    assert picks["row"].iloc[0] == candidates["row"].iloc[0]  # starts from the best
    canonical = {Chem.CanonSmiles(s) for s in picks["smiles"]}
    assert len(canonical) == 12
    assert pick_diverse(candidates.head(5), 12)["row"].tolist() == candidates["row"].head(5).tolist()
