"""The run's side outputs: top and diverse CSVs, and the data the HTML report is drawn from."""

from __future__ import annotations

import json

import pandas as pd

from biomodels.screen import DEFAULT_PROPERTIES, RankingConfig, ScreenConfig, screen


def test_side_outputs_and_report_data(run_a, library, tmp_path):
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
    # the report's data: a histogram sample of every row's numbers, and the settings
    sample = summary.sample
    assert sample.columns.tolist() == ["logp", "logp_std", "nn_similarity", *DEFAULT_PROPERTIES]
    assert len(sample) == 300 and sample["logp"].notna().sum() == 296
    settings = json.loads(json.dumps(summary.settings))  # JSON-serialisable as it is
    assert settings["screen"]["filters"] == "pains,qed>=0.3" and settings["ranking"]["acquisition"] == "ucb"
    assert settings["run_dirs"] == [str(run_a)] and settings["resumed"] is False
    assert not (tmp_path / "hits.report.html").exists()  # screening writes data; `report` draws
