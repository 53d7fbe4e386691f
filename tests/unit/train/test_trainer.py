"""The generic trainer: lr schedule, early stopping, determinism, clipping, devices, predict."""

from __future__ import annotations

import math
import random
from collections import namedtuple
from itertools import pairwise

import pytest
import torch
from torch import nn
from torch_geometric.data import Batch, Data

from biomodels.nn.losses import masked_mse
from biomodels.train.trainer import (
    Trainer,
    TrainerConfig,
    epoch_hooks,
    noam_lr,
    seed_everything,
    to_device,
)


class Scalar(nn.Module):
    """Predicts one learnable number for every target: easy to reason about."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, batch: dict) -> torch.Tensor:
        return self.w * torch.ones_like(batch["y"])

    def loss(self, outputs: torch.Tensor, batch: dict) -> torch.Tensor:
        return masked_mse(outputs, batch["y"], batch["y_mask"])


def batch_of(target: float, n: int = 4) -> dict:
    y = torch.full((n, 1), target)
    return {"y": y, "y_mask": torch.ones_like(y, dtype=torch.bool)}


def constant_lr(lr: float, **kwargs) -> TrainerConfig:
    return TrainerConfig(lr=lr, init_lr=lr, final_lr=lr, warmup_epochs=0, device="cpu", **kwargs)


def test_noam_schedule_warms_up_linearly_then_decays_to_final():
    kw = dict(warmup_steps=10, total_steps=50, init_lr=1e-4, max_lr=1e-3, final_lr=1e-5)
    lrs = [noam_lr(s, **kw) for s in range(51)]
    assert lrs[0] == pytest.approx(1e-4)
    assert lrs[5] == pytest.approx(5.5e-4)
    assert lrs[10] == pytest.approx(1e-3)
    assert all(a < b for a, b in pairwise(lrs[:11]))
    assert all(a > b for a, b in pairwise(lrs[10:]))
    assert lrs[50] == pytest.approx(1e-5)
    assert noam_lr(80, **kw) == pytest.approx(1e-5)


def test_trainer_lr_history_rises_during_warmup_then_falls_to_final_lr():
    cfg = TrainerConfig(epochs=6, lr=1e-2, init_lr=1e-4, final_lr=1e-4, warmup_epochs=2, device="cpu")
    history = Trainer(cfg).fit(Scalar(), [batch_of(1.0)] * 3, None)
    assert history.lr[0] < history.lr[1] == pytest.approx(1e-2)
    assert all(a > b for a, b in pairwise(history.lr[1:]))
    assert history.lr[-1] == pytest.approx(1e-4)
    assert history.best_epoch == 5 and len(history.train_loss) == 6


def test_early_stopping_restores_best_weights():
    # Training pulls w from 0 towards 10 by about lr per step; validation wants w = 1, so the
    # validation loss falls until w passes 1 and rises after.
    model = Scalar()
    cfg = constant_lr(0.1, epochs=40, patience=3)

    def record_w(outputs, batches):
        return {"w": outputs[0][0, 0].item()}

    history = Trainer(cfg).fit(model, [batch_of(10.0)], [batch_of(1.0)], None, record_w)
    best = min(range(history.epochs), key=lambda e: history.val_loss[e])
    assert history.stopped_early and history.epochs == best + 4
    assert history.best_epoch == best and history.best_score == history.val_loss[best]
    assert model.w.item() == pytest.approx(history.val_metrics[best]["w"])
    assert model.w.item() == pytest.approx(1.0, abs=0.1)
    assert history.val_metrics[-1]["w"] > model.w.item() + 0.25


def test_monitor_a_metric_in_max_mode():
    cfg = constant_lr(0.1, epochs=30, patience=2, monitor="closeness", mode="max")

    def closeness(outputs, batches):
        return {"closeness": -abs(outputs[0][0, 0].item() - 1.0)}

    model = Scalar()
    history = Trainer(cfg).fit(model, [batch_of(10.0)], [batch_of(1.0)], None, closeness)
    assert history.stopped_early
    assert model.w.item() == pytest.approx(1.0, abs=0.1)
    with pytest.raises(ValueError, match="available: val_loss, closeness"):
        Trainer(constant_lr(0.1, monitor="auc")).fit(
            Scalar(), [batch_of(1.0)], [batch_of(1.0)], None, closeness
        )


def _train_noisy(seed: int) -> list[torch.Tensor]:
    """Dropout, per-epoch shuffling and init all draw from the seeded generators."""
    seed_everything(seed)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    data = [(torch.randn(4, 3), torch.randn(4, 1)) for _ in range(5)]

    def shuffled():
        order = list(range(len(data)))
        random.shuffle(order)
        return [data[i] for i in order]

    cfg = TrainerConfig(epochs=3, warmup_epochs=1, device="cpu", seed=seed)
    Trainer(cfg).fit(
        model,
        shuffled,
        None,
        lambda out, b: ((out - b[1]) ** 2).mean(),
        forward=lambda m, b: m(b[0]),
    )
    return [p.detach().clone() for p in model.parameters()]


def test_same_seed_gives_identical_weights():
    first, second, other = _train_noisy(7), _train_noisy(7), _train_noisy(8)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("clip", [0.5, None])
def test_gradient_clipping_bounds_the_gradient_norm(clip):
    model = nn.Linear(4, 1)
    x, y = torch.randn(16, 4) * 100, torch.randn(16, 1)
    cfg = TrainerConfig(epochs=1, grad_clip=clip, device="cpu")
    Trainer(cfg).fit(
        model, [(x, y)], None, lambda out, b: ((out - b[1]) ** 2).mean(), forward=lambda m, b: m(b[0])
    )
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))
    if clip is None:
        assert norm > 10
    else:
        assert norm == pytest.approx(clip, rel=1e-4)


def test_callable_batches_are_called_each_epoch_and_one_shot_iterators_rejected():
    calls = []

    def batches():
        calls.append(1)
        return iter([batch_of(1.0), batch_of(1.0)])  # no len(): counted once to size schedule

    Trainer(constant_lr(0.01, epochs=3)).fit(Scalar(), batches, None)
    assert len(calls) == 4
    with pytest.raises(TypeError, match="one-shot iterator"):
        Trainer(constant_lr(0.01)).fit(Scalar(), iter([batch_of(1.0)]), None)


def test_nan_loss_stops_with_a_clear_error():
    with pytest.raises(FloatingPointError, match="epoch 1, batch 1"):
        Trainer(constant_lr(0.01)).fit(Scalar(), [batch_of(1.0)], None, lambda out, b: out.sum() * math.nan)


def test_predict_runs_in_eval_mode_without_grad_and_restores_training_mode():
    seed_everything(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.9))
    x = torch.randn(5, 3)
    model.train()
    outputs = Trainer(TrainerConfig(device="cpu")).predict(
        model, [x, x], predict_fn=lambda m, b: torch.sigmoid(m(b))
    )
    assert model.training
    assert len(outputs) == 2 and not outputs[0].requires_grad
    assert torch.equal(outputs[0], outputs[1])  # dropout off
    assert torch.equal(outputs[0], torch.sigmoid(model[0](x)).detach())


def test_to_device_handles_tensors_pyg_batches_dicts_and_tuples():
    pair = namedtuple("Pair", "a b")
    graph = Batch.from_data_list([Data(x=torch.ones(2, 3), edge_index=torch.zeros(2, 0).long())])
    moved = to_device(
        {"t": torch.ones(2), "g": graph, "n": pair(torch.ones(1), "label"), "l": [torch.ones(1)], "k": 3},
        "meta",
    )
    assert moved["t"].is_meta and moved["g"].x.is_meta and isinstance(moved["g"], Batch)
    assert isinstance(moved["n"], pair) and moved["n"].a.is_meta and moved["n"].b == "label"
    assert moved["l"][0].is_meta and moved["k"] == 3


def test_progress_off_prints_nothing_and_progress_on_runs(capsys):
    Trainer(constant_lr(0.01, epochs=2)).fit(Scalar(), [batch_of(1.0)], [batch_of(1.0)])
    assert capsys.readouterr().out == ""
    history = Trainer(constant_lr(0.01, epochs=2, progress=True)).fit(
        Scalar(), [batch_of(1.0)], [batch_of(1.0)]
    )
    assert history.epochs == 2
    frame = history.to_frame()
    assert list(frame.columns[:5]) == ["epoch", "train_loss", "val_loss", "lr", "seconds"]


def test_config_validation():
    with pytest.raises(ValueError, match="mode"):
        TrainerConfig(mode="best")
    with pytest.raises(ValueError, match="patience"):
        TrainerConfig(patience=0)


@pytest.mark.gpu
def test_fit_and_predict_on_cuda():
    model = Scalar()
    Trainer(TrainerConfig(epochs=2, device="cuda")).fit(model, [batch_of(1.0)], [batch_of(1.0)])
    assert model.w.device.type == "cuda"
    out = Trainer(TrainerConfig(device="auto")).predict(model, [batch_of(1.0)])
    assert out[0].device.type == "cpu"


def test_epoch_hooks_see_every_epoch_of_every_fit_inside_the_block_only():
    seen: list[tuple[int, float]] = []

    def hook(epoch, history):
        assert history.epochs == epoch + 1  # the history up to this epoch
        seen.append((epoch, history.val_loss[-1]))

    cfg = constant_lr(0.1, epochs=3)
    with epoch_hooks(hook):
        first = Trainer(cfg).fit(Scalar(), [batch_of(1.0)], [batch_of(1.0)])
        with epoch_hooks(lambda epoch, history: seen.append((-1, math.nan))):  # nested: both run
            Trainer(constant_lr(0.1, epochs=1)).fit(Scalar(), [batch_of(1.0)], None)
    Trainer(cfg).fit(Scalar(), [batch_of(1.0)], None)  # outside: not seen
    assert [e for e, _ in seen] == [0, 1, 2, 0, -1]
    assert [v for _, v in seen[:3]] == first.val_loss


def test_an_epoch_hook_that_raises_stops_training():
    class Stop(Exception):
        pass

    def stop_after_two(epoch, history):
        if epoch == 1:
            raise Stop

    model = Scalar()
    with pytest.raises(Stop), epoch_hooks(stop_after_two):
        Trainer(constant_lr(0.1, epochs=10)).fit(model, [batch_of(10.0)], None)
    assert model.w.item() == pytest.approx(0.2, abs=1e-4)  # two steps of lr 0.1 towards 10
