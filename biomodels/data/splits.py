"""Train / validation / test splits: random, scaffold, stratified, k-fold, and of drug-target pairs.

A split is a :class:`Split`: three disjoint, sorted ``np.int64`` index arrays into the data set plus
the method, seed and requested sizes that made it, so a run can be reproduced from its JSON file.

Splitters live in :data:`SPLITTERS` and share one signature::

    split(data, sizes=(0.8, 0.1, 0.1), seed=0, **kwargs) -> Split

where ``data`` is what the method needs: a count or any sized collection (``random``), molecules
or SMILES (``scaffold``), class labels (``stratified``) or drug-target :class:`Pairs`
(``setting1``, ``cold-drug``, ``cold-target``, ``cold-both``; ``random`` takes pairs too).
:func:`kfold` and :func:`replicates` return one :class:`Split` per fold or per seed.

Sizes are fractions of the data set, non-negative and summing to 1 (within 1e-6). Counts are
rounded by largest remainder, so each partition holds ``n * size`` items to within one
(scaffold splits keep whole scaffold groups together and match sizes only approximately).
Tiny data sets never crash: with ``n < 3`` some partitions are simply empty (``n = 2`` with the
default sizes gives two training items), and ``n = 0`` gives three empty partitions.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from rdkit import Chem
from rdkit.Chem.Scaffolds.MurckoScaffold import MurckoScaffoldSmiles

from biomodels.exceptions import InputError
from biomodels.registry import Registry

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SIZES",
    "SPLITTERS",
    "Pairs",
    "Split",
    "kfold",
    "cold_split",
    "load_split_file",
    "random_split",
    "replicates",
    "scaffold_split",
    "setting1_split",
    "stratified_split",
]

DEFAULT_SIZES: tuple[float, float, float] = (0.8, 0.1, 0.1)
"""Default train / validation / test fractions."""

PARTITIONS = ("train", "val", "test")
_FORMAT_VERSION = 1
_JSON_KEYS = {"version", "method", "seed", "sizes", *PARTITIONS}


@dataclass(frozen=True, eq=False)
class Split:
    """Disjoint train / validation / test indices into one data set, and how they were made.

    The index arrays are stored sorted, as read-only ``np.int64`` arrays, so two splits of the
    same items compare equal whatever order the indices were given in.

    Attributes:
        train: ``n_train`` indices of the training items.
        val: ``n_val`` indices of the validation items.
        test: ``n_test`` indices of the test items.
        method: the splitter that made the split (``"random"``, ``"scaffold"``, ``"kfold"``...).
        seed: the random seed it used, or ``None`` for a split made by hand.
        sizes: the requested train / validation / test fractions.

    Raises:
        ValueError: indices that are not 1-D non-negative integers, an index repeated within or
            across partitions, or sizes that are not three non-negative fractions summing to 1.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    method: str
    seed: int | None
    sizes: tuple[float, float, float]

    def __post_init__(self) -> None:
        for name in PARTITIONS:
            object.__setattr__(self, name, _as_indices(name, getattr(self, name)))
        object.__setattr__(self, "sizes", _check_sizes(self.sizes))
        if not isinstance(self.method, str) or not self.method:
            raise ValueError(f"method must be a non-empty string, got {self.method!r}")
        if self.seed is not None and not _is_int(self.seed):
            raise ValueError(f"seed must be an integer or None, got {self.seed!r}")
        for i, first in enumerate(PARTITIONS):
            for second in PARTITIONS[i + 1 :]:
                shared = np.intersect1d(getattr(self, first), getattr(self, second))
                if shared.size:
                    raise ValueError(
                        f"index {shared[0]} is in both {first} and {second} "
                        f"({shared.size} shared indices in all)"
                    )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Split):
            return NotImplemented
        return (
            self.method == other.method
            and self.seed == other.seed
            and self.sizes == other.sizes
            and all(np.array_equal(getattr(self, p), getattr(other, p)) for p in PARTITIONS)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form: index lists, method, seed, sizes and a format version."""
        return {
            "version": _FORMAT_VERSION,
            "method": self.method,
            "seed": self.seed,
            "sizes": list(self.sizes),
            **{name: getattr(self, name).tolist() for name in PARTITIONS},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Split:
        """Rebuild a split from :meth:`to_dict` output, checking every field.

        Raises:
            InputError: a missing or unknown key, an unsupported version, indices that are not
                integers, or an index in two partitions; the message says which.
        """
        return _split_from_dict(data, None)

    def to_json(self, path: str | Path) -> None:
        """Write the split to ``path`` as JSON, atomically.

        The text goes to a temporary file in the same folder, which then replaces ``path`` in one
        step, so a crash never leaves a half-written split behind. Parent folders are created.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.to_dict(), handle)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def from_json(cls, path: str | Path) -> Split:
        """Read a split written by :meth:`to_json`.

        Raises:
            InputError: the file is missing or not JSON, or its content is not a valid split
                (see :meth:`from_dict`); the message names the file.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(path, "file not found") from None
        except OSError as exc:
            raise InputError(path, f"cannot read split file: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"not valid JSON: {exc}") from None
        return _split_from_dict(data, path)


SPLITTERS: Registry[Callable[..., Split]] = Registry("splitter")
"""Splitters by name: ``random``, ``scaffold``, ``stratified``. Each entry's ``needs`` says what
it splits by: ``count`` (the default), ``smiles`` or ``labels``."""


@SPLITTERS.register("random")
def random_split(data: int | Sized, sizes: Sequence[float] = DEFAULT_SIZES, seed: int = 0) -> Split:
    """Split ``data`` (a count, or any sized collection) uniformly at random.

    The indices ``0 .. n-1`` are permuted with ``np.random.default_rng(seed)`` and cut into
    partitions of the rounded sizes.

    Raises:
        ValueError: invalid ``sizes`` or a negative count.
    """
    sizes = _check_sizes(sizes)
    n = _n_items(data)
    parts = _assign(_counts(n, sizes), np.random.default_rng(seed))
    return Split(*parts, method="random", seed=seed, sizes=sizes)


@SPLITTERS.register("scaffold", needs="smiles")
def scaffold_split(
    mols: Sequence[Chem.Mol | str | None], sizes: Sequence[float] = DEFAULT_SIZES, seed: int = 0
) -> Split:
    """Split molecules so that no Bemis-Murcko scaffold appears in two partitions.

    Follows chemprop's ``scaffold_balanced`` split: molecules are grouped by scaffold
    (``MurckoScaffoldSmiles(mol=mol, includeChirality=False)``); groups larger than half the
    validation or half the test size are "big" and come first, each kind shuffled with the seed;
    then each group goes whole to train if it fits, else to validation if it fits, else to test.
    Big scaffolds thus land in train, and the evaluation sets hold many small scaffolds, so they
    measure generalisation to unseen chemistry.

    As in chemprop, all acyclic molecules share the empty scaffold ``""`` and form one group.
    A molecule that is ``None`` or a SMILES that does not parse has no scaffold: each forms a
    group of its own (it is kept, never dropped, so indices stay aligned with the input).

    Train and validation never exceed their rounded sizes; test takes what is left, so it can
    be larger than requested when groups are big.

    Args:
        mols: RDKit molecules or SMILES strings; ``None`` allowed.
        sizes: train / validation / test fractions.
        seed: seed for shuffling the scaffold groups.

    Raises:
        ValueError: invalid ``sizes``.
    """
    sizes = _check_sizes(sizes)
    n_train, n_val, n_test = _counts(len(mols), sizes)
    big, small = [], []
    for group in _scaffold_groups(mols):
        (big if len(group) > n_val / 2 or len(group) > n_test / 2 else small).append(group)
    rng = np.random.default_rng(seed)
    ordered = [big[i] for i in rng.permutation(len(big))]
    ordered += [small[i] for i in rng.permutation(len(small))]
    train: list[int] = []
    val: list[int] = []
    test: list[int] = []
    for group in ordered:
        if len(train) + len(group) <= n_train:
            train += group
        elif len(val) + len(group) <= n_val:
            val += group
        else:
            test += group
    return Split(train, val, test, method="scaffold", seed=seed, sizes=sizes)


@SPLITTERS.register("stratified", needs="labels")
def stratified_split(
    labels: ArrayLike, sizes: Sequence[float] = DEFAULT_SIZES, seed: int = 0, column: int = 0
) -> Split:
    """Split so that each partition keeps the class proportions of ``labels``.

    Each class (stratum) is shuffled and its members spread evenly along the train / validation
    / test order, so every partition gets its share of every class to within about one item,
    while the partition sizes are exactly the rounded sizes. A missing label (NaN or ``None``)
    is a stratum of its own. Unlike scikit-learn's ``StratifiedShuffleSplit``, this accepts
    classes with a single member and partitions smaller than the number of classes, which
    happens with rare classes and tiny data sets.

    Args:
        labels: ``n`` class labels, or an ``n x T`` multi-task array whose ``column`` is used.
        sizes: train / validation / test fractions.
        seed: seed for shuffling within each class.
        column: the task to stratify on when ``labels`` is 2-D.

    Raises:
        ValueError: invalid ``sizes``, labels that are not 1-D or 2-D, or ``column`` out of range.
    """
    sizes = _check_sizes(sizes)
    strata = _strata(labels, column)
    parts = _assign(_counts(len(strata), sizes), np.random.default_rng(seed), strata)
    return Split(*parts, method="stratified", seed=seed, sizes=sizes)


@dataclass(frozen=True)
class Pairs:
    """Drug-target pairs to split: which compound and which protein each pair holds.

    Attributes:
        ligands: ``n`` int codes of each pair's compound.
        targets: ``n`` int codes of each pair's protein.
        folds: the data set's own training folds (DeepDTA setting 1), each an index array
            into the pairs, or None.
        test_fold: the data set's own test pairs, or None.
    """

    ligands: np.ndarray
    targets: np.ndarray
    folds: tuple[np.ndarray, ...] | None = None
    test_fold: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ligands)


@SPLITTERS.register("setting1", needs="pairs")
def setting1_split(pairs: Pairs, sizes: Sequence[float] = DEFAULT_SIZES, seed: int = 0) -> Split:
    """The data set's own split (DeepDTA setting 1): its test fold is the test set and the
    union of its training folds is split at random into train and validation, in the ratio
    ``sizes[0] : sizes[1]`` (``sizes[2]`` is not used: the test fold is given).

    Raises:
        ValueError: ``pairs`` carries no folds.
    """
    sizes = _check_sizes(sizes)
    if pairs.folds is None or pairs.test_fold is None:
        raise ValueError("the setting1 split needs the data set's folds (folds/ of a DeepDTA directory)")
    pool = np.unique(np.concatenate(pairs.folds))
    keep = sizes[0] + sizes[1]
    fractions = (sizes[0] / keep, sizes[1] / keep, 0.0) if keep > 0 else (1.0, 0.0, 0.0)
    train, val, _ = _assign(_counts(len(pool), fractions), np.random.default_rng(seed))
    return Split(pool[train], pool[val], pairs.test_fold, method="setting1", seed=seed, sizes=sizes)


def cold_split(
    pairs: Pairs, sizes: Sequence[float] = DEFAULT_SIZES, seed: int = 0, cold: str = "target"
) -> Split:
    """Split so that no compound (``cold="drug"``), no protein (``"target"``) or neither
    (``"both"``) of the validation and test pairs appears in training.

    The distinct compounds (or proteins) are dealt at random into partitions of ``sizes``
    and each pair follows its entity. With ``"both"``, compounds and proteins are dealt
    independently and a pair belongs to a partition when its compound and its protein both
    do; pairs that mix partitions belong to none (listed in no partition), so with the default
    sizes about 1% of pairs are tested and a third are left out.
    """
    sizes = _check_sizes(sizes)
    rng = np.random.default_rng(seed)
    parts = np.full(len(pairs), -1, dtype=np.int64)
    sides = {"drug": [pairs.ligands], "target": [pairs.targets], "both": [pairs.ligands, pairs.targets]}
    if cold not in sides:
        raise ValueError(f"cold must be one of: {', '.join(sides)}; got {cold!r}")
    for codes in sides[cold]:
        entities, inverse = np.unique(codes, return_inverse=True)
        assigned = np.empty(len(entities), dtype=np.int64)
        for part, members in enumerate(_assign(_counts(len(entities), sizes), rng)):
            assigned[members] = part
        side = assigned[inverse]
        parts = np.where(parts == -1, side, np.where(parts == side, parts, -2))
    train, val, test = (np.flatnonzero(parts == p) for p in range(3))
    return Split(train, val, test, method=f"cold-{cold}", seed=seed, sizes=sizes)


for _cold in ("drug", "target", "both"):
    SPLITTERS.register(f"cold-{_cold}", needs="pairs")(functools.partial(cold_split, cold=_cold))


def kfold(
    data: int | Sized,
    k: int = 5,
    seed: int = 0,
    stratify_labels: ArrayLike | None = None,
    *,
    val_size: float = 0.1,
    column: int = 0,
) -> list[Split]:
    """K-fold cross-validation splits: each item is in the test set of exactly one fold.

    The test folds come from scikit-learn's ``KFold`` (or ``StratifiedKFold`` when
    ``stratify_labels`` is given), shuffled with ``seed``. The validation set is carved at
    random from each fold's remaining items (stratified too, when labels are given) and holds
    ``val_size`` of the whole data set; it is never the test fold, so early stopping does not
    see the test items. ``val_size=0`` gives an empty validation set.

    Args:
        data: the number of items, or any sized collection.
        k: number of folds, at least 2 and at most the number of items.
        seed: seed for the folds and the validation draws.
        stratify_labels: class labels to stratify on (as in :func:`stratified_split`).
        val_size: validation fraction of the whole data set, at most ``1 - 1/k``.
        column: the task to stratify on when ``stratify_labels`` is 2-D.

    Returns:
        ``k`` splits, fold ``i`` at position ``i``, with method ``"kfold"`` or
        ``"stratified_kfold"`` and sizes ``(1 - 1/k - val_size, val_size, 1/k)``.

    Raises:
        ValueError: ``k`` outside ``2 .. n``, ``val_size`` out of range, or labels whose length
            differs from ``data``.
    """
    n = _n_items(data)
    if not _is_int(k) or not 2 <= k <= n:
        raise ValueError(f"k must be an integer from 2 to the number of items ({n}), got {k!r}")
    if not 0 <= val_size <= 1 - 1 / k + 1e-9:
        raise ValueError(f"val_size must be in [0, 1 - 1/k] = [0, {1 - 1 / k:.4g}], got {val_size}")
    sizes = (max(0.0, 1 - 1 / k - val_size), val_size, 1 / k)
    rel_val = min(1.0, val_size * k / (k - 1))  # the validation share of a fold's remaining items
    from sklearn.model_selection import KFold, StratifiedKFold  # kept out of every model-loading process

    rng = np.random.default_rng(seed)
    if stratify_labels is None:
        strata, method = None, "kfold"
        folds = KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n))
    else:
        strata, method = _strata(stratify_labels, column), "stratified_kfold"
        if len(strata) != n:
            raise ValueError(f"stratify_labels has {len(strata)} rows but data has {n} items")
        folder = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        folds = folder.split(np.zeros(n), strata)
    splits = []
    for rest, test in folds:
        counts = _counts(len(rest), (1 - rel_val, rel_val, 0.0))
        train, val, _ = _assign(counts, rng, None if strata is None else strata[rest])
        splits.append(Split(rest[train], rest[val], test, method=method, seed=seed, sizes=sizes))
    return splits


def replicates(
    method: str,
    data: Any,
    n_replicates: int = 5,
    base_seed: int = 0,
    sizes: Sequence[float] = DEFAULT_SIZES,
    **kwargs: Any,
) -> list[Split]:
    """Repeat one splitter with seeds ``base_seed, base_seed + 1, ...``.

    Reporting the spread over replicate splits, not one lucky split, is how model comparisons
    on small data sets stay honest.

    Args:
        method: a name in :data:`SPLITTERS`.
        data: the splitter's input (count, molecules or labels).
        n_replicates: how many splits to make.
        base_seed: seed of the first split.
        sizes: train / validation / test fractions.
        **kwargs: further arguments of the splitter (e.g. ``column`` for ``stratified``).

    Raises:
        UnknownNameError: ``method`` is not a registered splitter; lists the valid names.
        ValueError: a negative ``n_replicates`` or invalid ``sizes``.
    """
    splitter = SPLITTERS.get(method)
    if not _is_int(n_replicates) or n_replicates < 0:
        raise ValueError(f"n_replicates must be a non-negative integer, got {n_replicates!r}")
    return [splitter(data, sizes=sizes, seed=base_seed + i, **kwargs) for i in range(n_replicates)]


def load_split_file(path: str | Path, n: int) -> Split:
    """Read an external split of ``n`` items: ours (:meth:`Split.to_json`) or chemprop's.

    chemprop's ``--splits-file`` is a JSON list of ``{"train", "val", "test"}`` objects whose
    values are index lists or range strings such as ``"0-4,7"``; the first entry is used.

    Raises:
        InputError: one line naming the file: unreadable, malformed, overlapping partitions,
            or an index outside ``0 .. n-1``.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "split file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a readable JSON split file ({exc})") from None
    if isinstance(data, list):
        if not data or not isinstance(data[0], Mapping):
            raise InputError(path, "a chemprop split file is a list of {train, val, test} objects")
        if len(data) > 1:
            logger.info("%s holds %d splits; using the first", path, len(data))
        entry = data[0]
        data = {"method": "file", "seed": None, "sizes": None}
        for name in PARTITIONS:
            data[name] = _parse_index_ranges(path, name, entry.get(name, []))
        counts = [len(data[name]) for name in PARTITIONS]
        data["sizes"] = [c / max(sum(counts), 1) for c in counts]
    split = _split_from_dict(data, path)
    largest = max((int(getattr(split, p).max()) for p in PARTITIONS if len(getattr(split, p))), default=-1)
    if largest >= n:
        raise InputError(path, f"index {largest} is out of range for {n} molecules")
    return split


def _parse_index_ranges(path: str | Path, name: str, value: Any) -> list[int]:
    """chemprop's partition value: a list of indices, or a string of ``a-b`` ranges and indices."""
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise InputError(path, f"{name} must be a list of indices or a range string, got {value!r:.60}")
    indices: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in value.split(","))):
            low, _, high = part.partition("-")
            indices.extend(range(int(low), int(high or low) + 1))
    except ValueError:
        raise InputError(path, f"{name}: cannot read index range {value!r:.60}") from None
    return indices


def _is_int(value: object) -> bool:
    """True for Python and NumPy integers, but not for booleans."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_sizes(sizes: Sequence[float]) -> tuple[float, float, float]:
    """Validate train / validation / test fractions; return them as a tuple of floats."""
    try:
        values = tuple(float(s) for s in sizes)
    except (TypeError, ValueError):
        values = ()
    total = sum(values)
    if len(values) != 3 or not all(math.isfinite(s) and s >= 0 for s in values) or abs(total - 1) > 1e-6:
        raise ValueError(
            "sizes must be three non-negative train / validation / test fractions "
            f"summing to 1, got {sizes!r}"
        )
    return values


def _n_items(data: int | Sized) -> int:
    """The number of items in ``data``: the count itself, or the length of a collection."""
    if _is_int(data):
        if data < 0:
            raise ValueError(f"the number of items must be non-negative, got {data}")
        return int(data)
    return len(data)


def _counts(n: int, sizes: Sequence[float]) -> np.ndarray:
    """Round ``n * sizes`` to integers summing to ``n`` (largest remainder; ties go to train).

    ``sizes`` is renormalised first, since validated sizes may miss 1 by up to 1e-6.
    """
    raw = np.asarray(sizes, dtype=float)
    raw = raw / raw.sum() * n
    counts = np.floor(raw).astype(np.int64)
    short = n - int(counts.sum())
    counts[np.argsort(counts - raw, kind="stable")[:short]] += 1
    return counts


def _assign(
    counts: np.ndarray, rng: np.random.Generator, strata: np.ndarray | None = None
) -> list[np.ndarray]:
    """Deal ``sum(counts)`` positions into partitions of ``counts`` items, at random.

    With ``strata`` (integer codes, one per position), the members of each stratum, in random
    order, get evenly spaced keys ``(j + 0.5) / n_stratum`` in ``(0, 1)``; cutting the positions
    sorted by key gives each partition its share of every stratum to within about one item.
    """
    n = int(counts.sum())
    order = rng.permutation(n)
    if strata is not None and n:
        shuffled = strata[order]
        by_stratum = np.argsort(shuffled, kind="stable")
        per_stratum = np.bincount(shuffled)
        starts = np.cumsum(per_stratum) - per_stratum
        rank = np.empty(n, dtype=np.int64)
        rank[by_stratum] = np.arange(n) - np.repeat(starts, per_stratum)
        keys = (rank + 0.5) / per_stratum[shuffled]
        order = order[np.argsort(keys, kind="stable")]
    return np.split(order, np.cumsum(counts)[:-1])


def _strata(labels: ArrayLike, column: int) -> np.ndarray:
    """Integer stratum codes of 1-D labels (or one column of 2-D ones); missing is a stratum."""
    values = np.asarray(labels)
    if values.ndim == 2:
        if not -values.shape[1] <= column < values.shape[1]:
            raise ValueError(f"column {column} out of range for labels with {values.shape[1]} tasks")
        values = values[:, column]
    elif values.ndim != 1:
        raise ValueError(f"labels must be 1-D or 2-D (items x tasks), got shape {values.shape}")
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64)


def _scaffold_groups(mols: Sequence[Chem.Mol | str | None]) -> list[list[int]]:
    """Indices of ``mols`` grouped by Murcko scaffold, in order of first appearance.

    Unparsable molecules each get a group of their own, keyed by their index.
    """
    groups: dict[str | int, list[int]] = {}
    invalid = 0
    for i, item in enumerate(mols):
        mol = Chem.MolFromSmiles(item) if isinstance(item, str) else item
        if mol is None:
            invalid += 1
            groups[i] = [i]
        else:
            key = MurckoScaffoldSmiles(mol=mol, includeChirality=False)
            groups.setdefault(key, []).append(i)
    if invalid:
        logger.warning(
            "%d of %d molecules are missing or unparsable; each is its own scaffold group",
            invalid,
            len(mols),
        )
    return list(groups.values())


def _as_indices(name: str, values: ArrayLike) -> np.ndarray:
    """``values`` as a sorted, read-only ``np.int64`` array of distinct non-negative indices."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} indices must be a flat list, got shape {array.shape}")
    if array.size and (array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} indices must be integers, got {array.dtype} values")
    array = np.sort(array.astype(np.int64))
    if array.size and array[0] < 0:
        raise ValueError(f"{name} indices must be non-negative, got {array[0]}")
    repeated = array[1:][array[1:] == array[:-1]]
    if repeated.size:
        raise ValueError(f"{name} lists index {repeated[0]} more than once")
    array.setflags(write=False)
    return array


def _split_from_dict(data: object, path: str | Path | None) -> Split:
    """Build a :class:`Split` from parsed JSON, turning every problem into an InputError."""
    if not isinstance(data, Mapping):
        raise InputError(path, f"a split must be a JSON object, got {type(data).__name__}")
    problems = []
    if missing := sorted(_JSON_KEYS - {"version"} - set(data)):
        problems.append(f"missing keys: {', '.join(missing)}")
    if unknown := sorted(map(str, set(data) - _JSON_KEYS)):
        problems.append(f"unknown keys: {', '.join(unknown)}")
    if problems:
        raise InputError(path, "; ".join(problems))
    if data.get("version", _FORMAT_VERSION) != _FORMAT_VERSION:
        raise InputError(
            path,
            f"unsupported split format version {data['version']!r} (expected {_FORMAT_VERSION})",
        )
    for name in PARTITIONS:
        if not isinstance(data[name], list):
            raise InputError(path, f"{name} must be a list of indices, got {data[name]!r:.60}")
        bad = next((v for v in data[name] if not _is_int(v)), None)
        if bad is not None:
            raise InputError(path, f"{name} indices must be integers, got {bad!r}")
    try:
        return Split(
            **{name: data[name] for name in PARTITIONS},
            method=data["method"],
            seed=data["seed"],
            sizes=data["sizes"],
        )
    except ValueError as exc:
        raise InputError(path, str(exc)) from None
