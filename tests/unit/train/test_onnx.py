"""ONNX export round trips: every exportable model kind, run by ONNX Runtime, equals torch.

Each test fits a tiny model (one epoch; the weights need not be good, only the same), exports
its networks, swaps ONNX Runtime in (:func:`biomodels.train.onnx.onnx_modules`) and compares
the whole prediction frame with torch's within 1e-4, on inputs of other sizes than the traced
example (dynamic atoms, bonds, molecules, texts, tokens, images).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from biomodels.data.dataset import MoleculeTable
from biomodels.exceptions import CheckpointError, InputError
from biomodels.io.images import ImageSet
from biomodels.io.text import texts_from_list
from biomodels.kernels import scatter
from biomodels.train.estimator import make_model
from biomodels.train.onnx import export_onnx, onnx_modules

SMILES = [
    "CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "[Na+].[Cl-]", "C", "CCN(CC)CC", "O=C(O)c1ccccc1",
    "c1ccc2ccccc2c1", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "OCC(O)CO", "C1CCCCC1", "N#Cc1ccccc1",
]  # fmt: skip
TEXTS = [
    "fever and cough for three days", "itchy red rash on both arms", "sharp chest pain when breathing",
    "cough with fever and chills", "rash spreading on the skin", "pain in the chest and short breath",
    "high fever dry cough", "red itchy skin patches", "chest tightness and pain",
]  # fmt: skip
LABELS = ["flu", "rash", "chest"] * 3


pytestmark = pytest.mark.usefixtures("one_thread")


def _round_trip(model, data, tmp_path: Path, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    expected = model.predict(data)
    path = export_onnx(model, tmp_path / "model.onnx", **kwargs)
    model._set_modules(onnx_modules(model, path))
    return expected, model.predict(data)


def _assert_frames_close(expected: pd.DataFrame, got: pd.DataFrame, atol: float = 1e-4) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got["error"].isna().tolist() == expected["error"].isna().tolist()
    for column in expected.columns:
        if expected[column].dtype.kind == "f":
            np.testing.assert_allclose(got[column], expected[column], atol=atol, rtol=0)
        else:
            assert got[column].tolist() == expected[column].tolist(), column


def _molecules(tmp_path: Path, task: str = "regression") -> MoleculeTable:
    rng = np.random.default_rng(0)
    y = rng.normal(size=len(SMILES)) if task == "regression" else np.arange(len(SMILES)) % 2
    path = tmp_path / "mols.csv"
    pd.DataFrame({"smiles": SMILES, "y": y}).to_csv(path, index=False)
    return MoleculeTable.from_file(path, ["y"], workers=1)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("dmpnn", {"ensemble": 2, "head": "mve"}),
        ("gin", {"readout": "sum"}),
        ("gcn", {"readout": "attention"}),
        ("gat", {}),
    ],
)
def test_property_gnns_round_trip(name: str, params: dict, tmp_path: Path) -> None:
    table = _molecules(tmp_path)
    model = make_model(name, hidden=16, depth=2, epochs=1, batch_size=4, device="cpu", **params)
    model.fit(table)
    query = ["CCCCO", "c1ccncc1", "not a smiles", "[Na+]", "CC(=O)Oc1ccccc1C(=O)O"]
    expected, got = _round_trip(model, query, tmp_path)
    assert got["error"].notna().tolist() == [False, False, True, False, False]
    _assert_frames_close(expected, got)


def test_binary_gnn_with_extra_features_round_trips(tmp_path: Path) -> None:
    model = make_model("dmpnn", hidden=16, depth=2, epochs=1, extra_features="morgan", device="cpu")
    model.fit(_molecules(tmp_path, "binary"))
    expected, got = _round_trip(model, SMILES[::-1], tmp_path)
    _assert_frames_close(expected, got)


def test_int8_quantised_model_is_close_but_not_equal(tmp_path: Path) -> None:
    model = make_model("dmpnn", hidden=64, depth=2, epochs=1, device="cpu").fit(_molecules(tmp_path))
    expected, got = _round_trip(model, SMILES, tmp_path, quantize="int8")
    assert got["y"].notna().all()
    error = np.abs(got["y"] - expected["y"]).max()
    assert 0 < error < 0.5 * expected["y"].std() + 1e-3


def _images(n: int, size: tuple[int, int]) -> ImageSet:
    rng = np.random.default_rng(n)
    images = rng.random((n, *size), dtype=np.float32)
    labels = np.arange(n) % 2
    return ImageSet(images, [str(i) for i in range(n)], labels, ["a", "b"], [None] * n)


@pytest.mark.parametrize(("name", "params"), [("cnn", {"channels": (4, 8)}), ("resnet18", {"width": 4})])
def test_image_classifiers_round_trip(name: str, params: dict, tmp_path: Path) -> None:
    model = make_model(name, epochs=1, batch_size=8, augment=False, device="cpu", **params)
    model.fit(_images(16, (28, 28)))
    expected, got = _round_trip(model, _images(5, (28, 28)).images, tmp_path)
    _assert_frames_close(expected, got)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("rnn", {"hidden": 8, "embed_dim": 8}),
        ("rnn", {"hidden": 8, "embed_dim": 8, "cell": "lstm"}),
        ("transformer", {"d_model": 16, "heads": 2, "layers": 1, "ff_dim": 16}),
    ],
)
def test_text_classifiers_round_trip(name: str, params: dict, tmp_path: Path) -> None:
    model = make_model(name, epochs=1, device="cpu", **params).fit(texts_from_list(TEXTS, LABELS))
    query = ["fever", "a red rash and an itchy cough with chest pain for days", "", "pain"]
    expected = model.predict(query, top_tokens=3)
    path = export_onnx(model, tmp_path / "model.onnx")
    model._set_modules(onnx_modules(model, path))
    got = model.predict(query, top_tokens=3)
    _assert_frames_close(expected.drop(columns="top_tokens"), got.drop(columns="top_tokens"))
    assert got["error"].notna().tolist() == [False, False, True, False]


def test_unexportable_models_and_foreign_files_are_refused(tmp_path: Path) -> None:
    forest = make_model("rf", n_estimators=5).fit(_molecules(tmp_path))
    with pytest.raises(InputError, match="rf model has no network to export"):
        export_onnx(forest, tmp_path / "rf.onnx")
    small = make_model("dmpnn", hidden=8, depth=2, epochs=1, device="cpu").fit(_molecules(tmp_path))
    pair = make_model("dmpnn", hidden=8, depth=2, epochs=1, ensemble=2, device="cpu").fit(
        _molecules(tmp_path)
    )
    path = export_onnx(small, tmp_path / "one.onnx")
    with pytest.raises(CheckpointError, match="holds 1 dmpnn network"):
        onnx_modules(pair, path)
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(CheckpointError, match="not a readable ONNX model"):
        onnx_modules(small, tmp_path / "junk.onnx")


def test_scatter_ops_equal_the_kernels() -> None:
    """The export path's plain scatters give the fused kernels' numbers, empty segments 0."""
    from biomodels.kernels import aggregate, dmpnn_message_update

    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    rev = torch.tensor([1, 0, 3, 2, 5, 4])
    x = torch.randn(5, 3)  # node 4 has no edges
    weight = torch.rand(6)
    for reduce in ("sum", "mean", "max"):
        for w in (None, weight):
            expected = aggregate(x, edge_index, 5, reduce, w)
            torch.testing.assert_close(scatter.aggregate(x, edge_index, 5, reduce, w), expected)
    assert scatter.aggregate(x, edge_index, 5, "max", None)[4].eq(0).all()
    messages = torch.randn(6, 3)
    torch.testing.assert_close(
        scatter.dmpnn_update(messages, edge_index, rev, 5), dmpnn_message_update(messages, edge_index, rev, 5)
    )
    assert not scatter.exporting()
