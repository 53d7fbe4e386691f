"""Plots of a tuning run, drawn from its Optuna study: optimisation history and importances.

:func:`report_tune` reads ``RUN/tune.json`` (written by :func:`biomodels.tune.tune_run`), loads the
study from the storage it names and writes ``RUN/plots/history.png`` (each trial's validation
loss and the best so far) and ``RUN/plots/importance.png`` (Optuna's fANOVA importance of each
hyper-parameter; it needs two completed trials and is skipped, with a log line, before).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
from matplotlib.axes import Axes
from optuna.visualization import matplotlib as optuna_plots

from biomodels.exceptions import InputError
from biomodels.utils import atomic_path, read_json

logger = logging.getLogger(__name__)

__all__ = ["report_tune"]


def report_tune(out: str | Path) -> list[Path]:
    """Draw the tuning run ``out``'s plots into ``out/plots``; returns the files written.

    Raises:
        InputError: ``out`` holds no ``tune.json``.
    """
    out = Path(out)
    if not (out / "tune.json").is_file():
        raise InputError(out, "no tune.json; not a tuning run (biomodels tune)")
    info = read_json(out / "tune.json")
    study = optuna.load_study(study_name=info["study_name"], storage=info["storage"])
    written = [_draw(optuna_plots.plot_optimization_history, study, out / "plots" / "history.png")]
    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(completed) >= 2:
        written.append(_draw(optuna_plots.plot_param_importances, study, out / "plots" / "importance.png"))
    else:
        logger.info("importance plot skipped: %d completed trial(s), it needs 2", len(completed))
    return written


def _draw(plot: Callable[[optuna.Study], Axes], study: optuna.Study, path: Path) -> Path:
    """Optuna's matplotlib plot ``plot`` of ``study`` saved to ``path`` (its pyplot figure closed)."""
    from matplotlib import pyplot  # Optuna draws through pyplot; the figure is closed below

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = plot(study)
    fig = ax.figure
    fig.set_size_inches(7, 4.5)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=150)
    pyplot.close(fig)
    return path
