"""The run's side outputs: top and diverse CSVs and a self-contained HTML report."""

from __future__ import annotations

import re

import pandas as pd

from biomodels.screen import RankingConfig, ScreenConfig, screen


def test_report_holds_counts_histograms_and_the_top_grid(run_a, library, tmp_path):
    out = tmp_path / "hits.parquet"
    summary = screen(
        [run_a],
        library,
        out,
        ScreenConfig(filters="pains,qed>=0.3", chunk_size=100, workers=1),
        RankingConfig(top=12, diverse=4, acquisition="ucb"),
    )
    assert summary.rows == 300 and summary.invalid == 4 and summary.scored == 296
    assert summary.filter_counts["pass_pains"] <= 296 and "passes_all" in summary.filter_counts
    top = pd.read_csv(summary.top_csv)
    assert summary.top_csv == tmp_path / "hits.top.csv" and len(top) == 12
    diverse = pd.read_csv(tmp_path / "hits.diverse.csv")
    assert len(diverse) == 4 and diverse["row"].is_unique and diverse["row"].iloc[0] == top["row"].iloc[0]
    html = (tmp_path / "hits.report.html").read_text()
    assert summary.report == tmp_path / "hits.report.html"
    assert html.count("<svg") == 2  # the top grid and the diverse grid
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 2 + 6  # logp, std, 6 properties
    for mol_id in top["id"].astype(str):
        assert f"<td>{mol_id}</td>" in html  # the table under the grid (legends are drawn as paths)
    assert "Explicit valence for atom" in html and "pass_pains" not in html and "pains" in html
    assert "pains,qed&gt;=0.3" in html and "rdkit" in html
    assert not re.search(r"(src|href)=.https?:", html) and "<link" not in html  # nothing fetched
