"""Readouts: shapes, values, empty graphs, attention weights summing to one."""

from __future__ import annotations

import pytest
import torch

from biomodels.nn import READOUTS

INDEX = torch.tensor([0, 0, 0, 2, 2])  # graph 1 has no nodes


def test_registry_names():
    assert READOUTS.names() == ["attention", "mean", "norm", "sum"]


@pytest.mark.parametrize("name", READOUTS.names())
def test_shapes_and_empty_graph(name):
    h = torch.randn(5, 8)
    out = READOUTS.get(name)(8)(h, INDEX, 3)
    assert out.shape == (3, 8)
    assert out[1].eq(0).all()


def test_sum_and_mean_values():
    h = torch.randn(5, 4)
    torch.testing.assert_close(READOUTS.get("sum")(4)(h, INDEX, 3)[0], h[:3].sum(0))
    torch.testing.assert_close(READOUTS.get("mean")(4)(h, INDEX, 3)[2], h[3:].mean(0))
    torch.testing.assert_close(READOUTS.get("norm")(4)(h, INDEX, 3)[0], h[:3].sum(0) / 100)


def test_attention_is_a_convex_combination():
    torch.manual_seed(0)
    same = torch.randn(1, 6).expand(5, 6)  # every node identical: any weights give that row
    out = READOUTS.get("attention")(6)(same, INDEX, 3)
    torch.testing.assert_close(out[0], same[0])
    torch.testing.assert_close(out[2], same[0])
