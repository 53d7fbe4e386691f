"""Dask: a two-worker local cluster gives the single-process output row for row, and is closed."""

from __future__ import annotations

import pandas as pd
import psutil
import pytest

from biomodels.screen import RankingConfig, ScreenConfig, screen

pytest.importorskip("distributed")


def test_local_cluster_equals_single_process(run_a, run_b, library, tmp_path):
    ranking = RankingConfig(top=15)
    local = screen(
        [run_a, run_b],
        library,
        tmp_path / "local.parquet",
        ScreenConfig(chunk_size=70, workers=1, filters="lipinski"),
        ranking,
    )
    cluster = screen(
        [run_a, run_b],
        library,
        tmp_path / "dask.parquet",
        ScreenConfig(chunk_size=70, workers=2, filters="lipinski", scheduler="local"),
        ranking,
    )
    expected, got = pd.read_parquet(local.out), pd.read_parquet(cluster.out)
    assert got["row"].tolist() == list(range(300))
    pd.testing.assert_frame_equal(got, expected, rtol=1e-5)  # batches differ: float rounding only
    assert cluster.top["row"].tolist() == local.top["row"].tolist()
    children = [" ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)]
    assert not [c for c in children if "resource_tracker" not in c]  # the cluster's processes are gone
