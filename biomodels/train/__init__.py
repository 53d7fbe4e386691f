"""Training: a generic trainer, masked losses, metrics, checkpoints and run directories."""

from biomodels.train.checkpoint import load_checkpoint, load_extra_arrays, save_checkpoint
from biomodels.train.losses import (
    gaussian_nll,
    masked_bce_with_logits,
    masked_cross_entropy,
    masked_mse,
    task_loss,
)
from biomodels.train.metrics import calibration_metrics, compute_metrics
from biomodels.train.rundir import RunDirectory, log_to
from biomodels.train.trainer import (
    Trainer,
    TrainerConfig,
    TrainHistory,
    noam_lr,
    seed_everything,
    to_device,
)

__all__ = [
    "RunDirectory",
    "TrainHistory",
    "Trainer",
    "TrainerConfig",
    "calibration_metrics",
    "compute_metrics",
    "gaussian_nll",
    "load_checkpoint",
    "load_extra_arrays",
    "log_to",
    "masked_bce_with_logits",
    "masked_cross_entropy",
    "masked_mse",
    "noam_lr",
    "save_checkpoint",
    "seed_everything",
    "task_loss",
    "to_device",
]
