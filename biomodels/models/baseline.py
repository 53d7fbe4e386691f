"""Fingerprint random-forest baseline: one scikit-learn forest per task on Morgan counts.

After fitting, each forest is kept as flat numpy arrays (children, split feature, threshold,
leaf value of every node of every tree) and predicted by a small vectorised tree walk; the same
arrays are what a model folder saves (:meth:`RandomForestBaseline.to_arrays`), so a reloaded
model gives identical predictions and no pickle is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from rdkit import Chem

from biomodels.exceptions import InputError
from biomodels.featurize.molecular import MorganCountFeaturizer

if TYPE_CHECKING:  # scikit-learn is imported only to train (loading reads plain arrays)
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

_TREE_KEYS = ("roots", "left", "right", "feature", "threshold", "value")
_CHUNK = 1024  # molecules fingerprinted and predicted at a time


class RandomForestBaseline:
    """Random forest on Morgan count fingerprints, multi-task with missing labels.

    Each task gets its own forest fitted on the rows where its label is present (not NaN).

    Args:
        task: ``"regression"`` or ``"binary"`` (labels 0/1; predicts P(label = 1)).
        n_estimators, max_features, min_samples_leaf, n_jobs, random_state: passed to
            scikit-learn (``max_features=None`` keeps scikit-learn's default for the task).
        radius, fp_size: Morgan fingerprint radius and length.
    """

    def __init__(
        self,
        task: str = "regression",
        n_estimators: int = 500,
        max_features: float | str | None = None,
        min_samples_leaf: int = 1,
        radius: int = 2,
        fp_size: int = 2048,
        n_jobs: int | None = None,
        random_state: int = 0,
    ):
        self.task = task
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.radius = radius
        self.fp_size = fp_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    def get_params(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "task",
                "n_estimators",
                "max_features",
                "min_samples_leaf",
                "radius",
                "fp_size",
                "n_jobs",
                "random_state",
            )
        }

    def fit(self, mols: Sequence[Chem.Mol], y: np.ndarray) -> RandomForestBaseline:
        """Fit one forest per column of ``y`` (``n`` or ``n x T``, NaN = missing)."""
        return self.fit_fingerprints(self._fingerprints(mols), y)

    def fit_fingerprints(self, x: np.ndarray, y: np.ndarray) -> RandomForestBaseline:
        """:meth:`fit` from the molecules' Morgan count fingerprints (``n x fp_size``), computed
        with :meth:`fingerprinter`."""
        if self.task not in ("regression", "binary"):
            raise ValueError(f"unknown task {self.task!r}; choose one of: binary, regression")
        y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # only to train

        forest_type = RandomForestRegressor if self.task == "regression" else RandomForestClassifier
        options = {"max_features": self.max_features} if self.max_features is not None else {}
        self.forests_ = []
        for t in range(y.shape[1]):
            labelled = ~np.isnan(y[:, t])
            if not labelled.any():
                raise ValueError(f"task {t} has no labelled rows")
            if self.task == "binary" and not np.isin(y[labelled, t], (0, 1)).all():
                raise ValueError(f"task {t}: binary labels must be 0 or 1")
            forest = forest_type(
                n_estimators=self.n_estimators,
                min_samples_leaf=self.min_samples_leaf,
                n_jobs=self.n_jobs,
                random_state=self.random_state,
                **options,
            )
            forest.fit(x[labelled], y[labelled, t])
            self.forests_.append(_flatten(forest))
        return self

    def predict(self, mols: Sequence[Chem.Mol]) -> tuple[np.ndarray, np.ndarray]:
        """Mean over trees and its per-tree standard deviation, each ``n x T``.

        Regression: predicted values; binary: probabilities of label 1.
        """
        parts = [
            self._predict(self._fingerprints(mols[start : start + _CHUNK], offset=start))
            for start in range(0, len(mols), _CHUNK)
        ]
        return self._join(parts)

    def predict_fingerprints(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` from the molecules' Morgan count fingerprints (``n x fp_size``)."""
        return self._join([self._predict(x[start : start + _CHUNK]) for start in range(0, len(x), _CHUNK)])

    def fingerprinter(self) -> MorganCountFeaturizer:
        """The featurizer of the fingerprints this forest reads."""
        return MorganCountFeaturizer(self.radius, self.fp_size)

    def _predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        per_tree = np.stack([_walk(arrays, x) for arrays in self.forests_], axis=-1)
        return per_tree.mean(axis=0), per_tree.std(axis=0)

    def _join(self, parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        means, stds = [m for m, _ in parts], [s for _, s in parts]
        n_tasks = len(self.forests_)
        if not means:
            return np.zeros((0, n_tasks)), np.zeros((0, n_tasks))
        return np.concatenate(means), np.concatenate(stds)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted trees as flat named arrays (what a model folder saves; no pickle)."""
        return {f"task{t}_{key}": forest[key] for t, forest in enumerate(self.forests_) for key in _TREE_KEYS}

    def from_arrays(self, arrays: dict[str, np.ndarray]) -> RandomForestBaseline:
        """Restore the trees of :meth:`to_arrays`; returns self.

        Raises:
            ValueError: arrays of a task are missing.
        """
        n_tasks = len({key.split("_", 1)[0] for key in arrays})
        try:
            self.forests_ = [{key: arrays[f"task{t}_{key}"] for key in _TREE_KEYS} for t in range(n_tasks)]
        except KeyError as exc:
            raise ValueError(f"random-forest arrays lack {exc.args[0]}") from None
        return self

    def _fingerprints(self, mols: Sequence[Chem.Mol], offset: int = 0) -> np.ndarray:
        for i, mol in enumerate(mols):
            if mol is None:
                raise InputError(None, "molecule is None (unparsed SMILES?)", record=offset + i)
        return self.fingerprinter().featurize_chunk(mols)


def _flatten(forest: RandomForestRegressor | RandomForestClassifier) -> dict[str, np.ndarray]:
    """Concatenate the nodes of all trees; child indices become global, leaves have -1."""
    from sklearn.ensemble import RandomForestClassifier

    parts: dict[str, list[np.ndarray]] = {key: [] for key in _TREE_KEYS}
    offset = 0
    for estimator in forest.estimators_:
        tree = estimator.tree_
        if isinstance(forest, RandomForestClassifier):
            value = tree.value[:, 0, :]
            column = np.flatnonzero(forest.classes_ == 1)
            positive = value[:, column[0]] if column.size else np.zeros(len(value))
            leaf = positive / np.where(value.sum(1) > 0, value.sum(1), 1.0)
        else:
            leaf = tree.value[:, 0, 0]
        parts["roots"].append(np.array([offset]))
        parts["left"].append(np.where(tree.children_left >= 0, tree.children_left + offset, -1))
        parts["right"].append(np.where(tree.children_right >= 0, tree.children_right + offset, -1))
        parts["feature"].append(tree.feature)
        parts["threshold"].append(tree.threshold)
        parts["value"].append(leaf)
        offset += tree.node_count
    return {key: np.concatenate(values) for key, values in parts.items()}


def _walk(arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Leaf value of every tree for every row, as scikit-learn (``x <= threshold`` goes left).

    Shapes:
        x: ``n x fp_size`` float32; returns ``n_trees x n``.
    """
    node = np.repeat(arrays["roots"][:, None], len(x), axis=1)
    rows = np.arange(len(x))[None, :]
    while True:
        inner = arrays["left"][node] >= 0
        if not inner.any():
            return arrays["value"][node]
        go_left = x[rows, arrays["feature"][node]] <= arrays["threshold"][node]
        step = np.where(go_left, arrays["left"][node], arrays["right"][node])
        node = np.where(inner, step, node)
