"""Checkpoints: exact round trip, tied weights, and one-line errors for every kind of damage."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from torch import nn

from biomodels.exceptions import CheckpointError
from biomodels.train.checkpoint import (
    load_checkpoint,
    load_extra_arrays,
    read_config,
    save_checkpoint,
)


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


def build(config: dict) -> nn.Module:
    return Tiny(config["hidden"], config.get("tie", False))


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = Tiny(8)
    model.body[2].running_mean += 1.5  # buffers travel too
    model.eval()
    save_checkpoint(
        tmp_path / "run",
        model,
        {"hidden": 8, "task": "regression"},
        {"scale": np.array([1.0, 2.0]), "classes": np.arange(3)},
    )
    return tmp_path / "run", model


def test_round_trip_gives_identical_outputs_config_and_arrays(saved):
    directory, model = saved
    loaded, config = load_checkpoint(directory, build)
    loaded.eval()
    idx = torch.tensor([0, 3, 4, 1])
    assert torch.equal(model(idx), loaded(idx))
    assert config == {"hidden": 8, "task": "regression"} == read_config(directory)
    arrays = load_extra_arrays(directory)
    np.testing.assert_array_equal(arrays["scale"], [1.0, 2.0])
    np.testing.assert_array_equal(arrays["classes"], [0, 1, 2])
    meta = json.loads((directory / "config.json").read_text())
    assert meta["format_version"] == 1 and len(meta["files"]["model.safetensors"]["sha256"]) == 64
    assert {"biomodels_version", "torch_version"} <= meta.keys()
    assert not [p for p in directory.iterdir() if p.name.startswith(".")]  # no temp files left


def test_tied_weights_save_and_load(tmp_path):
    model = Tiny(5, tie=True).eval()
    save_checkpoint(tmp_path, model, {"hidden": 5, "tie": True})
    loaded, _ = load_checkpoint(tmp_path, build)
    assert loaded.out.weight is loaded.embed.weight
    assert torch.equal(loaded.eval()(torch.tensor([1, 2])), model(torch.tensor([1, 2])))
    assert load_extra_arrays(tmp_path) == {}


def _error(directory) -> str:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(directory, build)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_config(tmp_path):
    assert "no config.json; not a biomodels run directory" in _error(tmp_path)


def test_flipped_bytes_fail_the_checksum(saved):
    directory, _ = saved
    weights = directory / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10:] = bytes(b ^ 0xFF for b in data[-10:])
    weights.write_bytes(bytes(data))
    assert "weights file is corrupt (checksum mismatch)" in _error(directory)


def test_truncated_weights(saved):
    directory, _ = saved
    weights = directory / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    assert "truncated" in _error(directory)


def test_garbage_with_matching_record_is_not_valid_safetensors(saved):
    directory, _ = saved
    garbage = b"\x00" * 64
    (directory / "model.safetensors").write_bytes(garbage)
    meta = json.loads((directory / "config.json").read_text())
    record = {"bytes": 64, "sha256": hashlib.sha256(garbage).hexdigest()}
    meta["files"]["model.safetensors"] = record
    (directory / "config.json").write_text(json.dumps(meta))
    assert "not a valid safetensors file" in _error(directory)


def test_unreadable_config_and_newer_format(saved):
    directory, _ = saved
    config = directory / "config.json"
    meta = json.loads(config.read_text())
    config.write_text(json.dumps({**meta, "format_version": 99}))
    assert "newer" in _error(directory)
    config.write_text('{"format_version": 1, "conf')
    assert "unreadable" in _error(directory)


def test_missing_weights(saved):
    directory, _ = saved
    (directory / "model.safetensors").unlink()
    assert "weights file is missing" in _error(directory)


def test_mismatched_architecture_names_keys_and_shapes(saved):
    directory, _ = saved
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(directory, lambda cfg: Tiny(16))
    message = str(info.value)
    assert "shape mismatch" in message and "(5, 8) vs model (5, 16)" in message
    assert "\n" not in message and "more)" in message

    class Extra(Tiny):
        def __init__(self):
            super().__init__(8)
            self.head = nn.Linear(8, 1)

    with pytest.raises(CheckpointError, match=r"missing keys head\.weight, head\.bias"):
        load_checkpoint(directory, lambda cfg: Extra())
    with pytest.raises(CheckpointError, match=r"unexpected keys out\.weight"):
        load_checkpoint(
            directory, lambda cfg: nn.ModuleDict({"embed": nn.Embedding(5, 8), "body": Tiny(8).body})
        )
