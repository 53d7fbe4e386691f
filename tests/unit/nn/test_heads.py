"""Heads: output shapes per task type, positive MVE variance, chemprop-like MLP layout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from biomodels.nn import HEADS, FFNHead, MVEHead, mlp


def test_registry_names():
    assert HEADS.names() == ["ffn", "mve"]


@pytest.mark.parametrize("layers", [0, 1, 3])
def test_mlp_layers(layers):
    net = mlp(10, 2, hidden=7, layers=layers, dropout=0.1)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert len(linears) == layers + 1
    assert net(torch.randn(4, 10)).shape == (4, 2)


def test_ffn_shapes():
    h = torch.randn(4, 10)
    assert FFNHead(10, 3, hidden=16)(h).shape == (4, 3)
    assert FFNHead(10, 3, n_classes=5, hidden=16)(h).shape == (4, 3, 5)


def test_mve_mean_and_positive_variance():
    out = MVEHead(10, 3, hidden=16)(torch.randn(4, 10) * 100)
    assert out.shape == (4, 3, 2)
    assert (out[..., 1] > 0).all()


def test_mve_rejects_classes():
    with pytest.raises(ValueError, match="regression"):
        MVEHead(10, 3, n_classes=2)
