"""aggregate / dmpnn_message / segment_sum against naive loops."""

from __future__ import annotations

import pytest
import torch

from biomodels.exceptions import UnknownNameError
from biomodels.nn.aggregation import aggregate, dmpnn_message, segment_sum


def _graph() -> tuple[torch.Tensor, torch.Tensor]:
    """6 nodes; node 2 and node 5 receive no edges; one duplicate edge (0 -> 1 twice)."""
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 0, 1, 3, 4, 2, 4, 3], [1, 1, 0, 0, 3, 4, 1, 4]])
    return torch.randn(6, 5, dtype=torch.float64), edge_index


def _loop_aggregate(x, edge_index, num_nodes, reduce, weight=None):
    rows = []
    for i in range(num_nodes):
        incoming = [
            x[s] * (1.0 if weight is None else weight[e])
            for e, (s, t) in enumerate(edge_index.t().tolist())
            if t == i
        ]
        if not incoming:
            rows.append(torch.zeros(x.shape[1], dtype=x.dtype))
        elif reduce == "sum":
            rows.append(torch.stack(incoming).sum(0))
        elif reduce == "mean":
            rows.append(torch.stack(incoming).mean(0))
        else:
            rows.append(torch.stack(incoming).max(0).values)
    return torch.stack(rows)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_aggregate_matches_loop(reduce, weighted):
    x, edge_index = _graph()
    weight = torch.rand(edge_index.shape[1], dtype=x.dtype) if weighted else None
    expected = _loop_aggregate(x, edge_index, 6, reduce, weight)
    out = aggregate(x, edge_index, 6, reduce, weight)
    torch.testing.assert_close(out, expected)
    assert out[2].eq(0).all() and out[5].eq(0).all()


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_aggregate_gradients_match_loop(reduce):
    x, edge_index = _graph()
    weight = torch.rand(edge_index.shape[1], dtype=x.dtype)
    grads = []
    for fn in (aggregate, lambda *a: _loop_aggregate(*a)):
        xg, wg = x.clone().requires_grad_(), weight.clone().requires_grad_()
        fn(xg, edge_index, 6, reduce, wg).pow(2).sum().backward()
        grads.append((xg.grad, wg.grad))
    torch.testing.assert_close(grads[0], grads[1])


def test_aggregate_without_edges():
    x = torch.randn(3, 4)
    out = aggregate(x, torch.zeros(2, 0, dtype=torch.long), 3, "max")
    assert out.shape == (3, 4) and out.eq(0).all()


def test_unknown_reduce_lists_choices():
    x, edge_index = _graph()
    with pytest.raises(UnknownNameError, match="sum"):
        aggregate(x, edge_index, 6, "median")


def test_dmpnn_message_matches_loop():
    # Two bonds 0-1, 1-2 as directed pairs; reverse of e is e ^ 1.
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    rev = torch.tensor([1, 0, 3, 2])
    m = torch.randn(4, 3, dtype=torch.float64)
    expected = torch.stack(
        [
            sum(
                (m[f] for f, (a, b) in enumerate(edge_index.t().tolist()) if b == u and a != v),
                torch.zeros(3, dtype=m.dtype),
            )
            for u, v in edge_index.t().tolist()
        ]
    )
    torch.testing.assert_close(dmpnn_message(m, edge_index, rev, 3), expected)


def test_segment_sum_matches_loop():
    values = torch.randn(7, 3)
    index = torch.tensor([0, 2, 2, 0, 3, 3, 3])
    expected = torch.stack([values[index == s].sum(0) for s in range(5)])
    out = segment_sum(values, index, 5)
    torch.testing.assert_close(out, expected)
    assert out[1].eq(0).all() and out[4].eq(0).all()
