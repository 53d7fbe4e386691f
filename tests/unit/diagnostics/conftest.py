"""Fixtures of the diagnostics tests: one torch thread (fast on a loaded 2-core machine), tiny data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every diagnostics test runs on one torch thread (the shared ``one_thread`` fixture)."""
    yield


def _medical_file(shared_data: Path, name: str) -> Path:
    path = shared_data / "medical" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def pneumonia_path(shared_data: Path) -> Path:
    return _medical_file(shared_data, "pneumoniamnist.npz")


@pytest.fixture(scope="session")
def symptoms_path(shared_data: Path) -> Path:
    return _medical_file(shared_data, "symptom2disease.csv")


@pytest.fixture(scope="session")
def tiny_npz(pneumonia_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MedMNIST-layout subset: 64 train, 16 val, 24 test images, both classes balanced."""
    with np.load(pneumonia_path) as data:
        arrays = {}
        for split, n in (("train", 64), ("val", 16), ("test", 24)):
            labels = data[f"{split}_labels"][:, 0]
            rows = np.concatenate([np.flatnonzero(labels == c)[: n // 2] for c in (0, 1)])
            arrays[f"{split}_images"] = data[f"{split}_images"][rows]
            arrays[f"{split}_labels"] = data[f"{split}_labels"][rows]
    path = tmp_path_factory.mktemp("npz") / "tiny.npz"
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="session")
def tiny_texts(symptoms_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Symptom2Disease rows of four diagnoses, 10 texts each."""
    import pandas as pd

    frame = pd.read_csv(symptoms_path)
    keep = sorted(frame["label"].unique())[:4]
    frame = frame[frame["label"].isin(keep)].groupby("label").head(10)
    path = tmp_path_factory.mktemp("texts") / "tiny.csv"
    frame.to_csv(path, index=False)
    return path
