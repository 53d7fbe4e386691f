"""Drug-target pair splits: seeded, disjoint, and no leakage of cold entities into training."""

from __future__ import annotations

import numpy as np
import pytest

from biomodels.data.splits import SPLITTERS, Pairs


def _grid(n_ligands: int = 12, n_targets: int = 20) -> Pairs:
    ligands, targets = np.meshgrid(np.arange(n_ligands), np.arange(n_targets), indexing="ij")
    return Pairs(ligands.ravel(), targets.ravel())


@pytest.mark.parametrize(
    ("name", "cold"),
    [
        ("random", ()),
        ("cold-drug", ("ligands",)),
        ("cold-target", ("targets",)),
        ("cold-both", ("ligands", "targets")),
    ],
)
def test_split_has_no_leakage_and_is_seeded(name, cold):
    pairs = _grid()
    split = SPLITTERS.get(name)(pairs, sizes=(0.6, 0.2, 0.2), seed=3)
    assert len(split.train) and len(split.test)
    for side in cold:
        codes = getattr(pairs, side)
        seen = set(codes[split.train])
        assert not seen & set(codes[split.test]), f"{side} of the test set seen in training"
        assert not seen & set(codes[split.val])
    if name == "cold-both":  # a test pair has both its compound and its protein unseen
        assert len(split.train) + len(split.val) + len(split.test) < len(pairs)
    else:
        assert len(split.train) + len(split.val) + len(split.test) == len(pairs)
    assert split == SPLITTERS.get(name)(pairs, sizes=(0.6, 0.2, 0.2), seed=3)
    assert split != SPLITTERS.get(name)(pairs, sizes=(0.6, 0.2, 0.2), seed=4)


def test_setting1_tests_on_the_given_fold_and_validates_inside_the_training_folds():
    pairs = _grid(4, 5)
    folds = (np.arange(0, 8), np.arange(8, 16))
    split = SPLITTERS.get("setting1")(Pairs(pairs.ligands, pairs.targets, folds, np.arange(16, 20)), seed=0)
    assert split.test.tolist() == [16, 17, 18, 19]
    assert sorted([*split.train, *split.val]) == list(range(16)) and len(split.val) == 2


def test_setting1_without_folds_says_so():
    with pytest.raises(ValueError, match="needs the data set's folds"):
        SPLITTERS.get("setting1")(_grid(), seed=0)
