"""Readers of image and text data: layouts, detection, and per-row errors that keep every row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from biomodels.exceptions import ColumnNotFoundError, InputError
from biomodels.io.images import images_from_arrays, read_image_folder, read_npz_images
from biomodels.io.text import detect_text_columns, read_text_table


def test_read_npz_split_shapes_and_labels(pneumonia_path: Path) -> None:
    test = read_npz_images(pneumonia_path, "test", class_names=["normal", "pneumonia"])
    assert test.images.shape == (468, 28, 28)
    assert test.images.dtype == np.float32 and test.images.min() >= 0 and test.images.max() <= 1
    assert np.bincount(test.labels).tolist() == [234, 234]
    assert test.classes == ["normal", "pneumonia"]
    assert test.ids[:2] == ["test_0", "test_1"] and all(e is None for e in test.errors)


def test_read_npz_wrong_shape_marks_every_row(tmp_path: Path) -> None:
    path = tmp_path / "flat.npz"
    np.savez(path, images=np.zeros((3, 784), dtype=np.uint8))
    images = read_npz_images(path)
    assert len(images) == 3
    assert images.errors[0].startswith("array 'images' has shape (3, 784)")


def test_read_npz_missing_key_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, pictures=np.zeros((2, 28, 28)))
    with pytest.raises(InputError, match="no 'test_images' or 'images' array; keys are: pictures"):
        read_npz_images(path)


def test_images_from_arrays_keeps_bad_rows_in_place() -> None:
    good = np.full((28, 28), 255, dtype=np.uint8)
    rgb = np.zeros((28, 28, 3), dtype=np.uint8)
    nan = np.full((28, 28), np.nan)
    result = images_from_arrays([good, np.zeros((3, 5)), rgb, None, nan], size=(28, 28))
    assert result.errors == [
        None,
        "image is 3x5, expected 28x28",
        None,
        "no image",
        "image has non-finite pixel values",
    ]
    assert result.images.shape == (5, 28, 28)
    assert result.images[0].min() == 1.0 and result.images[1].max() == 0.0


def test_read_image_folder_with_unreadable_and_wrong_size(tmp_path: Path) -> None:
    for cls in ("normal", "pneumonia"):
        (tmp_path / cls).mkdir()
        Image.fromarray(np.full((28, 28), 100, dtype=np.uint8)).save(tmp_path / cls / "a.png")
    (tmp_path / "normal" / "broken.png").write_bytes(b"not a png")
    Image.fromarray(np.zeros((32, 32), dtype=np.uint8)).save(tmp_path / "pneumonia" / "big.png")
    images = read_image_folder(tmp_path)
    assert images.ids == ["normal/a.png", "normal/broken.png", "pneumonia/a.png", "pneumonia/big.png"]
    assert images.labels.tolist() == [0, 0, 1, 1]
    assert images.errors[0] is None and images.errors[2] is None
    assert images.errors[1].startswith("unreadable image")
    assert images.errors[3] == "image is 32x32, expected 28x28"
    assert images.images[0, 0, 0] == pytest.approx(100 / 255)


def test_text_columns_detected_on_symptom2disease(symptoms_path: Path) -> None:
    texts = read_text_table(symptoms_path, require_labels=True)
    assert (texts.text_col, texts.label_col) == ("text", "label")
    assert len(texts) == 1200 and len(set(texts.labels)) == 24 and texts.valid.all()


def test_text_detection_by_content_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(
        "note_id,complaint,dx\n"
        "1,persistent dry cough and fever for a week,flu\n"
        "2,,flu\n"
        "3,   ,cold\n"
        "4,sneezing and a runny nose since yesterday,cold\n",
        encoding="utf-8",
    )
    import pandas as pd

    assert detect_text_columns(pd.read_csv(path)) == ("complaint", "dx")
    texts = read_text_table(path, require_labels=True)
    assert texts.errors == [None, "empty text", "empty text", None]  # a blank cell is empty text
    assert texts.labels == ["flu", "flu", "cold", "cold"]


def test_named_column_missing_lists_columns(symptoms_path: Path) -> None:
    with pytest.raises(ColumnNotFoundError, match="column 'body' not found; columns are: index, label, text"):
        read_text_table(symptoms_path, text_col="body")
