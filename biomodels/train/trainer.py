"""A generic supervised training loop: Adam, warm-up + exponential decay, clipping, early stopping.

The trainer knows nothing about molecules, images or text. It needs:

- a model (:class:`torch.nn.Module`);
- batches: a re-iterable (list, DataLoader) or a callable returning a fresh iterable each epoch
  (for reshuffling);
- ``loss_fn(outputs, batch) -> scalar tensor``; by default the model's own ``model.loss`` (the
  masked losses are in :mod:`biomodels.nn.losses`);
- optionally ``forward(model, batch) -> outputs`` (default ``model(batch)``) and
  ``val_metric_fn(outputs, batches) -> {name: value}`` scoring a whole validation pass.

Batches are moved to the device with :func:`to_device`, which handles tensors, PyG batches,
anything else with a ``.to(device)`` method, and dicts, lists and tuples of those.

Observers of training (a tuner pruning unpromising trials, a dashboard) register an epoch hook
with :func:`epoch_hooks`: every :meth:`Trainer.fit` inside the block calls it after each epoch
with the epoch's number and the history so far, however deep the trainer sits below the caller
(``train_run`` -> the estimator's ``fit`` -> ``Trainer.fit``). An exception a hook raises stops
the training and propagates to the caller.

Example::

    seed_everything(0)
    model = build_model(config)
    trainer = Trainer(TrainerConfig(epochs=30, patience=10))
    history = trainer.fit(model, train_batches, val_batches)  # model.loss(outputs, batch)
    outputs = trainer.predict(model, test_batches)
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn

from biomodels.nn.losses import LossFn
from biomodels.train.optim import Adam

logger = logging.getLogger(__name__)

__all__ = [
    "Batches",
    "EpochHook",
    "ForwardFn",
    "MetricFn",
    "TrainHistory",
    "Trainer",
    "TrainerConfig",
    "call_model",
    "epoch_hooks",
    "noam_lr",
    "resolve_device",
    "seed_everything",
    "to_device",
]

Batches = Iterable[Any] | Callable[[], Iterable[Any]]
"""A re-iterable of batches, or a callable returning a fresh iterable of batches per epoch."""
ForwardFn = Callable[[nn.Module, Any], Any]
"""``forward(model, batch) -> outputs``."""
MetricFn = Callable[[list[Any], list[Any]], Mapping[str, float]]
"""``val_metric_fn(outputs, batches) -> {name: value}``: outputs on CPU, batches as given."""
EpochHook = Callable[[int, "TrainHistory"], None]
"""``hook(epoch, history)``: called after each epoch (0-based) with the history up to it."""

_EPOCH_HOOKS: contextvars.ContextVar[tuple[EpochHook, ...]] = contextvars.ContextVar(
    "biomodels_epoch_hooks", default=()
)


@contextlib.contextmanager
def epoch_hooks(*hooks: EpochHook) -> Iterator[None]:
    """Call ``hooks`` after every epoch of every :meth:`Trainer.fit` run inside the block.

    Scoped to the block and to the current thread or task (a :mod:`contextvars` variable), so
    nested blocks add to the outer hooks and concurrent trainings do not see each other's.
    """
    token = _EPOCH_HOOKS.set(_EPOCH_HOOKS.get() + hooks)
    try:
        yield
    finally:
        _EPOCH_HOOKS.reset(token)


def call_model(model: nn.Module, batch: Any) -> Any:
    """The default forward hook: ``model(batch)``."""
    return model(batch)


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and torch (CPU and all CUDA devices).

    Call it before building the model so that weight initialisation is reproducible too.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(device: str | torch.device) -> torch.device:
    """Map ``"auto"`` to CUDA when available, else CPU; pass other names through.

    Raises:
        ValueError: CUDA was requested but is not available.
    """
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available; use 'auto' or 'cpu'")
    return device


def to_device(obj: Any, device: torch.device | str) -> Any:
    """Move a batch to ``device``: tensors, PyG batches, and dicts/lists/tuples of them.

    Objects with a ``.to`` method (tensors, PyG ``Batch``/``Data``, modules) are moved with it;
    mappings become dicts; namedtuples keep their type; anything else (strings, numbers, None,
    numpy arrays) is returned unchanged.
    """
    if hasattr(obj, "to") and callable(obj.to):
        return obj.to(device)
    if isinstance(obj, Mapping):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, tuple):
        moved = [to_device(v, device) for v in obj]
        return type(obj)(*moved) if hasattr(obj, "_fields") else tuple(moved)
    if isinstance(obj, list):
        return [to_device(v, device) for v in obj]
    return obj


def noam_lr(
    step: int,
    *,
    warmup_steps: int,
    total_steps: int,
    init_lr: float,
    max_lr: float,
    final_lr: float,
) -> float:
    """Learning rate at optimizer ``step`` of chemprop's Noam-like schedule.

    Rises linearly from ``init_lr`` to ``max_lr`` over ``warmup_steps``, then decays
    exponentially to reach ``final_lr`` at ``total_steps`` (and stays there).
    """
    if step < warmup_steps:
        return init_lr + (max_lr - init_lr) * step / warmup_steps
    decay_steps = total_steps - warmup_steps
    if decay_steps <= 0:
        return max_lr
    fraction = min(step - warmup_steps, decay_steps) / decay_steps
    return max_lr * (final_lr / max_lr) ** fraction


@dataclass
class TrainerConfig:
    """Settings of :class:`Trainer`. Plain values only, so it serialises to JSON.

    Attributes:
        epochs: maximum number of passes over the training batches.
        lr: peak learning rate, reached at the end of warm-up.
        init_lr: learning rate at the first step.
        final_lr: learning rate at the last step of the last epoch.
        warmup_epochs: epochs (may be fractional) of linear warm-up from ``init_lr`` to ``lr``.
        weight_decay: Adam's L2 penalty.
        grad_clip: maximum gradient norm (all parameters together); None disables clipping.
        patience: stop after this many epochs without improvement of ``monitor``; None never
            stops early.
        monitor: ``"val_loss"`` or a name returned by the ``val_metric_fn``.
        mode: ``"min"`` or ``"max"``: whether a lower or a higher ``monitor`` is better.
        restore_best: with validation batches, load the weights of the best epoch after training.
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        seed: passed to :func:`seed_everything` at the start of ``fit``; None leaves RNGs alone.
        progress: show a rich progress bar over epochs.
    """

    epochs: int = 50
    lr: float = 1e-3
    init_lr: float = 1e-4
    final_lr: float = 1e-4
    warmup_epochs: float = 2.0
    weight_decay: float = 0.0
    grad_clip: float | None = 10.0
    patience: int | None = None
    monitor: str = "val_loss"
    mode: str = "min"
    restore_best: bool = True
    device: str = "auto"
    seed: int | None = 0
    progress: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {self.mode!r}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, not {self.epochs}")
        if min(self.lr, self.init_lr, self.final_lr) <= 0:
            raise ValueError("lr, init_lr and final_lr must be positive")
        if self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be >= 0, not {self.warmup_epochs}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be at least 1 or None, not {self.patience}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainHistory:
    """What happened during :meth:`Trainer.fit`, one entry per completed epoch.

    Attributes:
        train_loss: mean training loss over the epoch's batches.
        val_loss: mean validation loss (NaN without validation batches).
        val_metrics: the ``val_metric_fn`` results (empty dicts without one).
        lr: learning rate after the epoch's last step.
        seconds: wall-clock duration of the epoch, validation included.
        monitor: name of the monitored quantity.
        best_epoch: 0-based epoch with the best ``monitor`` value (the last epoch without
            validation).
        best_score: that value (NaN without validation).
        stopped_early: whether training stopped before ``epochs`` for lack of improvement.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metrics: list[dict[str, float]] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    monitor: str = "val_loss"
    best_epoch: int | None = None
    best_score: float = math.nan
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per epoch: epoch, train_loss, val_loss, lr, seconds, then each val metric."""
        frame = pd.DataFrame(
            {
                "epoch": range(self.epochs),
                "train_loss": self.train_loss,
                "val_loss": self.val_loss,
                "lr": self.lr,
                "seconds": self.seconds,
            }
        )
        metrics = pd.DataFrame(self.val_metrics, index=frame.index)
        return pd.concat([frame, metrics], axis=1)


class Trainer:
    """Trains any :class:`~torch.nn.Module` on batches with a caller-supplied loss.

    Args:
        config: training settings; defaults to ``TrainerConfig()``.

    Attributes:
        device_: the device of the last ``fit`` or ``predict``.
        history_: the :class:`TrainHistory` of the last ``fit``.
    """

    def __init__(self, config: TrainerConfig | None = None):
        self.config = config if config is not None else TrainerConfig()

    def fit(
        self,
        model: nn.Module,
        train_batches: Batches,
        val_batches: Batches | None,
        loss_fn: LossFn | None = None,
        val_metric_fn: MetricFn | None = None,
        *,
        forward: ForwardFn = call_model,
    ) -> TrainHistory:
        """Train ``model`` in place and return the per-epoch history.

        Args:
            model: the module to train; moved to the configured device.
            train_batches: training batches, re-iterable or a callable giving a fresh iterable
                each epoch. The schedule needs the number of batches per epoch: ``len()`` when
                available, otherwise one epoch is iterated to count them (a callable is called
                once more for that).
            val_batches: validation batches (same forms), or None to train without validation
                (no early stopping, no best-weight restore).
            loss_fn: ``loss_fn(outputs, batch) -> scalar``; also gives the validation loss.
                Default: the model's own ``model.loss``.
            val_metric_fn: ``val_metric_fn(outputs, batches) -> {name: value}`` over the whole
                validation pass (outputs detached on CPU, batches as yielded).
            forward: ``forward(model, batch) -> outputs``; default ``model(batch)``.

        Returns:
            The history (also kept as ``history_``).

        Raises:
            ValueError: no training batches, or ``monitor`` is not among the validation metrics.
            FloatingPointError: the training loss became NaN or infinite.
        """
        cfg = self.config
        loss_fn = loss_fn or model.loss
        if cfg.seed is not None:
            seed_everything(cfg.seed)
        device = self.device_ = resolve_device(cfg.device)
        model.to(device)
        steps_per_epoch = _count_batches(train_batches)
        if steps_per_epoch == 0:
            raise ValueError("train_batches yielded no batches")
        warmup_steps = round(cfg.warmup_epochs * steps_per_epoch)
        total_steps = cfg.epochs * steps_per_epoch

        def schedule(step: int) -> float:
            return noam_lr(
                step,
                warmup_steps=warmup_steps,
                total_steps=total_steps,
                init_lr=cfg.init_lr,
                max_lr=cfg.lr,
                final_lr=cfg.final_lr,
            )

        optimizer = Adam(model.parameters(), lr=schedule(0), weight_decay=cfg.weight_decay)
        history = self.history_ = TrainHistory(monitor=cfg.monitor)
        best_state: dict[str, torch.Tensor] | None = None
        since_best = 0

        with _EpochProgress(cfg.epochs, enabled=cfg.progress) as progress:
            for epoch in range(cfg.epochs):
                start = time.perf_counter()
                train_loss = self._train_epoch(
                    model, train_batches, loss_fn, forward, optimizer, schedule, epoch
                )
                val_loss, metrics = math.nan, {}
                if val_batches is not None:
                    val_loss, metrics = self._validate(model, val_batches, loss_fn, forward, val_metric_fn)
                history.train_loss.append(train_loss)
                history.val_loss.append(val_loss)
                history.val_metrics.append(metrics)
                history.lr.append(optimizer.lr)
                history.seconds.append(time.perf_counter() - start)

                if val_batches is None:
                    history.best_epoch = epoch
                else:
                    score = self._monitored(val_loss, metrics)
                    if self._improved(score, history.best_score):
                        history.best_epoch, history.best_score, since_best = epoch, score, 0
                        if cfg.restore_best:
                            best_state = _copy_state(model)
                    else:
                        since_best += 1
                logger.info(
                    "epoch %d/%d: train_loss %.4g, val_loss %.4g%s, lr %.3g, %.1f s",
                    epoch + 1,
                    cfg.epochs,
                    train_loss,
                    val_loss,
                    "".join(f", {k} {v:.4g}" for k, v in metrics.items()),
                    history.lr[-1],
                    history.seconds[-1],
                )
                progress.update(train_loss, val_loss, cfg.monitor, history.best_score)
                for hook in _EPOCH_HOOKS.get():
                    hook(epoch, history)
                if cfg.patience is not None and since_best >= cfg.patience:
                    history.stopped_early = True
                    logger.info(
                        "early stopping after epoch %d: no %s improvement for %d epochs",
                        epoch + 1,
                        cfg.monitor,
                        cfg.patience,
                    )
                    break

        if best_state is not None:
            model.load_state_dict(best_state)
            logger.info(
                "restored weights of epoch %d (%s %.4g)",
                history.best_epoch + 1,
                cfg.monitor,
                history.best_score,
            )
        return history

    @torch.no_grad()
    def predict(self, model: nn.Module, batches: Batches, predict_fn: ForwardFn = call_model) -> list[Any]:
        """Run ``predict_fn(model, batch)`` over ``batches`` in eval mode without gradients.

        The model is moved to the configured device; each output is detached and moved to CPU.
        ``predict_fn`` is where post-processing belongs (sigmoid, softmax, unscaling).

        Returns:
            One output per batch, in order.
        """
        device = self.device_ = resolve_device(self.config.device)
        model.to(device)
        was_training = model.training
        model.eval()
        try:
            return [
                to_device(predict_fn(model, to_device(batch, device)), "cpu") for batch in _iterate(batches)
            ]
        finally:
            model.train(was_training)

    def _train_epoch(
        self,
        model: nn.Module,
        batches: Batches,
        loss_fn: LossFn,
        forward: ForwardFn,
        optimizer: Adam,
        schedule: Callable[[int], float],
        epoch: int,
    ) -> float:
        model.train()
        total, n = 0.0, 0
        for step, batch in enumerate(_iterate(batches)):
            batch = to_device(batch, self.device_)
            optimizer.zero_grad()
            loss = loss_fn(forward(model, batch), batch)
            value = loss.item()
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"training loss is {value} at epoch {epoch + 1}, batch {step + 1}; "
                    "lower the learning rate or check the inputs for NaN"
                )
            loss.backward()
            if self.config.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), self.config.grad_clip)
            optimizer.step()
            optimizer.lr = schedule(optimizer.updates)
            total += value
            n += 1
        return total / max(n, 1)

    @torch.no_grad()
    def _validate(
        self,
        model: nn.Module,
        batches: Batches,
        loss_fn: LossFn,
        forward: ForwardFn,
        metric_fn: MetricFn | None,
    ) -> tuple[float, dict[str, float]]:
        model.eval()
        total, n = 0.0, 0
        outputs, seen = [], []
        for batch in _iterate(batches):
            moved = to_device(batch, self.device_)
            out = forward(model, moved)
            total += loss_fn(out, moved).item()
            n += 1
            if metric_fn is not None:
                outputs.append(to_device(out, "cpu"))
                seen.append(batch)
        metrics = {k: float(v) for k, v in metric_fn(outputs, seen).items()} if metric_fn else {}
        return (total / n if n else math.nan), metrics

    def _monitored(self, val_loss: float, metrics: Mapping[str, float]) -> float:
        name = self.config.monitor
        if name == "val_loss":
            return val_loss
        if name not in metrics:
            raise ValueError(
                f"monitor {name!r} is not a validation metric; available: {', '.join(['val_loss', *metrics])}"
            )
        return metrics[name]

    def _improved(self, score: float, best: float) -> bool:
        if math.isnan(score):
            return False
        if math.isnan(best):
            return True
        return score < best if self.config.mode == "min" else score > best


class _EpochProgress:
    """A rich progress bar over epochs; does nothing (prints nothing) when disabled."""

    def __init__(self, epochs: int, enabled: bool):
        self._progress = None
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]training"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"),
            )
            self._task = self._progress.add_task("epochs", total=epochs, status="")

    def __enter__(self) -> _EpochProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, train_loss: float, val_loss: float, monitor: str, best: float) -> None:
        if self._progress is None:
            return
        status = f"loss {train_loss:.4g}  val {val_loss:.4g}  best {monitor} {best:.4g}"
        self._progress.update(self._task, advance=1, status=status)


def _iterate(batches: Batches) -> Iterable[Any]:
    return batches() if callable(batches) else batches


def _count_batches(batches: Batches) -> int:
    """Batches per epoch: ``len()`` when available, else by iterating one epoch's batches."""
    if not callable(batches) and iter(batches) is batches:
        raise TypeError(
            "batches is a one-shot iterator; pass a list, a DataLoader or a callable that "
            "returns a fresh iterable each epoch"
        )
    epoch = _iterate(batches)
    try:
        return len(epoch)  # type: ignore[arg-type]
    except TypeError:
        logger.debug("batches have no len(); counting one epoch to size the lr schedule")
        return sum(1 for _ in epoch)


def _copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of the state dict, so best weights do not hold device memory."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
