"""Training: the estimator protocol, one trainer, metrics, the save format and run directories.

The modules import torch; ``biomodels.train.run`` holds :func:`train_run` and :func:`load_run`.
"""

from biomodels.train.estimator import Estimator, TrainingData, make_model
from biomodels.train.metrics import calibration_metrics, compute_metrics
from biomodels.train.run import Run, TrainRunConfig, TrainRunResult, load_run, train_run
from biomodels.train.rundir import RunDirectory, log_to
from biomodels.train.trainer import Trainer, TrainerConfig, TrainHistory, noam_lr, seed_everything, to_device

__all__ = [
    "Estimator",
    "Run",
    "RunDirectory",
    "TrainHistory",
    "TrainRunConfig",
    "TrainRunResult",
    "Trainer",
    "TrainerConfig",
    "TrainingData",
    "calibration_metrics",
    "compute_metrics",
    "load_run",
    "log_to",
    "make_model",
    "noam_lr",
    "seed_everything",
    "to_device",
    "train_run",
]
