"""The trainer's Adam gives PyTorch's Adam updates, skips parameters without gradients, and
round-trips its state."""

from collections.abc import Iterator

import pytest
import torch

from biomodels.train.optim import Adam


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def _losses(model: torch.nn.Module, steps: int) -> Iterator[torch.Tensor]:
    """Losses computed one at a time, each after the previous step changed the weights."""
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        yield (model(torch.randn(16, 5, generator=generator)) ** 2).mean()


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_updates_equal_torch_adam_with_a_changing_learning_rate(weight_decay: float) -> None:
    ours_model, torch_model = _model(), _model()
    ours = Adam(ours_model.parameters(), lr=1e-3, weight_decay=weight_decay)
    reference = torch.optim.Adam(torch_model.parameters(), lr=1e-3, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(1)
    for step in range(20):
        x = torch.randn(16, 5, generator=generator)
        for model, optimizer in ((ours_model, ours), (torch_model, reference)):
            optimizer.zero_grad()
            (model(x) ** 2).mean().backward()
            optimizer.step()
        ours.lr = 1e-3 * (0.9**step)
        reference.param_groups[0]["lr"] = ours.lr
    for mine, theirs in zip(ours_model.parameters(), torch_model.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-6, atol=1e-7)
    assert ours.updates == 20 and ours.steps == [20] * 4


def test_a_parameter_without_gradient_is_not_stepped() -> None:
    model = _model()
    optimizer = Adam(model.parameters(), lr=1e-2)
    frozen = model[2].weight.detach().clone()
    for loss in _losses(model, 3):
        optimizer.zero_grad()
        loss.backward()
        model[2].weight.grad = None  # as the idle network of a GAN step
        optimizer.step()
    assert torch.equal(model[2].weight, frozen)
    assert optimizer.steps == [3, 3, 0, 3]
    assert not torch.equal(model[0].weight, _model()[0].weight)


def test_state_round_trip_continues_identically() -> None:
    first, second = _model(), _model()
    a, b = Adam(first.parameters(), lr=1e-2), Adam(second.parameters(), lr=1e-2)
    for loss in _losses(first, 4):
        a.zero_grad()
        loss.backward()
        a.step()
    second.load_state_dict(first.state_dict())
    b.load_state_dict(a.state_dict())
    for model, optimizer in ((first, a), (second, b)):
        for loss in _losses(model, 2):
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for x, y in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(x, y)
    assert b.updates == 6


def test_state_of_another_model_is_refused() -> None:
    optimizer = Adam(_model().parameters())
    other = Adam(torch.nn.Linear(3, 3).parameters()).state_dict()
    with pytest.raises(ValueError, match="another model"):
        optimizer.load_state_dict(other)


def test_no_trainable_parameters_is_an_error() -> None:
    frozen = torch.nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ValueError, match="no parameters"):
        Adam(frozen.parameters())
