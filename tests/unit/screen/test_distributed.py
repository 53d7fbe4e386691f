"""Dask: a two-worker local cluster gives the single-process output row for row, and is closed."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

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


def _worker_settings() -> tuple[str | None, bool]:
    import os

    import dask

    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), dask.config.get("distributed.worker.profile.enabled")


def test_local_workers_keep_the_adaptive_malloc_thresholds_and_do_not_profile():
    """The nanny's fixed trim threshold makes every large tensor an mmap: about 1.5x the CPU."""
    from biomodels.screen.distributed import dask_client

    with dask_client("local", workers=1) as client:
        assert list(client.run(_worker_settings).values()) == [(None, False)]


def test_tune_allocator_resets_a_fixed_trim_threshold_once():
    script = (
        "from biomodels.screen.distributed import tune_allocator; print(tune_allocator(), tune_allocator())"
    )
    fixed = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=fixed, capture_output=True, text=True, timeout=120
    )
    expected = "True False" if platform.libc_ver()[0] == "glibc" else "False False"
    assert done.stdout.strip() == expected, done.stderr[-2000:]
    plain = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=plain, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "False False", done.stderr[-2000:]


def test_cascade_on_a_local_cluster_equals_the_single_process_cascade(run_a, library, tmp_path):
    from biomodels.screen import CascadeConfig

    cascade, ranking = CascadeConfig(sample=0.3, keep=0.2, bits=256), RankingConfig(top=10)
    local = screen(
        [run_a],
        library,
        tmp_path / "local.parquet",
        ScreenConfig(chunk_size=70, workers=1),
        ranking,
        cascade=cascade,
    )
    cluster = screen(
        [run_a],
        library,
        tmp_path / "dask.parquet",
        ScreenConfig(chunk_size=70, workers=2, scheduler="local"),
        ranking,
        cascade=cascade,
    )
    expected, got = pd.read_parquet(local.out), pd.read_parquet(cluster.out)
    assert got["row"].tolist() == list(range(300))
    assert got["scored_by"].tolist() == expected["scored_by"].tolist()
    pd.testing.assert_frame_equal(got, expected, rtol=1e-5)
    assert cluster.cascade["spearman"] == pytest.approx(local.cascade["spearman"])
