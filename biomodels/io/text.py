"""Text tables: a CSV/TSV with a free-text column and (optionally) a label column.

:func:`read_text_table` returns a :class:`TextSet` with one entry per data row, in file order:
every line of the file after the header is a row, blank lines included. A row whose text is
missing, empty (a blank line, blank cell or only whitespace) or not a string keeps its place with
the reason in ``errors``. Column names may be given; otherwise they are detected
(:func:`detect_text_columns`).
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

__all__ = [
    "LABEL_COLUMN_NAMES",
    "TEXT_COLUMN_NAMES",
    "TextSet",
    "detect_text_columns",
    "read_text_table",
    "text_errors",
    "text_set_from_frame",
    "texts_from_list",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
"""Suffixes of text tables (each optionally followed by ``.gz``); ``.tsv``/``.txt`` are tab-separated."""
TEXT_COLUMN_NAMES = ("text", "sentence", "description", "symptoms", "review", "document", "content")
LABEL_COLUMN_NAMES = ("label", "labels", "class", "diagnosis", "disease", "target", "category", "y")


@dataclass
class TextSet:
    """Texts of one input with ids, string labels and per-row errors.

    Attributes:
        texts: ``n`` texts; the raw value (possibly NaN or a number) on rows with an error.
        ids: ``n`` row identifiers (the 0-based data row number as text).
        labels: ``n`` label strings (None where missing), or None when there is no label column.
        errors: ``n`` reasons a row is unusable, None for good rows.
        text_col, label_col: the columns read.
        source: the file read.
    """

    texts: list[object]
    ids: list[str]
    labels: list[str | None] | None
    errors: list[str | None]
    text_col: str = "text"
    label_col: str | None = None
    source: str = "<texts>"

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def valid(self) -> np.ndarray:
        """``n`` bool: True where the row has no error."""
        return np.array([e is None for e in self.errors], dtype=bool)

    def label_names(self) -> list[str | None] | None:
        """``n`` label strings (None where missing), or None without a label column."""
        return None if self.labels is None else list(self.labels)

    def subset(self, index: np.ndarray) -> TextSet:
        """The rows at ``index`` (order kept), e.g. one partition of a split."""
        index = np.asarray(index, dtype=np.int64)
        return TextSet(
            texts=[self.texts[i] for i in index],
            ids=[self.ids[i] for i in index],
            labels=None if self.labels is None else [self.labels[i] for i in index],
            errors=[self.errors[i] for i in index],
            text_col=self.text_col,
            label_col=self.label_col,
            source=self.source,
        )


def texts_from_list(texts: Sequence[object], labels: Sequence[object] | None = None) -> TextSet:
    """A :class:`TextSet` of in-memory texts (ids ``"0"``, ``"1"``...) with optional labels."""
    texts = list(texts)
    if labels is not None and len(labels) != len(texts):
        raise ValueError(f"{len(labels)} labels for {len(texts)} texts")
    names = None if labels is None else [None if label is None else str(label) for label in labels]
    return TextSet(texts, [str(i) for i in range(len(texts))], names, text_errors(texts))


def text_errors(texts: Sequence[object]) -> list[str | None]:
    """Per-row reason a text cannot be classified: missing (NaN/None), not a string, or blank."""
    reasons: list[str | None] = []
    for text in texts:
        if text is None or (isinstance(text, float) and np.isnan(text)):
            reasons.append("missing text")
        elif not isinstance(text, str):
            reasons.append(f"text is a {type(text).__name__}, not a string")
        elif not text.strip():
            reasons.append("empty text")
        else:
            reasons.append(None)
    return reasons


def detect_text_columns(frame: pd.DataFrame) -> tuple[str, str | None]:
    """Guess the text column and the label column of a table.

    The text column is one named like :data:`TEXT_COLUMN_NAMES`, else the string column with the
    longest mean length. The label column is one named like :data:`LABEL_COLUMN_NAMES`, else the
    remaining string column with the fewest distinct values, if it repeats values (at most half as
    many distinct values as rows); else None.

    Raises:
        InputError: no column holds text.
    """
    lower = {str(c).lower(): c for c in frame.columns}
    strings = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, str)).mean() > 0.5]
    text_col = next((lower[n] for n in TEXT_COLUMN_NAMES if n in lower), None)
    if text_col is None:
        if not strings:
            raise InputError(None, f"no text column found among: {', '.join(map(str, frame.columns))}")
        text_col = max(strings, key=lambda c: frame[c].astype(str).str.len().mean())
    label_col = next((lower[n] for n in LABEL_COLUMN_NAMES if n in lower and lower[n] != text_col), None)
    if label_col is None:
        others = [c for c in strings if c != text_col and frame[c].nunique() <= max(len(frame) // 2, 2)]
        label_col = min(others, key=lambda c: frame[c].nunique()) if others else None
    return str(text_col), None if label_col is None else str(label_col)


def read_text_table(
    path: str | Path,
    text_col: str | None = None,
    label_col: str | None = None,
    require_labels: bool = False,
    encoding: str = DEFAULT_ENCODING,
) -> TextSet:
    """Read a CSV (``.tsv``/``.txt``: tab-separated) of texts and optional labels.

    Args:
        path: the table file (``.gz`` accepted by pandas).
        text_col: the text column; detected when None.
        label_col: the label column; detected when None (and ``text_col`` is None too, or
            ``require_labels``). Missing labels become None.
        require_labels: raise when no label column is given or found (training needs labels).
        encoding: the file's text encoding, decoded strictly.

    Raises:
        InputError: unreadable file or not a table, a line ``encoding`` cannot decode (naming
            it), a named column that does not exist, or no labels when ``require_labels``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    name = path.name.lower().removesuffix(".gz")
    if not name.endswith(TABLE_SUFFIXES):
        raise InputError(path, f"a text table is a {', '.join(TABLE_SUFFIXES)} file (optionally .gz)")
    sep = "\t" if name.endswith((".tsv", ".txt")) else ","
    try:
        with read_errors(path, encoding):
            frame = pd.read_csv(
                path, sep=sep, dtype=object, keep_default_na=False, skip_blank_lines=False, encoding=encoding
            )
    except InputError:
        raise
    except (OSError, ValueError, LookupError, pd.errors.ParserError) as exc:
        raise InputError(path, f"cannot read table ({' '.join(str(exc).split())})") from None
    return text_set_from_frame(frame, text_col, label_col, require_labels, source=str(path))


def text_set_from_frame(
    frame: pd.DataFrame,
    text_col: str | None = None,
    label_col: str | None = None,
    require_labels: bool = False,
    source: str = "<frame>",
) -> TextSet:
    """The :class:`TextSet` of a table already in memory (see :func:`read_text_table`).

    Raises:
        ColumnNotFoundError: a named column that is not in ``frame`` (the message lists them).
        InputError: no text column, or no label column when ``require_labels``.
    """
    path = source
    for name in (text_col, label_col):
        if name is not None and name not in frame.columns:
            raise ColumnNotFoundError(path, name, list(frame.columns))
    if text_col is None or (label_col is None and require_labels):
        try:
            detected_text, detected_label = detect_text_columns(frame.replace({"": None}))
        except InputError as exc:
            raise InputError(path, exc.reason) from None
        text_col = text_col or detected_text
        label_col = label_col or (detected_label if detected_label != text_col else None)
    if require_labels and label_col is None:
        columns = ", ".join(map(str, frame.columns))
        raise InputError(path, f"no label column found; name it with --label-col (columns: {columns})")
    texts = [None if pd.isna(v) else v for v in frame[text_col]]
    labels = None
    if label_col is not None:
        labels = [None if pd.isna(v) or not str(v).strip() else str(v).strip() for v in frame[label_col]]
    result = TextSet(
        texts,
        [str(i) for i in range(len(frame))],
        labels,
        text_errors(texts),
        text_col=str(text_col),
        label_col=None if label_col is None else str(label_col),
        source=source,
    )
    logger.info(
        "read %d texts (%d unusable) from %s, text column %r, label column %r",
        len(result),
        int((~result.valid).sum()),
        source,
        text_col,
        label_col,
    )
    return result
