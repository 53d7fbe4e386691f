"""The screening report is drawn from a summary alone: counts, filters, histograms, grids, settings."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from biomodels.report.screen import screen_report_path, write_screen_report
from biomodels.screen.summary import ScreenSummary

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "O=C(O)c1ccccc1"]


def _summary(out: Path) -> ScreenSummary:
    rng = np.random.default_rng(0)
    top = pd.DataFrame(
        {
            "rank": range(1, 6),
            "rank_score": np.linspace(2.0, 1.0, 5),
            "row": [4, 9, 0, 7, 2],
            "id": ["m4", "m9", "m0", None, "m2"],
            "smiles": SMILES,
            "logp": np.linspace(2.0, 1.0, 5),
            "logp_std": np.full(5, 0.1),
        }
    )
    sample = pd.DataFrame({"logp": rng.normal(size=40), "logp_std": rng.random(40), "mw": rng.random(40)})
    return ScreenSummary(
        out=out,
        rows=50,
        scored=40,
        not_scored_by_filters=6,
        errors={"Explicit valence for atom # 1 N, 5": 4},
        filter_counts={"pass_pains": 44, "passes_all": 44},
        top=top,
        diverse=top.iloc[[0, 3]],
        prediction_columns=["logp"],
        seconds=2.0,
        screened_rows=50,
        sample=sample,
        settings={"screen": {"filters": "pains"}, "library": "lib.smi"},
    )


def test_report_holds_counts_filters_histograms_grids_and_settings(tmp_path):
    summary = _summary(tmp_path / "hits.parquet")
    path = write_screen_report(summary)
    assert path == screen_report_path(summary.out) == tmp_path / "hits.report.html"
    html = path.read_text()
    assert html.count("<svg") == 2  # the top grid and the diverse grid
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 3  # logp, logp_std, mw
    assert "(a uniform sample of 40 rows)" in html
    for mol_id in ("m4", "m9", "m0", "m2"):
        assert f"<td>{mol_id}</td>" in html  # the table under the grid (legends are drawn as paths)
    assert "Explicit valence for atom" in html and "filtered out before scoring" in html
    assert "pass_pains" not in html and "<td>pains</td>" in html
    assert "&quot;filters&quot;: &quot;pains&quot;" in html  # the settings, as JSON
    assert "<td>rdkit</td>" in html and "<td>torch</td>" in html  # the package versions
    assert not re.search(r"(src|href)=.https?:", html) and "<link" not in html  # nothing fetched


def test_report_of_an_empty_run_has_no_figures(tmp_path):
    summary = _summary(tmp_path / "empty.csv")
    summary.sample, summary.top, summary.diverse, summary.errors = None, summary.top.iloc[:0], None, {}
    html = write_screen_report(summary, tmp_path / "elsewhere.html").read_text()
    assert "<svg" not in html and "<img" not in html and "Top ranked" not in html
    assert "Counts" in html and not (tmp_path / "empty.report.html").exists()


def test_report_shows_the_domain_and_each_top_compound_beside_its_neighbour(tmp_path):
    summary = _summary(tmp_path / "hits.parquet")
    summary.top = summary.top.assign(
        nn_similarity=[0.9, 0.5, 0.35, 0.2, 0.31],
        nn_id=["t1", "t2", "t1", "t3", None],
        in_domain=pd.array([True, True, True, False, True], dtype="boolean"),
    )
    summary.sample = summary.sample.assign(nn_similarity=np.linspace(0, 1, 40))
    summary.in_domain, summary.scored = 30, 40
    summary.neighbours = {"nn_id": {"t1": "CCO", "t2": "c1ccccc1", "t3": "CCN"}}
    summary.settings = {**summary.settings, "ranking": {"include_out_of_domain": True}}
    html = write_screen_report(summary).read_text()
    assert "<h2>Applicability domain</h2>" in html and "Rows outside were ranked too" in html
    assert '<td>in domain</td><td class="num">30</td><td>75.0%</td>' in html
    assert '<td>outside</td><td class="num">10</td><td>25.0%</td>' in html
    assert "Top compounds beside their nearest training compound (5)" in html
    assert html.count("<svg") == 3  # top grid, diverse grid, the pairs
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 4  # + nn_similarity
    assert "<th>nn_similarity</th>" in html and "<th>in_domain</th>" in html  # the pick tables
