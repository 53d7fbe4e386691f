"""Shared fixtures: the real data sets in ../shared/data, skipped cleanly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the shared public data sets; skips the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA} (see shared/data/SOURCES.md)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def own_cache_dir(tmp_path_factory, monkeypatch):
    """Each test's on-disk cache is a fresh folder: no test reads what another (or a user) cached."""
    monkeypatch.setenv("BIOMODELS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def one_thread():
    """Small models run fastest on one torch thread; the previous setting is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_collection_modifyitems(config, items):
    """Skip `gpu`-marked tests where CUDA is unavailable."""
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
