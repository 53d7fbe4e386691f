"""The model folder format: exact round trip, tied weights, one-line errors for every damage."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from torch import nn

from biomodels.exceptions import CheckpointError
from biomodels.train.checkpoint import MODEL_FILE, read_model_folder, write_model_folder


class Tiny(nn.Module):
    def __init__(self, hidden: int = 8, tie: bool = False):
        super().__init__()
        self.embed = nn.Embedding(5, hidden)
        self.body = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.BatchNorm1d(hidden))
        self.out = nn.Linear(hidden, 5, bias=False)
        if tie:
            self.out.weight = self.embed.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(self.embed(idx)))


WEIGHTS = "member_0/weights.safetensors"


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = Tiny(8)
    model.body[2].running_mean += 1.5  # buffers travel too
    model.eval()
    arrays = {"scale": np.array([1.0, 2.0]), "classes": np.arange(3)}
    write_model_folder(tmp_path / "model", "tiny", {"hidden": 8}, {"task": "regression"}, [model], arrays)
    return tmp_path / "model", model


def load(directory, module=None) -> nn.Module:
    return read_model_folder(directory).load_member(0, module or Tiny(8))


def test_round_trip_gives_identical_outputs_config_and_arrays(saved):
    directory, model = saved
    folder = read_model_folder(directory)
    loaded = folder.load_member(0, Tiny(8))
    idx = torch.tensor([0, 3, 4, 1])
    assert torch.equal(model(idx), loaded(idx))
    assert (folder.model, folder.params, folder.state) == ("tiny", {"hidden": 8}, {"task": "regression"})
    assert folder.n_members == 1 and {"biomodels", "torch"} <= folder.versions.keys()
    np.testing.assert_array_equal(folder.arrays()["scale"], [1.0, 2.0])
    np.testing.assert_array_equal(folder.arrays()["classes"], [0, 1, 2])
    meta = json.loads((directory / MODEL_FILE).read_text())
    assert meta["format_version"] == 2 and len(meta["files"][WEIGHTS]["sha256"]) == 64
    assert not [p for p in directory.rglob(".*")]  # no temp files left


def test_tied_weights_save_and_load(tmp_path):
    model = Tiny(5, tie=True).eval()
    write_model_folder(tmp_path, "tiny", {}, {}, [model])
    loaded = read_model_folder(tmp_path).load_member(0, Tiny(5, tie=True))
    assert loaded.out.weight is loaded.embed.weight
    assert torch.equal(loaded(torch.tensor([1, 2])), model(torch.tensor([1, 2])))
    assert read_model_folder(tmp_path).arrays() == {}


def _error(directory, module=None) -> str:
    with pytest.raises(CheckpointError) as info:
        load(directory, module)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_folder_and_old_format(tmp_path):
    assert "no model.json; not a biomodels model folder" in _error(tmp_path)
    (tmp_path / "predictor.json").write_text("{}")
    message = _error(tmp_path)
    assert "biomodels 0.1.0 (predictor.json)" in message and "retrain" in message


def test_flipped_bytes_fail_the_checksum(saved):
    directory, _ = saved
    weights = directory / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-10:] = bytes(b ^ 0xFF for b in data[-10:])
    weights.write_bytes(bytes(data))
    assert f"{WEIGHTS}: weights file is corrupt or altered" in _error(directory)


def test_truncated_weights(saved):
    directory, _ = saved
    (directory / WEIGHTS).write_bytes((directory / WEIGHTS).read_bytes()[:100])
    assert "corrupt or altered" in _error(directory)


def test_any_edit_of_model_json_is_refused(saved):
    directory, _ = saved
    path = directory / MODEL_FILE
    meta = json.loads(path.read_text())
    meta["state"]["task"] = "binary"
    path.write_text(json.dumps(meta))
    assert "model.json: was altered after it was saved" in _error(directory)


def test_garbage_with_matching_record_is_not_valid_safetensors(saved):
    directory, _ = saved
    garbage = b"\x00" * 64
    (directory / WEIGHTS).write_bytes(garbage)
    path = directory / MODEL_FILE
    meta = json.loads(path.read_text())
    meta["files"][WEIGHTS] = {"bytes": 64, "sha256": hashlib.sha256(garbage).hexdigest()}
    del meta["sha256"]
    meta["sha256"] = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
    path.write_text(json.dumps(meta))
    assert "not a valid safetensors file" in _error(directory)


def test_unreadable_config_and_newer_format(saved):
    directory, _ = saved
    path = directory / MODEL_FILE
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "format_version": 99}))
    assert "newer" in _error(directory)
    path.write_text('{"format_version": 2, "conf')
    assert "unreadable" in _error(directory)


def test_missing_weights(saved):
    directory, _ = saved
    (directory / WEIGHTS).unlink()
    assert "weights file is missing" in _error(directory)


def test_mismatched_architecture_names_keys_and_shapes(saved):
    directory, _ = saved
    message = _error(directory, Tiny(16))
    assert "shape mismatch" in message and "(5, 8) vs model (5, 16)" in message and "more)" in message

    class Extra(Tiny):
        def __init__(self):
            super().__init__(8)
            self.head = nn.Linear(8, 1)

    assert "missing keys head.weight, head.bias" in _error(directory, Extra())
    other = nn.ModuleDict({"embed": nn.Embedding(5, 8), "body": Tiny(8).body})
    assert "unexpected keys out.weight" in _error(directory, other)
