"""Data sets for the diagnostic models: read a file, split it, keep the usable training rows.

An ``.npz`` file in the MedMNIST layout brings its own train / val / test split. An image folder
or a text table is split with :func:`biomodels.data.splits.stratified_split` (images 80/10/10,
texts 70/10/20: the 20 % test share of the usual 80/20 text benchmark, with a tenth of the data
held out from training for the choice of the best epoch). Rows with an error or a missing label
are left out of training and scoring, and counted in :attr:`DiagnosticData.skipped`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from biomodels.data.splits import stratified_split
from biomodels.exceptions import InputError
from biomodels.io.images import ImageSet, read_image_folder, read_npz_images
from biomodels.io.text import TextSet, read_text_table

logger = logging.getLogger(__name__)

__all__ = ["IMAGE_SPLIT", "TEXT_SPLIT", "DiagnosticData", "data_kind", "label_indices", "load_data"]

IMAGE_SPLIT = (0.8, 0.1, 0.1)
TEXT_SPLIT = (0.7, 0.1, 0.2)


@dataclass
class DiagnosticData:
    """Train / validation / test partitions of one data set (usable, labelled rows only).

    Attributes:
        kind: ``"image"`` or ``"text"``.
        train, val, test: the partitions.
        classes: class names, in index order (image labels are indices into it; text labels are
            the names themselves).
        split: how the partitions were made (method, seed, sizes), for the run record.
        skipped: rows left out per partition because of an error or a missing label.
    """

    kind: str
    train: ImageSet | TextSet
    val: ImageSet | TextSet
    test: ImageSet | TextSet
    classes: list[str]
    split: dict[str, Any]
    skipped: dict[str, int] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def data_kind(path: str | Path) -> str:
    """``"image"`` for an ``.npz`` file or a folder, ``"text"`` for a table (.csv/.tsv/.txt, .gz)."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".npz":
        return "image"
    if path.name.lower().removesuffix(".gz").endswith((".csv", ".tsv", ".txt")):
        return "text"
    raise InputError(
        path, "cannot tell the data kind: expected an .npz file, an image folder or a .csv/.tsv table"
    )


def label_indices(data: ImageSet | TextSet, classes: Sequence[str]) -> np.ndarray:
    """``n`` class indices of a partition's labels (-1 where the label is not in ``classes``)."""
    if isinstance(data, ImageSet):
        return np.asarray(data.labels, dtype=np.int64)
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index.get(str(label), -1) for label in data.labels], dtype=np.int64)


def load_data(
    path: str | Path,
    seed: int = 0,
    text_col: str | None = None,
    label_col: str | None = None,
    class_names: Sequence[str] | None = None,
) -> DiagnosticData:
    """Read and split a data set for training (see the module docstring).

    Args:
        path: ``.npz`` (MedMNIST layout), image folder, or text table.
        seed: seed of the stratified split (unused for ``.npz`` files, which are pre-split).
        text_col, label_col: columns of a text table (detected when None).
        class_names: names of the integer classes of an ``.npz`` file, or the class order of an
            image folder.

    Raises:
        InputError: unreadable data, no labels, or fewer than two classes.
    """
    kind = data_kind(path)
    if kind == "image" and Path(path).suffix.lower() == ".npz":
        parts = [read_npz_images(path, split, class_names) for split in ("train", "val", "test")]
        if any(part.labels is None for part in parts):
            raise InputError(path, "needs train/val/test labels arrays to train on")
        split = {"method": "predefined", "source": "npz train/val/test arrays"}
    else:
        if kind == "image":
            full: ImageSet | TextSet = read_image_folder(path, classes=class_names)
            sizes = IMAGE_SPLIT
            if full.labels is None:
                raise InputError(path, "image folder has no class sub-folders, so no labels to train on")
            strata = full.labels
        else:
            full = read_text_table(path, text_col, label_col, require_labels=True)
            sizes = TEXT_SPLIT
            strata = np.array([str(label) for label in full.labels], dtype=object)
        cut = stratified_split(strata, sizes=sizes, seed=seed)
        parts = [full.subset(cut.train), full.subset(cut.val), full.subset(cut.test)]
        split = {"method": cut.method, "seed": seed, "sizes": list(sizes)}
    classes = (
        parts[0].classes
        if kind == "image"
        else sorted({str(label) for label in parts[0].labels if label is not None})
    )
    if len(classes) < 2:
        raise InputError(path, f"need at least two classes to train a classifier, found {classes}")
    usable, skipped = [], {}
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        keep = part.valid & (label_indices(part, classes) >= 0)
        skipped[name] = int((~keep).sum())
        usable.append(part.subset(np.flatnonzero(keep)))
    if any(skipped.values()):
        logger.warning("left out rows with errors or missing/unknown labels: %s", skipped)
    return DiagnosticData(kind, *usable, classes=list(classes), split=split, skipped=skipped)
