"""Feature-vector tables: numeric feature columns with optional numeric targets or class labels.

:class:`VectorSet` is what the vector models (``ridge``, ``dense-autoencoder``) fit, predict and
evaluate on: an ``n x d`` matrix with, optionally, ``n x T`` regression targets and ``n`` class
labels (e.g. which rows are normal, for an autoencoder). :func:`read_vector_table` reads one from
a CSV/TSV: the named target and label columns, and every other numeric column as a feature.
Rows are never dropped: a row with a missing or non-numeric value keeps its place as NaN and the
model reports it in its ``error`` column.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from biomodels.exceptions import ColumnNotFoundError, InputError
from biomodels.io.textfiles import DEFAULT_ENCODING, read_errors

logger = logging.getLogger(__name__)

__all__ = ["VectorSet", "read_vector_table"]


@dataclass
class VectorSet:
    """Feature vectors of one input, with optional targets and labels.

    Attributes:
        X: ``n x d`` float64 features (NaN where a value is missing).
        targets: ``n x T`` float64 regression targets (NaN where missing), or None.
        labels: ``n`` class names (None where missing), or None.
        ids: ``n`` row identifiers; ``"0"``, ``"1"``... by default.
        feature_names: ``d`` names; ``x0``, ``x1``... by default.
        target_names: ``T`` names; ``y`` (one target) or ``y0``, ``y1``... by default.
        source: the file read.
    """

    X: np.ndarray
    targets: np.ndarray | None = None
    labels: list[str | None] | None = None
    ids: list[str] | None = None
    feature_names: list[str] | None = None
    target_names: list[str] | None = None
    source: str = "<arrays>"

    def __post_init__(self) -> None:
        self.X = np.asarray(self.X, dtype=np.float64)
        if self.X.ndim != 2:
            raise ValueError(f"X must be n x d, got shape {self.X.shape}")
        n = len(self.X)
        if self.targets is not None:
            self.targets = np.asarray(self.targets, dtype=np.float64).reshape(n, -1)
            if self.target_names is None:
                t = self.targets.shape[1]
                self.target_names = ["y"] if t == 1 else [f"y{i}" for i in range(t)]
        if self.labels is not None:
            self.labels = [None if label is None else str(label) for label in self.labels]
            if len(self.labels) != n:
                raise ValueError(f"{len(self.labels)} labels for {n} rows")
        self.ids = [str(i) for i in range(n)] if self.ids is None else [str(i) for i in self.ids]
        if self.feature_names is None:
            self.feature_names = [f"x{i}" for i in range(self.X.shape[1])]

    def __len__(self) -> int:
        return len(self.X)

    def label_names(self) -> list[str | None] | None:
        return None if self.labels is None else list(self.labels)

    def subset(self, index: np.ndarray) -> VectorSet:
        """The rows at ``index`` (order kept), e.g. one partition of a split."""
        index = np.asarray(index, dtype=np.int64)
        return VectorSet(
            self.X[index],
            None if self.targets is None else self.targets[index],
            None if self.labels is None else [self.labels[i] for i in index],
            [self.ids[i] for i in index],
            list(self.feature_names),
            None if self.target_names is None else list(self.target_names),
            self.source,
        )


def read_vector_table(
    path: str | Path,
    targets: Sequence[str] = (),
    label_col: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> VectorSet:
    """Read a CSV (``.tsv``/``.txt``: tab-separated) of numeric features.

    Args:
        path: the table file.
        targets: numeric target columns (regression).
        label_col: a class-label column.
        encoding: the file's text encoding, decoded strictly.

    Every other column that holds numbers is a feature; other columns are left out and named
    in the log. A blank line is a row (of missing values), so rows keep the file's numbering.

    Raises:
        InputError: unreadable file, a line ``encoding`` cannot decode, a named column that
            does not exist, or no feature column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    sep = "\t" if path.name.lower().removesuffix(".gz").endswith((".tsv", ".txt")) else ","
    try:
        with read_errors(path, encoding):
            frame = pd.read_csv(path, sep=sep, skip_blank_lines=False, encoding=encoding)
    except InputError:
        raise
    except (OSError, ValueError, LookupError, pd.errors.ParserError) as exc:
        raise InputError(path, f"cannot read table ({' '.join(str(exc).split())})") from None
    named = [*targets, *([label_col] if label_col else [])]
    for name in named:
        if name not in frame.columns:
            raise ColumnNotFoundError(path, name, list(frame.columns))
    others = [c for c in frame.columns if c not in named]
    features = [c for c in others if pd.api.types.is_numeric_dtype(frame[c])]
    if not features:
        raise InputError(path, f"no numeric feature column among: {', '.join(map(str, others))}")
    left_out = [c for c in others if c not in features]
    if left_out:
        logger.info("%s: non-numeric columns left out of the features: %s", path, ", ".join(left_out))
    values = frame[list(targets)].apply(pd.to_numeric, errors="coerce") if targets else None
    labels = None
    if label_col:
        labels = [None if pd.isna(v) else str(v).strip() for v in frame[label_col]]
    return VectorSet(
        frame[features].to_numpy(np.float64),
        None if values is None else values.to_numpy(np.float64),
        labels,
        feature_names=[str(c) for c in features],
        target_names=[str(t) for t in targets] or None,
        source=str(path),
    )
