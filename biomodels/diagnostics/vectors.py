"""Row checking and reading of feature-vector inputs, shared by ``ridge`` and ``dense-autoencoder``.

A vector model fits on a :class:`~biomodels.io.vectors.VectorSet` and learns the names of its
feature columns (``feature_names_``), so it can predict an ``n x d`` array, a list of vectors,
a VectorSet, or a DataFrame / CSV whose feature columns it picks by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomodels.diagnostics.base import Prepared, check_path_kind
from biomodels.exceptions import ColumnNotFoundError, InputError
from biomodels.io.vectors import VectorSet

if TYPE_CHECKING:
    from biomodels.train.estimator import TrainingData
    from biomodels.train.run import TrainRunConfig

__all__ = ["VectorInputMixin", "prepare_vectors"]


def prepare_vectors(X: Any, n_features: int | None) -> Prepared:
    """Check feature-vector rows: each must have ``n_features`` finite numbers.

    ``X`` is an ``n x d`` array or a sequence of vectors; ``data`` is ``n_valid x d`` float32.
    """
    rows = list(X)
    errors: list[str | None] = []
    good = []
    for row in rows:
        try:
            vector = np.asarray(row, dtype=np.float32).ravel()
        except (TypeError, ValueError):
            errors.append("not a numeric vector")
            continue
        if n_features is not None and vector.size != n_features:
            errors.append(f"vector has {vector.size} values, expected {n_features}")
        elif not np.isfinite(vector).all():
            errors.append("vector has non-finite values")
        else:
            errors.append(None)
            good.append(vector)
    width = n_features if n_features is not None else (good[0].size if good else 0)
    data = np.stack(good) if good else np.zeros((0, width), dtype=np.float32)
    return Prepared([str(i) for i in range(len(rows))], errors, data)


class VectorInputMixin:
    """Reading and row checking of vector estimators (``feature_names_`` once fitted)."""

    input_kind = "vector"
    needs_targets = False
    """Whether the model regresses targets (its training table must name them)."""
    feature_names_: list[str]
    target_names_: list[str] | None

    @classmethod
    def training_data(cls, config: TrainRunConfig) -> TrainingData:
        """A numeric table, split (see :mod:`biomodels.diagnostics.data`)."""
        from biomodels.diagnostics.data import vector_training_data

        return vector_training_data(config, needs_targets=cls.needs_targets)

    def _as_vector_set(self, X: Any) -> VectorSet | None:
        """``X`` as a :class:`VectorSet` (a table's feature columns picked by name), or None
        for raw rows (an array or a list of vectors)."""
        if isinstance(X, VectorSet):
            return X
        source = "<frame>"
        if isinstance(X, (str, Path)):
            check_path_kind(X, "vector", type(self).__name__)
            source = str(X)
            try:
                X = pd.read_csv(
                    X, sep="\t" if str(X).lower().removesuffix(".gz").endswith((".tsv", ".txt")) else ","
                )
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise InputError(source, f"cannot read table ({' '.join(str(exc).split())})") from None
        if not isinstance(X, pd.DataFrame):
            return None
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if missing:
            raise ColumnNotFoundError(source, missing[0], list(X.columns))
        targets = None
        names = getattr(self, "target_names_", None)
        if names and all(t in X.columns for t in names):
            targets = X[names].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        features = X[self.feature_names_].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        target_names = names if targets is not None else None
        return VectorSet(features, targets, None, None, list(self.feature_names_), target_names, source)

    def _prepare(self, X: Any) -> Prepared:
        vectors = self._as_vector_set(X)
        n_features = getattr(self, "n_features_", None)
        if vectors is None:
            return prepare_vectors(X, n_features)
        prepared = prepare_vectors(vectors.X, n_features)
        prepared.ids, prepared.labels = list(vectors.ids), vectors.label_names()
        return prepared

    def _clean_vectors(self, data: Any, what: str) -> tuple[VectorSet, np.ndarray]:
        """A clean :class:`VectorSet` and its ``n x d`` float32 features.

        Raises:
            ValueError: not a VectorSet, or rows of the wrong width or with non-finite values.
        """
        if not isinstance(data, VectorSet):
            raise ValueError(f"{what} data must be a VectorSet, not {type(data).__name__}")
        prepared = prepare_vectors(data.X, None if what == "training" else getattr(self, "n_features_", None))
        prepared.require_usable(what)
        return data, prepared.data
