"""The embedded demo runs on data RDKit ships (no shared data needed)."""

import pandas as pd
import pytest

from biomodels.report import draw_top_compounds
from biomodels.screen.demo import activity_table, run_demo


def test_activity_table_joins_all_compounds(tmp_path):
    table = pd.read_csv(activity_table(tmp_path))
    assert len(table) == 1017
    assert list(table.columns) == ["smiles", "id", "Act"]
    assert table["Act"].between(3, 11).all()


def test_demo_ranks_the_nci_library(tmp_path):
    result = run_demo(tmp_path, ensemble=2, epochs=1, top=5)
    assert result.screen.rows == 4999
    assert result.screen.scored + result.screen.invalid == 4999
    top = pd.read_csv(result.top_csv)
    assert len(top) == 5
    assert top["predicted_Act"].is_monotonic_decreasing
    assert (top["uncertainty"] >= 0).all()
    scored = pd.read_parquet(tmp_path / "nci_scored.parquet")
    assert scored["row"].tolist() == list(range(4999))
    assert (
        top["nn_similarity"] >= result.min_similarity
    ).all() and 5 <= result.in_domain < result.screen.scored
    assert result.min_similarity == 0.3 and top["nn_id"].notna().all()
    best = scored.set_index("row").loc[top["row"].iloc[0], "Act"]
    assert top["predicted_Act"].iloc[0] == pytest.approx(float(best), rel=1e-6)
    assert draw_top_compounds(result.top, tmp_path / "top.png", result.score).stat().st_size > 10_000
    for name in (
        "metrics.json",
        "predictions_test.csv",
        "model/model.json",
        "model/member_1/weights.safetensors",
    ):
        assert (result.train.run_dir / name).exists()
