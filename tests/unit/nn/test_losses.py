"""Masked losses: missing labels change nothing, observed ones average like torch's own losses."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from biomodels.nn.losses import (
    gaussian_nll,
    masked_bce_with_logits,
    masked_cross_entropy,
    masked_mse,
)

NAN = math.nan


@pytest.fixture
def y() -> torch.Tensor:
    return torch.tensor([[1.0, NAN], [0.0, 1.0], [NAN, 0.0]])


def test_masked_mse_equals_mse_over_observed_entries(y):
    pred = torch.tensor([[0.5, 3.0], [0.2, 0.7], [9.0, 0.4]])
    observed = ~torch.isnan(y)
    assert masked_mse(pred, y) == pytest.approx(F.mse_loss(pred[observed], y[observed]).item())


@pytest.mark.parametrize("loss", [masked_mse, masked_bce_with_logits])
def test_changing_a_masked_target_or_prediction_changes_nothing(loss, y):
    pred = torch.tensor([[0.5, 3.0], [0.2, 0.7], [9.0, 0.4]], requires_grad=True)
    mask = ~torch.isnan(y)
    filled = torch.nan_to_num(y, nan=1.0)
    base = loss(pred, filled, mask)
    other = loss(pred, torch.nan_to_num(y, nan=0.0), mask)
    assert base.item() == pytest.approx(other.item())
    assert base.item() == pytest.approx(loss(pred, y).item())  # NaN itself is masked
    base.backward()
    assert pred.grad[~mask].abs().sum() == 0
    assert torch.isfinite(pred.grad).all()


def test_bce_matches_torch_on_observed_entries(y):
    logits = torch.tensor([[2.0, -1.0], [-0.5, 0.3], [0.0, 1.5]])
    observed = ~torch.isnan(y)
    expected = F.binary_cross_entropy_with_logits(logits[observed], y[observed])
    assert masked_bce_with_logits(logits, y).item() == pytest.approx(expected.item())


def test_cross_entropy_per_task_and_masked():
    logits = torch.randn(3, 2, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    y = torch.tensor([[1.0, NAN], [3.0, 0.0], [NAN, 2.0]])
    observed = ~torch.isnan(y)
    expected = F.cross_entropy(logits[observed], y[observed].long())
    loss = masked_cross_entropy(logits, y)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    changed = y.clone()
    changed[0, 1] = 3.0
    assert masked_cross_entropy(logits, changed, observed).item() == pytest.approx(loss.item())
    loss.backward()
    assert logits.grad[~observed].abs().sum() == 0


def test_gaussian_nll_formula_and_masking(y):
    mean = torch.tensor([[0.5, 3.0], [0.2, 0.7], [9.0, 0.4]])
    var = torch.tensor([[0.5, 2.0], [1.0, 0.1], [4.0, 0.3]])
    observed = ~torch.isnan(y)
    m, v, t = mean[observed], var[observed], y[observed]
    expected = (0.5 * (torch.log(v) + (t - m) ** 2 / v)).mean()
    assert gaussian_nll(mean, var, y).item() == pytest.approx(expected.item(), rel=1e-6)


def test_all_missing_batch_gives_zero_with_a_graph():
    pred = torch.ones(2, 1, requires_grad=True)
    loss = masked_mse(pred, torch.full((2, 1), NAN))
    assert loss.item() == 0.0
    loss.backward()
    assert pred.grad.abs().sum() == 0
