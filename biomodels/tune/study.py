"""Hyper-parameter tuning of a GNN with Optuna: a resumable study, then the best configuration
retrained into a normal run directory.

:func:`tune_run` searches :data:`~biomodels.tune.space.SEARCH_SPACE` with Optuna's TPE sampler;
each trial is one :func:`~biomodels.train.run.train_run` of ``epochs`` epochs on the same split
(``split``, ``seed``), its value the lowest validation loss of any epoch. A median pruner stops a
trial whose validation loss after an epoch is worse than the median of earlier trials at that
epoch: the trainer's epoch hook (:func:`~biomodels.train.trainer.epoch_hooks`) reports every
epoch to Optuna. The first trial of a new study is the estimator's defaults.

The study lives in ``storage`` (``sqlite:///RUN/study.db`` unless another URL is given) and is
written after every trial, so a tuning run killed at any point resumes where it stopped when
run again with the same storage: ``trials`` counts the finished trials (complete or pruned),
including those of earlier runs. A trial that was running when its process was killed stays
RUNNING until Optuna's heartbeat marks it failed; it never counts.

Output layout::

    RUN/
      tune.json      settings, the search space, counts, the best trial and its parameters
      trials.csv     one row per trial: number, state, value, params_*, epochs, seconds
      study.db       the Optuna study (with the default storage)
      best/          the best configuration retrained: a run directory (``load_run``)
      plots/         Optuna's history and importance plots (``biomodels.report.tune``)
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from biomodels.exceptions import InputError
from biomodels.registry import MODELS
from biomodels.train.run import TrainRunConfig, TrainRunResult, train_run
from biomodels.train.trainer import TrainHistory, epoch_hooks
from biomodels.tune.space import DEFAULTS, SEARCH_SPACE, Param, model_params, sample
from biomodels.utils import atomic_path, remove_stale, to_jsonable, write_json

logger = logging.getLogger(__name__)

__all__ = [
    "FINISHED",
    "TuneConfig",
    "TuneResult",
    "finished_trials",
    "gnn_models",
    "tune_run",
    "write_trials",
]

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
"""The trial states ``--trials`` counts."""
HEARTBEAT_SECONDS = 30
"""A running trial writes a heartbeat this often; one silent for twice as long is marked failed."""


@dataclass
class TuneConfig:
    """Everything that defines a tuning run; saved in ``tune.json``.

    Attributes:
        run: the training run every trial varies (data, targets, model, split, seed); its
            ``params`` are the fixed parameters the search space adds to.
        trials: finished trials the study should hold (earlier runs' included).
        storage: an Optuna storage URL; None: ``sqlite:///RUN/study.db``.
        study_name: the study's name within the storage.
        timeout: stop starting new trials after this many seconds of this run (None: no limit).
        space: the hyper-parameters searched (:data:`~biomodels.tune.space.SEARCH_SPACE`).
        pruner_startup_trials, pruner_warmup_epochs: the median pruner prunes only once this
            many trials finished, and never in a trial's first epochs (warm-up of the lr).
    """

    run: TrainRunConfig
    trials: int = 20
    storage: str | None = None
    study_name: str = "biomodels-tune"
    timeout: float | None = None
    space: tuple[Param, ...] = SEARCH_SPACE
    pruner_startup_trials: int = 3
    pruner_warmup_epochs: int = 2

    def __post_init__(self) -> None:
        if self.run.model not in gnn_models():
            raise InputError(
                None, f"tune searches GNN models ({', '.join(gnn_models())}), not {self.run.model!r}"
            )
        if self.trials < 1:
            raise InputError(None, f"--trials must be at least 1, got {self.trials}")
        if self.timeout is not None and not self.timeout > 0:
            raise InputError(None, f"--timeout must be a number of seconds > 0, got {self.timeout}")
        if not self.run.epochs or self.run.epochs < 1:
            raise InputError(None, f"--epochs must be at least 1, got {self.run.epochs}")

    def settings(self) -> dict[str, Any]:
        """What a resumed run must share with the study's first run (data, split, epochs...)."""
        run = asdict(self.run)
        fixed = {
            k: run[k] for k in ("data", "model", "targets", "smiles_col", "task", "split", "seed", "epochs")
        }
        space = {p.name: p.describe() for p in self.space}
        return {**fixed, "sizes": list(run["sizes"]), "params": run["params"], "space": space}


@dataclass
class TuneResult:
    """What :func:`tune_run` produced."""

    out: Path
    study: optuna.Study
    best: TrainRunResult
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def gnn_models() -> list[str]:
    """The registered models the search space applies to (the GNN estimator's entries)."""
    return [name for name in MODELS.names() if MODELS.target(name) == MODELS.target("dmpnn")]


def finished_trials(study: optuna.Study) -> int:
    """Trials that ran to the end or were pruned (what ``--trials`` counts)."""
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def tune_run(config: TuneConfig, out: str | Path) -> TuneResult:
    """Tune until the study holds ``config.trials`` finished trials, retrain the best into ``out/best``.

    Each trial logs a line when it ends; with ``config.run.progress`` its epochs show a bar.

    Raises:
        InputError: bad settings, the storage holds a study of this name made with other
            settings, or no trial finished.
    """
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    storage_url = config.storage or f"sqlite:///{(out / 'study.db').resolve()}"
    remove_stale(out, ".trial.")  # the trial folders of a killed run
    failures = 0
    with _quiet_optuna():
        study = _open_study(config, storage_url)
        while (done := finished_trials(study)) < config.trials:
            if config.timeout is not None and time.perf_counter() - started >= config.timeout:
                logger.info(
                    "timeout of %g s reached: %d/%d trials finished", config.timeout, done, config.trials
                )
                break
            if failures >= config.trials:
                logger.warning("stopping: %d trials failed in this run", failures)
                break
            study.optimize(
                lambda trial: _objective(trial, config, out),
                n_trials=1,
                catch=(FloatingPointError,),  # a diverging configuration fails; the study goes on
                callbacks=[lambda study, trial: _trial_done(study, trial, config, out)],
            )
            failures += study.trials[-1].state == TrialState.FAIL
    write_trials(study, out / "trials.csv")
    counts = {
        state.name.lower(): len(study.get_trials(deepcopy=False, states=(state,))) for state in TrialState
    }
    if not counts["complete"]:
        raise InputError(
            config.run.data, f"no trial of study {config.study_name!r} completed; see {out / 'trials.csv'}"
        )
    best_trial = study.best_trial
    logger.info(
        "best trial %d: validation loss %.4g, %s", best_trial.number, best_trial.value, best_trial.params
    )
    best_values = sample(optuna.trial.FixedTrial(best_trial.params), config.space)  # as the trial had them
    best_config = _trial_config(config, best_values)
    best = train_run(best_config, out / "best", force=True)
    seconds = time.perf_counter() - started
    write_json(
        out / "tune.json",
        {
            "settings": config.settings(),
            "trials": config.trials,
            "storage": storage_url,
            "study_name": config.study_name,
            "counts": counts,
            "best": {"number": best_trial.number, "value": best_trial.value, "params": best_values},
            "best_metrics": {k: best.metrics[k] for k in ("val", "test") if k in best.metrics},
            "seconds_this_run": seconds,
        },
    )
    return TuneResult(out, study, best, counts, seconds)


def write_trials(study: optuna.Study, path: Path) -> Path:
    """The trials table: number, state, value, params_*, epochs run, seconds (one row per trial)."""
    frame = study.trials_dataframe(attrs=("number", "state", "value", "params", "user_attrs", "duration"))
    if "duration" in frame:
        frame["seconds"] = frame.pop("duration").dt.total_seconds()
    frame.columns = [c.removeprefix("user_attrs_") for c in frame.columns]
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return path


def _trial_done(study: optuna.Study, trial: optuna.trial.FrozenTrial, config: TuneConfig, out: Path) -> None:
    """After each trial: log it and rewrite the trials table (so a kill leaves it current)."""
    value = "" if trial.value is None else f", validation loss {trial.value:.4g}"
    seconds = trial.duration.total_seconds() if trial.duration else math.nan
    logger.info(
        "trial %d %s%s in %.1f s; %d/%d finished",
        trial.number,
        trial.state.name.lower(),
        value,
        seconds,
        finished_trials(study),
        config.trials,
    )
    write_trials(study, out / "trials.csv")


def _open_study(config: TuneConfig, storage_url: str) -> optuna.Study:
    """Create the study, or load it and check that it was made with the same settings."""
    storage = optuna.storages.RDBStorage(
        storage_url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=2 * HEARTBEAT_SECONDS
    )
    settings = json.loads(json.dumps(to_jsonable(config.settings())))  # as Optuna stores it
    study = optuna.create_study(
        storage=storage,
        study_name=config.study_name,
        direction="minimize",
        load_if_exists=True,
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=config.pruner_startup_trials, n_warmup_steps=config.pruner_warmup_epochs
        ),
    )
    # a resumed sampler is seeded past the trials it already drew, so it does not repeat them
    study.sampler = optuna.samplers.TPESampler(
        seed=config.run.seed + len(study.trials), n_startup_trials=max(1, min(10, config.trials // 2))
    )
    previous = study.user_attrs.get("settings")
    if previous is None:
        study.set_user_attr("settings", settings)
        study.enqueue_trial(_defaults(config.space), skip_if_exists=True)
        logger.info("new study %r in %s", config.study_name, storage_url)
    elif previous != settings:
        changed = sorted(k for k in settings if previous.get(k) != settings[k])
        raise InputError(
            storage_url,
            f"study {config.study_name!r} was made with other settings ({', '.join(changed)} differ); "
            "use the same options, another --storage or another study name",
        )
    else:
        logger.info(
            "resuming study %r: %d/%d trials finished",
            config.study_name,
            finished_trials(study),
            config.trials,
        )
    return study


def _defaults(space: tuple[Param, ...]) -> dict[str, Any]:
    """The estimator's defaults that lie in ``space`` (the others are sampled)."""
    return {p.name: DEFAULTS[p.name] for p in space if p.name in DEFAULTS and p.contains(DEFAULTS[p.name])}


def _objective(trial: optuna.Trial, config: TuneConfig, out: Path) -> float:
    """Train one sampled configuration; its value is the lowest validation loss of its epochs."""
    values = sample(trial, config.space)
    logger.info("trial %d: %s", trial.number, values)

    def report(epoch: int, history: TrainHistory) -> None:
        trial.set_user_attr("epochs", epoch + 1)
        val_loss = history.val_loss[-1]
        if math.isfinite(val_loss):
            trial.report(val_loss, epoch)
            if trial.should_prune():
                logger.info(
                    "trial %d pruned after epoch %d (validation loss %.4g)", trial.number, epoch + 1, val_loss
                )
                raise optuna.TrialPruned(f"validation loss {val_loss:.4g} after epoch {epoch + 1}")

    with tempfile.TemporaryDirectory(dir=out, prefix=f".trial.{os.getpid()}-") as folder, epoch_hooks(report):
        result = train_run(_trial_config(config, values), Path(folder) / "run")
    losses = [
        v for h in result.metrics["history"] for v in h["val_loss"] if v is not None and math.isfinite(v)
    ]
    if not losses:
        raise InputError(config.run.data, "the validation partition is empty; tuning needs one (--sizes)")
    for name, value in result.metrics.get("val", {}).get("mean", {}).items():
        trial.set_user_attr(f"val_{name}", value)
    return min(losses)


def _trial_config(config: TuneConfig, values: dict[str, Any]) -> TrainRunConfig:
    return replace(config.run, params={**config.run.params, **model_params(values)})


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs each trial to stderr itself and warns that heartbeats are experimental; this
    module logs its own lines instead."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)
