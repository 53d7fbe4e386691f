"""A tiny DeepDTA-format directory: 3 compounds x 2 proteins, Kd in nM, one entry missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LIGANDS = {"aspirin": "CC(=O)Oc1ccccc1C(=O)O", "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "ethanol": "CCO"}
PROTEINS = {"KIN1": "MKKLLPTAAAGLLLLAAQPAMA", "KIN2": "MSTNPKPQRKTKRNTNRRPQDVKFPGG"}
KD_NM = "10000 1\n100 nan\n1000 10\n"


def write_deepdta(folder: Path, matrix: str = KD_NM, folds: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ligands_can.txt").write_text(json.dumps(LIGANDS))
    (folder / "proteins.txt").write_text(json.dumps(PROTEINS))
    (folder / "affinity.txt").write_text(matrix)
    if folds:
        (folder / "folds").mkdir(exist_ok=True)
        (folder / "folds" / "train_fold_setting1.txt").write_text(json.dumps([[0, 1], [2, 3]]))
        (folder / "folds" / "test_fold_setting1.txt").write_text(json.dumps([4]))
    return folder


@pytest.fixture
def make_deepdta():
    """``make_deepdta(folder, matrix=..., folds=True)`` writes a tiny DeepDTA directory."""
    return write_deepdta


@pytest.fixture
def deepdta_dir(tmp_path: Path) -> Path:
    return write_deepdta(tmp_path / "tiny")
