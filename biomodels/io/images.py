"""Image readers: MedMNIST ``.npz`` files and ``class_name/*.png`` folders, one record per image.

Every reader returns an :class:`ImageSet`: all images as one float array with intensities in
``[0, 1]`` (grey, channel dropped), plus per-row ids, labels and errors. A row that cannot be used
(an unreadable file, an image of the wrong size, non-finite pixels) keeps its place with a zero
image and its reason in ``errors``, so predictions always line up with the input rows.

Normalisation to zero mean and unit variance is done by the models with statistics of their
training images (:func:`pixel_statistics`); train-time augmentation lives in
:mod:`biomodels.diagnostics.augment`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from biomodels.exceptions import InputError

logger = logging.getLogger(__name__)

__all__ = [
    "IMAGE_SUFFIXES",
    "NPZ_SPLITS",
    "ImageSet",
    "images_from_arrays",
    "pixel_statistics",
    "read_image_folder",
    "read_images",
    "read_npz_images",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif")
NPZ_SPLITS = ("train", "val", "test")


@dataclass
class ImageSet:
    """Images of one input with their ids, labels and per-row errors.

    Attributes:
        images: ``n x H x W`` float32 intensities in ``[0, 1]``; zeros on rows with an error.
        ids: ``n`` row identifiers (``"split:index"`` for ``.npz`` rows, relative paths for files).
        labels: ``n`` int64 class indices into ``classes``, -1 where unknown; None when the input
            carries no labels.
        classes: class names, in class-index order (empty without labels).
        errors: ``n`` reasons a row is unusable, None for good rows.
        source: the file or folder read.
    """

    images: np.ndarray
    ids: list[str]
    labels: np.ndarray | None
    classes: list[str]
    errors: list[str | None]
    source: str = "<arrays>"

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def valid(self) -> np.ndarray:
        """``n`` bool: True where the row has no error."""
        return np.array([e is None for e in self.errors], dtype=bool)

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.images.shape[1]), int(self.images.shape[2])

    def label_names(self) -> list[str | None] | None:
        """``n`` class names of the labels (None where unknown), or None without labels."""
        if self.labels is None:
            return None
        return [self.classes[i] if 0 <= i < len(self.classes) else None for i in self.labels.tolist()]

    def subset(self, index: np.ndarray) -> ImageSet:
        """The rows at ``index`` (order kept), e.g. one partition of a split."""
        index = np.asarray(index, dtype=np.int64)
        return ImageSet(
            images=self.images[index],
            ids=[self.ids[i] for i in index],
            labels=None if self.labels is None else self.labels[index],
            classes=list(self.classes),
            errors=[self.errors[i] for i in index],
            source=self.source,
        )


def pixel_statistics(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of all pixels (``n x H x W``), used to normalise inputs."""
    images = np.asarray(images, dtype=np.float64)
    std = float(images.std())
    return float(images.mean()), std if std > 0 else 1.0


def images_from_arrays(
    arrays: Sequence[np.ndarray | None],
    size: tuple[int, int] | None = None,
    ids: Sequence[str] | None = None,
    errors: Sequence[str | None] | None = None,
    labels: Sequence[int] | np.ndarray | None = None,
    classes: Sequence[str] | None = None,
) -> ImageSet:
    """Validate a list of single images and stack them into an :class:`ImageSet`.

    Each array may be ``H x W``, ``H x W x 1``, ``1 x H x W`` (grey) or ``H x W x 3/4``
    (RGB(A), converted to grey by averaging the colour channels); integer arrays are read as
    0..255 intensities, float arrays as ``[0, 1]``. A row gets an error instead of an image when
    its array is None, has another shape, another size than ``size``, or non-finite values.

    Args:
        arrays: one array per row; None marks a row already known to be bad.
        size: the required ``(H, W)``; defaults to the size of the first good image.
        ids: row identifiers; defaults to ``"0"``, ``"1"``, ...
        errors: reasons already known per row (kept as given; the row's array is ignored).
        labels: ``n`` class indices (-1 where unknown), to make a labelled set; None: unlabelled.
        classes: the class names of ``labels``; defaults to ``"0" .. "C-1"``.
    """
    n = len(arrays)
    ids = [str(i) for i in range(n)] if ids is None else [str(i) for i in ids]
    reasons: list[str | None] = [None] * n if errors is None else list(errors)
    grey: list[np.ndarray | None] = [None] * n
    for i, array in enumerate(arrays):
        if reasons[i] is not None:
            continue
        if array is None:
            reasons[i] = "no image"
            continue
        grey[i], reasons[i] = _to_grey(np.asarray(array))
        if grey[i] is not None and size is None:
            size = grey[i].shape
    size = size if size is not None else (28, 28)
    images = np.zeros((n, *size), dtype=np.float32)
    for i, image in enumerate(grey):
        if image is None:
            continue
        if image.shape != tuple(size):
            reasons[i] = f"image is {image.shape[0]}x{image.shape[1]}, expected {size[0]}x{size[1]}"
        else:
            images[i] = image
    if labels is None:
        return ImageSet(images, ids, None, [], reasons)
    label_array = np.asarray(labels, dtype=np.int64).reshape(n)
    if classes is None:
        classes = [str(c) for c in range(int(label_array.max()) + 1 if n else 0)]
    return ImageSet(images, ids, label_array, [str(c) for c in classes], reasons)


def read_npz_images(
    path: str | Path, split: str | None = None, class_names: Sequence[str] | None = None
) -> ImageSet:
    """Read one split of a MedMNIST-layout ``.npz`` file (no pickle).

    The MedMNIST layout holds ``{split}_images`` (``n x H x W`` or ``n x H x W x C`` uint8) and
    ``{split}_labels`` (``n x 1``) for ``split`` in train / val / test. A plain file with an
    ``images`` key (and optionally ``labels``) is read too.

    Args:
        path: the ``.npz`` file.
        split: ``"train"``, ``"val"`` or ``"test"``; None picks ``test`` when present, else
            ``images`` (what prediction wants).
        class_names: names of the integer classes ``0 .. C-1``; defaults to ``"0"``, ``"1"``...

    Raises:
        InputError: the file is missing or unreadable, or holds no images for ``split``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise InputError(path, f"not a readable .npz file ({exc})") from None
    key = _npz_key(path, arrays, split)
    prefix = key[: -len("images")]
    images = arrays[key]
    rows = len(images) if images.ndim else 1
    ids = [f"{prefix}{i}" if prefix else str(i) for i in range(rows)]
    if images.ndim not in (3, 4):
        reason = f"array {key!r} has shape {images.shape}; expected n x H x W (x C)"
        result = images_from_arrays([None] * rows, ids=ids, errors=[reason] * rows)
    else:
        result = images_from_arrays(list(images), ids=ids)
    result.source = str(path)
    labels = arrays.get(f"{prefix}labels")
    if labels is not None:
        labels = np.asarray(labels).reshape(rows, -1)[:, 0].astype(np.int64)
        n_classes = int(labels.max()) + 1 if rows else 0
        names = list(class_names) if class_names is not None else [str(c) for c in range(n_classes)]
        if len(names) < n_classes:
            raise InputError(path, f"{len(names)} class names for labels up to {n_classes - 1}")
        result.labels, result.classes = labels, names
    logger.info("read %d images (%d unusable) from %s[%s]", rows, rows - result.valid.sum(), path, key)
    return result


def read_image_folder(
    path: str | Path, classes: Sequence[str] | None = None, size: tuple[int, int] | None = None
) -> ImageSet:
    """Read ``path/class_name/*.png|jpg...`` (labelled) or ``path/*.png|jpg...`` (unlabelled).

    Files are read with Pillow and converted to grey (mode ``"L"``); rows are sorted by class
    folder then file name. An unreadable file or one of another size than ``size`` (default:
    the first readable image's) becomes a row with an error. Images are not resized: a model
    trained on 28 x 28 images says so rather than silently rescaling.

    Args:
        path: the folder.
        classes: class names in class-index order; defaults to the sorted sub-folder names.
            Sub-folders not among them are labelled -1 with an error.
        size: required ``(H, W)``.

    Raises:
        InputError: the folder does not exist or holds no image files.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(path, "not a folder")
    folders = sorted(p for p in path.iterdir() if p.is_dir())
    files = [(None, f) for f in _image_files(path)]
    files += [(folder.name, f) for folder in folders for f in _image_files(folder)]
    if not files:
        raise InputError(path, f"no image files ({', '.join(IMAGE_SUFFIXES)}) in it or its sub-folders")
    labelled = any(name is not None for name, _ in files)
    names = list(classes) if classes is not None else [f.name for f in folders]
    arrays: list[np.ndarray | None] = []
    errors: list[str | None] = []
    labels = np.full(len(files), -1, dtype=np.int64)
    for i, (folder, file) in enumerate(files):
        array, reason = _read_image_file(file)
        if folder is not None and folder in names:
            labels[i] = names.index(folder)
        elif labelled and reason is None:
            reason = (
                f"class folder {folder!r} is not a known class"
                if folder
                else "image outside the class folders"
            )
        arrays.append(array)
        errors.append(reason)
    result = images_from_arrays(
        arrays, size=size, ids=[str(f.relative_to(path)) for _, f in files], errors=errors
    )
    result.source = str(path)
    if labelled:
        result.labels, result.classes = labels, names
    logger.info("read %d images (%d unusable) from %s", len(files), len(files) - result.valid.sum(), path)
    return result


def read_images(
    path: str | Path,
    split: str | None = None,
    class_names: Sequence[str] | None = None,
    size: tuple[int, int] | None = None,
) -> ImageSet:
    """Read an ``.npz`` file (see :func:`read_npz_images`) or an image folder."""
    path = Path(path)
    if path.is_dir():
        return read_image_folder(path, classes=class_names, size=size)
    if path.suffix.lower() == ".npz":
        return read_npz_images(path, split=split, class_names=class_names)
    raise InputError(path, "expected an .npz file or a folder of images")


def _npz_key(path: Path, arrays: dict[str, np.ndarray], split: str | None) -> str:
    if split is not None:
        if split not in NPZ_SPLITS:
            raise ValueError(f"unknown split {split!r}; choose one of: {', '.join(NPZ_SPLITS)}")
        candidates = [f"{split}_images"]
    else:
        candidates = ["test_images", "images"]
    for key in candidates:
        if key in arrays:
            return key
    raise InputError(
        path, f"no {' or '.join(repr(k) for k in candidates)} array; keys are: {', '.join(arrays)}"
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)


def _read_image_file(path: Path) -> tuple[np.ndarray | None, str | None]:
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L")), None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        return None, f"unreadable image ({' '.join(str(exc).split()) or type(exc).__name__})"


def _to_grey(array: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """One image as ``H x W`` float32 in ``[0, 1]``, or None and the reason it is unusable."""
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        return None, f"array of dtype {array.dtype} is not numeric"
    scale = 255.0 if np.issubdtype(array.dtype, np.integer) else 1.0
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    elif array.ndim == 3 and array.shape[-1] in (1, 3, 4):
        array = array[..., :3].mean(axis=-1) if array.shape[-1] > 1 else array[..., 0]
    if array.ndim != 2 or min(array.shape) == 0:
        return None, f"array of shape {array.shape} is not a grey or RGB image"
    image = array.astype(np.float32) / scale
    if not np.isfinite(image).all():
        return None, "image has non-finite pixel values"
    return image, None
