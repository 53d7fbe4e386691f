"""Data set splits: sizes, disjoint cover, seeds, scaffold separation, strata, JSON, k-fold."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem
from rdkit.Chem.Scaffolds.MurckoScaffold import MurckoScaffoldSmiles

import biomodels.data.splits as splits_module
from biomodels.data.splits import (
    SPLITTERS,
    Split,
    kfold,
    random_split,
    replicates,
    scaffold_split,
    stratified_split,
)
from biomodels.exceptions import InputError, UnknownNameError

PARTS = ("train", "val", "test")

BENZENES = ["c1ccccc1", "Cc1ccccc1", "Oc1ccccc1", "Clc1ccccc1", "Nc1ccccc1", "OC(=O)c1ccccc1"]
OTHERS = [  # 14 molecules, each with a scaffold of its own
    "c1ccncc1", "C1CCCCC1", "c1ccc2ccccc2c1", "c1ccoc1", "c1ccsc1", "C1CCNCC1", "C1CCOC1",
    "c1cnc2ccccc2c1", "C1CC1", "c1ccc(cc1)-c1ccccc1", "c1cc[nH]c1", "C1CCCC1", "O=C1CCCCN1",
    "c1ncncn1",
]  # fmt: skip


def assert_partition(split: Split, n: int) -> None:
    """The three partitions are sorted int64, pairwise disjoint and together cover 0 .. n-1."""
    for name in PARTS:
        part = getattr(split, name)
        assert part.dtype == np.int64
        assert np.all(np.diff(part) > 0)
    together = np.concatenate([split.train, split.val, split.test])
    assert len(together) == n
    assert np.array_equal(np.sort(together), np.arange(n))


def assert_sizes(split: Split, n: int, sizes) -> None:
    """Each partition holds n * size items to within one (rounding)."""
    for name, size in zip(PARTS, sizes, strict=True):
        assert abs(len(getattr(split, name)) - n * size) < 1 + 1e-9, (name, n, sizes)


def scaffold_of(mol: Chem.Mol | None) -> str | None:
    return None if mol is None else MurckoScaffoldSmiles(mol=mol, includeChirality=False)


@pytest.fixture(scope="module")
def esol_mols(shared_data) -> list[Chem.Mol | None]:
    smiles = pd.read_csv(shared_data / "molnet" / "esol.csv")["smiles"]
    return [Chem.MolFromSmiles(s) for s in smiles]


@pytest.fixture(scope="module")
def bbbp_labels(shared_data) -> np.ndarray:
    return pd.read_csv(shared_data / "molnet" / "bbbp.csv")["p_np"].to_numpy()


def test_registry_holds_the_splitters_and_all_exports_exist():
    molecules = [n for n in SPLITTERS.names() if SPLITTERS.info(n).get("needs") != "pairs"]
    assert molecules == ["random", "scaffold", "stratified"]
    assert SPLITTERS.names(needs="pairs") == ["cold-both", "cold-drug", "cold-target", "setting1"]
    assert SPLITTERS.get("random") is random_split
    with pytest.raises(
        UnknownNameError, match="choose one of: cold-both, cold-drug, cold-target, random, scaffold"
    ):
        SPLITTERS.get("cold_target")
    assert all(hasattr(splits_module, name) for name in splits_module.__all__)


@pytest.mark.parametrize(
    "sizes",
    [(0.8, 0.2), (0.8, 0.1, 0.1, 0.0), (0.5, 0.5, 0.5), (0.9, 0.1, 0.1), (1.2, -0.1, -0.1),
     (float("nan"), 0.5, 0.5), ("a", "b", "c"), 0.8],
)  # fmt: skip
@pytest.mark.parametrize("splitter", ["random", "scaffold", "stratified"])
def test_invalid_sizes_are_refused_with_a_clear_message(sizes, splitter):
    with pytest.raises(ValueError, match="sizes must be three non-negative .* summing to 1"):
        SPLITTERS.get(splitter)(["C", "CC", "CCC"], sizes=sizes)


def test_sizes_within_tolerance_of_one_are_accepted():
    split = random_split(1000, sizes=(0.8, 0.1, 0.1 + 5e-7))
    assert (len(split.train), len(split.val), len(split.test)) == (800, 100, 100)


@pytest.mark.parametrize("n", [7, 10, 101, 1000, 1129])
@pytest.mark.parametrize("sizes", [(0.8, 0.1, 0.1), (0.7, 0.2, 0.1), (1 / 3, 1 / 3, 1 / 3)])
def test_random_split_respects_sizes_and_covers_every_index(n, sizes):
    split = random_split(n, sizes=sizes, seed=3)
    assert_partition(split, n)
    assert_sizes(split, n, sizes)
    assert (split.method, split.seed, split.sizes) == ("random", 3, sizes)


def test_random_split_takes_a_collection_and_allows_empty_partitions():
    split = random_split(["a", "b", "c", "d"], sizes=(1.0, 0.0, 0.0))
    assert split.train.tolist() == [0, 1, 2, 3]
    assert split.val.size == split.test.size == 0
    assert random_split(10, sizes=(0.0, 0.0, 1.0)).test.tolist() == list(range(10))


def test_random_split_is_the_numpy_permutation_of_the_seed():
    order = np.random.default_rng(11).permutation(50)
    split = random_split(50, seed=11)
    assert split.train.tolist() == sorted(order[:40])
    assert split.test.tolist() == sorted(order[45:])


def test_same_seed_same_split_other_seed_other_split(bbbp_labels):
    n = len(bbbp_labels)
    for make in (
        lambda s: random_split(n, seed=s),
        lambda s: stratified_split(bbbp_labels, seed=s),
    ):
        assert make(5) == make(5)
        assert not np.array_equal(make(5).test, make(6).test)


@pytest.mark.parametrize("n", [0, 1, 2])
@pytest.mark.parametrize("splitter", ["random", "scaffold", "stratified"])
def test_tiny_data_sets_split_without_error(n, splitter):
    data = {"random": n, "scaffold": ["Cc1ccccc1"] * n, "stratified": [1] * n}[splitter]
    split = SPLITTERS.get(splitter)(data)
    assert_partition(split, n)
    assert len(split.train) == n  # 0.8 * n rounds up to every item when n < 3


def test_scaffold_split_of_esol_never_shares_a_scaffold(esol_mols):
    n = len(esol_mols)
    scaffolds = np.array([scaffold_of(m) for m in esol_mols], dtype=object)
    for seed in (0, 1):
        split = scaffold_split(esol_mols, seed=seed)
        assert_partition(split, n)
        seen = [set(scaffolds[getattr(split, name)]) for name in PARTS]
        assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
        # train and val never overshoot; test takes the rest, here close to its share
        assert 0.78 * n <= len(split.train) <= 0.8 * n
        assert 0.08 * n <= len(split.val) <= 0.1 * n + 1
        assert 0.08 * n <= len(split.test) <= 0.14 * n
    assert scaffold_split(esol_mols, seed=4) == scaffold_split(esol_mols, seed=4)
    assert scaffold_split(esol_mols, seed=4) != scaffold_split(esol_mols, seed=5)


def test_scaffold_split_accepts_smiles_and_matches_molecules(esol_mols):
    smiles = [Chem.MolToSmiles(m) for m in esol_mols[:200]]
    assert scaffold_split(smiles, seed=2).test.tolist() == (
        scaffold_split(esol_mols[:200], seed=2).test.tolist()
    )


@pytest.mark.parametrize("seed", range(8))
def test_big_benzene_family_stays_together_in_train(seed):
    # 6 benzenes among 20 molecules: bigger than half the 2-molecule test set, so the group is
    # "big", placed first and fits whole in train (16 places), as in chemprop's balanced split.
    split = scaffold_split(BENZENES + OTHERS, seed=seed)
    assert_partition(split, 20)
    assert set(range(6)) <= set(split.train.tolist())


@pytest.mark.parametrize("seed", range(8))
def test_small_scaffold_groups_never_straddle_partitions(seed):
    # 40 molecules: pairs of benzenes, pyridines and acyclics (one "" group, as in chemprop).
    mols = ["Cc1ccccc1", "Oc1ccccc1", "Cc1ccncc1", "Oc1ccncc1", "CCO", "CCCN"] + OTHERS * 2
    mols += ["C1CCC2CCCCC2C1", "c1ccc2[nH]ccc2c1", "C1CCOCC1", "c1cocn1", "c1cscn1", "C1CC2CC1C2"]
    split = scaffold_split(mols, sizes=(0.5, 0.25, 0.25), seed=seed)
    assert_partition(split, 40)
    where = {i: name for name in PARTS for i in getattr(split, name).tolist()}
    for a, b in [(0, 1), (2, 3), (4, 5), (6, 20), (13, 27)]:
        assert where[a] == where[b]


def test_unparsable_molecules_are_kept_each_in_a_group_of_its_own():
    mols = [None, "not a smiles", "c1ccccc1", None, "CCO", "Cc1ccccc1"] * 3
    split = scaffold_split(mols, sizes=(0.6, 0.2, 0.2), seed=0)
    assert_partition(split, 18)
    invalid = {i for i, m in enumerate(mols) if m is None or m == "not a smiles"}
    placed = [invalid & set(getattr(split, name).tolist()) for name in PARTS]
    assert sum(len(p) for p in placed) == 9 and len([p for p in placed if p]) >= 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratified_split_keeps_bbbp_class_ratio_within_two_percent(bbbp_labels, seed):
    split = stratified_split(bbbp_labels, seed=seed)
    n = len(bbbp_labels)
    assert_partition(split, n)
    assert_sizes(split, n, (0.8, 0.1, 0.1))
    overall = bbbp_labels.mean()
    for name in PARTS:
        assert abs(bbbp_labels[getattr(split, name)].mean() - overall) <= 0.02


def test_stratified_split_spreads_every_class_and_missing_labels():
    labels = np.array([0.0] * 500 + [1.0] * 300 + [2.0] * 150 + [np.nan] * 50)
    rng = np.random.default_rng(0)
    labels = labels[rng.permutation(len(labels))]
    split = stratified_split(labels, sizes=(0.6, 0.2, 0.2), seed=1)
    assert_partition(split, 1000)
    for name, size in zip(PARTS, (0.6, 0.2, 0.2), strict=True):
        part = labels[getattr(split, name)]
        for value, count in [(0.0, 500), (1.0, 300), (2.0, 150)]:
            assert abs((part == value).sum() - size * count) <= 1
        assert abs(np.isnan(part).sum() - size * 50) <= 1


def test_stratified_split_uses_the_given_task_of_multi_task_labels():
    y = np.zeros((200, 2))
    y[:20, 1] = 1  # task 1: 10 % positives; task 0 has one class only
    split = stratified_split(y, seed=0, column=1)
    assert [int(y[getattr(split, name), 1].sum()) for name in PARTS] == [16, 2, 2]
    assert stratified_split(y, column=0) != split
    with pytest.raises(ValueError, match="column 2 out of range for labels with 2 tasks"):
        stratified_split(y, column=2)
    with pytest.raises(ValueError, match="labels must be 1-D or 2-D"):
        stratified_split(np.zeros((4, 2, 2)))


def test_stratified_split_accepts_singleton_classes_and_string_labels():
    labels = ["a"] * 8 + ["b", "c"]
    split = stratified_split(labels, seed=0)
    assert_partition(split, 10)
    assert_sizes(split, 10, (0.8, 0.1, 0.1))


def test_json_round_trip_is_equal_and_atomic(tmp_path):
    split = scaffold_split(BENZENES + OTHERS, sizes=(0.7, 0.15, 0.15), seed=9)
    path = tmp_path / "runs" / "split.json"
    split.to_json(path)
    loaded = Split.from_json(path)
    assert loaded == split
    assert (loaded.method, loaded.seed, loaded.sizes) == ("scaffold", 9, (0.7, 0.15, 0.15))
    assert all(getattr(loaded, name).dtype == np.int64 for name in PARTS)
    assert Split.from_dict(json.loads(json.dumps(split.to_dict()))) == split
    random_split(20).to_json(path)  # overwrite in place, no temporary files left behind
    assert Split.from_json(path) == random_split(20)
    assert [p.name for p in path.parent.iterdir()] == ["split.json"]


def test_split_sorts_indices_freezes_them_and_compares_by_value():
    a = Split([3, 1], [2], [], method="manual", seed=None, sizes=(0.5, 0.5, 0.0))
    assert a.train.tolist() == [1, 3]
    with pytest.raises(ValueError):
        a.train[0] = 7
    assert a == Split([1, 3], [2], [], method="manual", seed=None, sizes=(0.5, 0.5, 0.0))
    assert a != Split([1, 3], [2], [], method="manual", seed=1, sizes=(0.5, 0.5, 0.0))
    with pytest.raises(ValueError, match="index 2 is in both val and test"):
        Split([0], [2], [2], method="manual", seed=0, sizes=(1, 0, 0))


GOOD = {"version": 1, "method": "random", "seed": 0, "sizes": [0.8, 0.1, 0.1],
        "train": [0, 1, 2], "val": [3], "test": [4]}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"test": [4, 1]}, "index 1 is in both train and test"),
        ({"val": [3, 3]}, "val lists index 3 more than once"),
        ({"train": [0, 1.5]}, "train indices must be integers, got 1.5"),
        ({"train": [0, 1.0]}, "train indices must be integers, got 1.0"),
        ({"val": [True]}, "val indices must be integers, got True"),
        ({"val": ["3"]}, "val indices must be integers, got '3'"),
        ({"test": [-4]}, "test indices must be non-negative, got -4"),
        ({"test": 4}, "test must be a list of indices, got 4"),
        ({"sizes": [0.8, 0.1]}, "sizes must be three non-negative"),
        ({"seed": "zero"}, "seed must be an integer or None"),
        ({"method": ""}, "method must be a non-empty string"),
        ({"version": 2}, "unsupported split format version 2"),
        ({"extra": 1}, "unknown keys: extra"),
    ],
)
def test_corrupt_split_files_raise_input_error_naming_the_file(tmp_path, change, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**GOOD, **change}))
    with pytest.raises(InputError, match=message) as info:
        Split.from_json(path)
    assert info.value.path == str(path)
    with pytest.raises(InputError, match=message):
        Split.from_dict({**GOOD, **change})


def test_unreadable_split_files_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        Split.from_json(tmp_path / "missing.json")
    (tmp_path / "trunc.json").write_text('{"train": [0, 1')
    with pytest.raises(InputError, match="not valid JSON"):
        Split.from_json(tmp_path / "trunc.json")
    (tmp_path / "list.json").write_text("[0, 1]")
    with pytest.raises(InputError, match="a split must be a JSON object, got list"):
        Split.from_json(tmp_path / "list.json")
    (tmp_path / "short.json").write_text('{"train": [0]}')
    with pytest.raises(InputError, match="missing keys: method, seed, sizes, test, val"):
        Split.from_json(tmp_path / "short.json")


@pytest.mark.parametrize(("n", "k"), [(10, 2), (103, 5), (50, 10)])
def test_kfold_test_folds_partition_the_data_and_val_comes_from_train(n, k):
    folds = kfold(n, k=k, seed=1, val_size=0.1)
    assert len(folds) == k
    tests = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tests), np.arange(n))
    for fold in folds:
        assert_partition(fold, n)
        assert abs(len(fold.test) - n / k) < 1
        assert abs(len(fold.val) - 0.1 * n) <= 1
        assert fold.method == "kfold"
        assert fold.sizes == pytest.approx((1 - 1 / k - 0.1, 0.1, 1 / k))
    assert kfold(n, k=k, seed=1) == folds
    assert kfold(n, k=k, seed=2) != folds


def test_stratified_kfold_keeps_class_ratio(bbbp_labels):
    overall = bbbp_labels.mean()
    folds = kfold(len(bbbp_labels), k=5, seed=0, stratify_labels=bbbp_labels)
    for fold in folds:
        assert fold.method == "stratified_kfold"
        for name in PARTS:
            assert abs(bbbp_labels[getattr(fold, name)].mean() - overall) <= 0.02


def test_kfold_without_validation_and_bad_arguments():
    folds = kfold(list("abcdef"), k=3, val_size=0.0)
    assert all(f.val.size == 0 and len(f.train) == 4 for f in folds)
    with pytest.raises(ValueError, match="k must be an integer from 2 to the number of items"):
        kfold(4, k=5)
    with pytest.raises(ValueError, match="k must be an integer"):
        kfold(1, k=2)
    with pytest.raises(ValueError, match="val_size must be in"):
        kfold(100, k=5, val_size=0.85)
    with pytest.raises(ValueError, match="stratify_labels has 3 rows but data has 4 items"):
        kfold(4, k=2, stratify_labels=[0, 1, 0])


def test_replicates_use_consecutive_seeds(bbbp_labels):
    reps = replicates("stratified", bbbp_labels, n_replicates=3, base_seed=10)
    assert [r.seed for r in reps] == [10, 11, 12]
    assert reps[1] == stratified_split(bbbp_labels, seed=11)
    assert len({tuple(r.test.tolist()) for r in reps}) == 3
    multi = np.stack([bbbp_labels, 1 - bbbp_labels], axis=1)
    assert replicates("stratified", multi, 1, column=1)[0].method == "stratified"
    with pytest.raises(UnknownNameError, match="unknown splitter 'cold'"):
        replicates("cold", 10)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 400),
    weights=st.tuples(*[st.integers(0, 20)] * 3).filter(any),
    seed=st.integers(0, 2**32 - 1),
    n_classes=st.integers(1, 6),
)
def test_any_size_and_sizes_give_a_disjoint_complete_cover(n, weights, seed, n_classes):
    sizes = tuple(w / sum(weights) for w in weights)
    labels = np.random.default_rng(seed).integers(0, n_classes, n)
    for split in (random_split(n, sizes, seed), stratified_split(labels, sizes, seed)):
        assert_partition(split, n)
        assert_sizes(split, n, sizes)
