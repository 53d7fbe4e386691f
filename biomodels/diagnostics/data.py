"""Training data of the diagnostic models: read a file, split it, keep the usable labelled rows.

What :meth:`~biomodels.train.estimator.Estimator.training_data` of each diagnostic family
returns, from the run's :class:`~biomodels.train.run.TrainRunConfig`:

- images: a MedMNIST ``.npz`` brings its own train / val / test split; an image folder
  (``class_name/*.png``) is split by ``config.split`` (``stratified`` keeps each class's share)
  with ``config.sizes``, or by ``config.split_file``. ``config.class_names`` names the ``.npz``
  file's integer classes (or orders the folder's classes).
- texts: a CSV/TSV with the columns ``config.text_col`` and ``config.label_col`` (detected when
  None; a named column that is absent is an error listing the columns), split like a folder.
  The classes are the training partition's labels.
- vectors: a CSV/TSV of numeric features with the target columns ``config.targets``
  (regression, ``ridge``) and/or the label column ``config.label_col``, split like a folder.

Rows with an error or a missing / unknown label (or target) are left out of every partition and
counted in the summary's ``skipped``, so ``fit`` and ``evaluate`` see clean labelled sets.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from biomodels.data.splits import SPLITTERS, Split, load_split_file
from biomodels.exceptions import InputError
from biomodels.io.images import ImageSet, read_image_folder, read_npz_images
from biomodels.io.text import TextSet, read_text_table
from biomodels.io.vectors import read_vector_table
from biomodels.train.estimator import TrainingData

if TYPE_CHECKING:
    from biomodels.train.run import TrainRunConfig

logger = logging.getLogger(__name__)

__all__ = [
    "IMAGE_SIZES",
    "TEXT_SIZES",
    "data_kind",
    "image_training_data",
    "text_training_data",
    "vector_training_data",
]

IMAGE_SIZES = (0.8, 0.1, 0.1)
"""Train / val / test fractions the ``diagnostics train`` command uses for image folders."""
TEXT_SIZES = (0.7, 0.1, 0.2)
"""... and for text tables: the 20 % test share of the usual 80/20 text benchmark, with a tenth
of the data held out from training for the choice of the best epoch."""


def data_kind(path: str | Path) -> str:
    """``"image"`` for an ``.npz`` file or a folder, ``"table"`` for a .csv/.tsv/.txt (.gz) file."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".npz":
        return "image"
    if path.name.lower().removesuffix(".gz").endswith((".csv", ".tsv", ".txt")):
        return "table"
    raise InputError(
        path, "cannot tell the data kind: expected an .npz file, an image folder or a .csv/.tsv table"
    )


def image_training_data(config: TrainRunConfig) -> TrainingData:
    """Partitions (:class:`~biomodels.io.images.ImageSet`) of an ``.npz`` file or an image folder."""
    path = Path(config.data)
    if data_kind(path) != "image":
        raise InputError(path, f"the {config.model} model trains on images: an .npz file or an image folder")
    if path.suffix.lower() == ".npz":
        parts = [read_npz_images(path, split, config.class_names) for split in ("train", "val", "test")]
        if any(part.labels is None for part in parts):
            raise InputError(path, "needs train/val/test labels arrays to train on")
        split: dict[str, Any] = {
            "method": "predefined",
            "source": "npz train/val/test arrays",
            **{name: part.ids for name, part in zip(("train", "val", "test"), parts, strict=True)},
        }
        rows = sum(len(p) for p in parts)
    else:
        full = read_image_folder(path, classes=config.class_names)
        if full.labels is None:
            raise InputError(path, "image folder has no class sub-folders, so no labels to train on")
        cut = _split(config, len(full), full.label_names())
        parts = [full.subset(cut.train), full.subset(cut.val), full.subset(cut.test)]
        split, rows = cut.to_dict(), len(full)
    return _usable(config, "image", parts, list(parts[0].classes), split, rows)


def text_training_data(config: TrainRunConfig) -> TrainingData:
    """Partitions (:class:`~biomodels.io.text.TextSet`) of a labelled text table."""
    path = Path(config.data)
    if data_kind(path) != "table":
        raise InputError(path, f"the {config.model} model trains on texts: a .csv/.tsv table")
    full = read_text_table(
        path, config.text_col, config.label_col, require_labels=True, encoding=config.encoding
    )
    cut = _split(config, len(full), full.label_names())
    parts = [full.subset(cut.train), full.subset(cut.val), full.subset(cut.test)]
    train = parts[0]
    classes = sorted(
        {str(label) for label, ok in zip(train.labels, train.valid, strict=True) if ok and label}
    )
    return _usable(config, "text", parts, classes, cut.to_dict(), len(full))


def vector_training_data(config: TrainRunConfig, needs_targets: bool) -> TrainingData:
    """Partitions (:class:`~biomodels.io.vectors.VectorSet`) of a numeric table.

    Args:
        needs_targets: the model regresses ``config.targets`` (which must then be named).
    """
    path = Path(config.data)
    if needs_targets and not config.targets:
        raise InputError(path, f"name the target column(s) the {config.model} model regresses (--target)")
    full = read_vector_table(
        path, config.targets if needs_targets else (), config.label_col, encoding=config.encoding
    )
    cut = _split(config, len(full), full.label_names())
    parts = [full.subset(cut.train), full.subset(cut.val), full.subset(cut.test)]
    usable, skipped = [], {}
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        keep = np.isfinite(part.X).all(1)
        if part.targets is not None:
            keep &= np.isfinite(part.targets).all(1)
        skipped[name] = int((~keep).sum())
        usable.append(part.subset(np.flatnonzero(keep)))
    summary: dict[str, Any] = {"kind": "vector", "rows": len(full), "features": len(full.feature_names)}
    if needs_targets:
        summary["task"] = "regression"
    return _result(config, usable, cut.to_dict(), summary, skipped)


def _split(config: TrainRunConfig, n: int, labels: list[str | None] | None) -> Split:
    """The split file of the config, else its splitter (which must split by count or labels)."""
    if config.split_file:
        return load_split_file(config.split_file, n)
    needs = SPLITTERS.info(config.split).get("needs", "count")
    if needs == "count":
        return SPLITTERS.get(config.split)(n, sizes=config.sizes, seed=config.seed)
    if needs == "labels" and labels is not None:
        strata = np.array(["" if label is None else str(label) for label in labels], dtype=object)
        return SPLITTERS.get(config.split)(strata, sizes=config.sizes, seed=config.seed)
    usable = [s for s in SPLITTERS.names() if SPLITTERS.info(s).get("needs", "count") == "count"]
    if labels is not None:
        usable += [s for s in SPLITTERS.names() if SPLITTERS.info(s).get("needs") == "labels"]
    raise InputError(
        config.data,
        f"a {config.split} split does not apply to this data; use one of: {', '.join(sorted(usable))}",
    )


def _usable(
    config: TrainRunConfig,
    kind: str,
    parts: list[ImageSet | TextSet],
    classes: list[str],
    split: dict[str, Any],
    rows: int,
) -> TrainingData:
    """Keep the rows without error whose label is one of ``classes``."""
    if len(classes) < 2:
        raise InputError(config.data, f"need at least two classes to train a classifier, found {classes}")
    known = set(classes)
    usable, skipped = [], {}
    for name, part in zip(("train", "val", "test"), parts, strict=True):
        keep = part.valid & np.array([label in known for label in part.label_names()], dtype=bool)
        skipped[name] = int((~keep).sum())
        usable.append(part.subset(np.flatnonzero(keep)))
    summary = {"kind": kind, "rows": rows, "classes": classes}
    return _result(config, usable, split, summary, skipped)


def _result(
    config: TrainRunConfig,
    parts: list[Any],
    split: dict[str, Any],
    summary: dict[str, Any],
    skipped: dict[str, int],
) -> TrainingData:
    if any(skipped.values()):
        logger.warning("left out rows with errors or missing/unknown labels: %s", skipped)
    sizes = {name: len(part) for name, part in zip(("train", "val", "test"), parts, strict=True)}
    if not sizes["train"]:
        raise InputError(config.data, "no usable training rows")
    logger.info("split %s: %d train / %d val / %d test", split.get("method"), *sizes.values())
    summary = {**summary, "sizes": sizes, "skipped": skipped}
    return TrainingData(*parts, split=split, summary=summary)
