"""The generation benchmark's MOSES table: every metric of a row read from its own key."""

from __future__ import annotations

import json

from rich.console import Console


def test_summarised_rows_show_every_metric_and_the_published_row(generation, results):
    row = json.loads((results / "generation-prior.json").read_text())["prior"]
    console = Console(width=400, record=True)
    console.print(generation.distribution_table({"prior": row}))
    lines = console.export_text().splitlines()
    ours = next(line for line in lines if "(ours" in line)
    published = next(line for line in lines if "published" in line)
    assert "nan" not in ours
    assert f"{row['unique@10000']:.3f}" in ours and f"{row['FCD/Test']:.3f}" in ours
    assert "0.073" in published and "0.601" in published  # MOSES's CharRNN FCD and SNN
