"""One training run end to end for every model family, and the loader of its run directory.

:func:`train_run` reads and splits the data the way the model family says
(:meth:`~biomodels.train.estimator.Estimator.training_data`), fits, evaluates each partition,
and writes the run directory; :func:`load_run` gives it back, ready to predict. Plots and HTML
are drawn from the directory afterwards by :mod:`biomodels.report` (``biomodels report RUN``).

Run directory layout (the same for every family)::

    RUN_DIR/
      config.json                        the run's settings (:class:`TrainRunConfig`)
      environment.json                   Python, package versions, platform, CPUs, CUDA devices
      splits.json                        the train / val / test partitions
      metrics.json                       per partition the metrics, plus seconds, data counts
                                         and the per-epoch training history of each network
      predictions_{train,val,test}.csv   one row per item of the partition: ids, truth,
                                         predictions, uncertainty, error
      model/                             model.json + member_<i>/weights.safetensors (one
                                         sub-folder per ensemble member), and for molecule
                                         models the applicability domain (packed training
                                         fingerprints, domain.json); see
                                         :mod:`biomodels.train.checkpoint`
      plots/                             figures drawn by ``biomodels report`` (biomodels.report)
      run.log                            the run's log
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from biomodels.data.splits import DEFAULT_SIZES, SPLITTERS
from biomodels.exceptions import CheckpointError, InputError
from biomodels.io.textfiles import DEFAULT_ENCODING, check_encoding
from biomodels.registry import ENGINES, MODELS
from biomodels.train.estimator import Estimator, TrainingData, make_model
from biomodels.train.rundir import RunDirectory
from biomodels.utils import read_json, remove_stale

logger = logging.getLogger(__name__)

__all__ = ["Run", "TrainRunConfig", "TrainRunResult", "load_run", "train_run"]


@dataclass
class TrainRunConfig:
    """Everything that defines a training run; saved as the run's ``config.json``.

    Attributes:
        data: the data file or folder (a molecule table, a text table, images).
        model: a :data:`~biomodels.registry.MODELS` key (``dmpnn``, ``rf``, ``cnn``, ``rnn``...).
        targets: target columns of a molecule table.
        smiles_col, task: a molecule table's SMILES column and task (detected when None).
        text_col, label_col, class_names: a text table's columns; an image set's class names.
        split: a :data:`~biomodels.data.splits.SPLITTERS` key; ``sizes`` its fractions.
        split_file: external split indices (ours or chemprop's ``splits.json``) instead.
        seed: seeds the split and the model. epochs: training epochs (model default if None).
        params: the model's further constructor arguments (hidden size, ensemble, ...).
        workers: featurisation processes (0 = every core). progress: show progress bars.
        encoding: the text encoding of the data file (UTF-8 by default), decoded strictly.
    """

    data: str
    model: str = "dmpnn"
    targets: list[str] = field(default_factory=list)
    smiles_col: str | None = None
    task: str | None = None
    text_col: str | None = None
    label_col: str | None = None
    class_names: list[str] | None = None
    split: str = "random"
    sizes: tuple[float, float, float] = DEFAULT_SIZES
    split_file: str | None = None
    seed: int = 0
    epochs: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    workers: int = 0
    progress: bool = False
    encoding: str = DEFAULT_ENCODING

    def __post_init__(self) -> None:
        MODELS.get(self.model)  # an unknown name raises, listing the valid ones
        SPLITTERS.get(self.split)
        check_encoding(self.encoding)
        self.data = str(self.data)

    def build_model(self) -> Estimator:
        """The untrained model: ``params``, plus the run's seed, epochs and progress bar where
        the model takes them."""
        params = dict(self.params)
        accepted = inspect.signature(MODELS.get(self.model).__init__).parameters
        for key, value in (("seed", self.seed), ("epochs", self.epochs), ("progress", self.progress)):
            if key in accepted and value is not None:
                params.setdefault(key, value)
        return make_model(self.model, **params)


@dataclass
class TrainRunResult:
    """What :func:`train_run` produced."""

    run_dir: Path
    metrics: dict[str, Any]
    model: Estimator
    data: TrainingData
    seconds: float


def train_run(config: TrainRunConfig, out: str | Path, force: bool = False) -> TrainRunResult:
    """Train, evaluate and save one run into ``out`` (see the module docstring for the layout).

    All or nothing: the options are checked before anything is read or written, the run is
    written into a hidden sibling folder and renamed to ``out`` once complete, so a failed run
    leaves no trace and ``out`` never mixes two runs.

    Args:
        force: replace an existing non-empty ``out`` (whole: no stale file of the old run stays).

    Raises:
        InputError: an option out of range, ``out`` exists and is not empty (without ``force``),
            unusable data (no target values, one class, too few molecules for the split).
    """
    started = time.perf_counter()
    out = Path(out)
    model = config.build_model()
    model.check_params()
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise InputError(out, "already exists and is not empty; choose another --out or pass --force")
    with staging_dir(out) as staging:
        result = _train_into(config, model, RunDirectory(staging), started)
    result.run_dir = out
    return result


def _train_into(
    config: TrainRunConfig, model: Estimator, run: RunDirectory, started: float
) -> TrainRunResult:
    with run.log_to():
        run.write_json("config.json", asdict(config))
        environment = run.record_environment()
        data = model.training_data(config)
        run.write_json("splits.json", data.split)
        model.fit(data.train, val=data.val)
        metrics: dict[str, Any] = {}
        for name, part in data.partitions().items():
            if len(part):
                run.write_table(f"predictions_{name}.csv", model.predict(part))
                metrics[name] = model.evaluate(part)
        model.save(run.file("model"), versions=environment["packages"])
        seconds = time.perf_counter() - started
        metrics.update(seconds=seconds, data=data.summary, history=model.history())
        run.write_json("metrics.json", metrics)
        test = metrics.get("test", {})
        headline = {k: round(v, 4) for k, v in test.get("mean", test).items() if isinstance(v, float)}
        logger.info("run finished in %.1f s; test %s", seconds, headline or "not evaluated")
    return TrainRunResult(run.path, metrics, model, data, seconds)


@contextlib.contextmanager
def staging_dir(out: Path) -> Iterator[Path]:
    """A hidden empty folder beside ``out``, renamed onto ``out`` (replacing it) when the block
    succeeds and removed when it fails. Leftovers of killed runs beside ``out`` are removed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out.parent, f".{out.name}.staging-")
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.staging-{os.getpid()}-"))
    try:
        yield staging
        if out.exists():
            trash = out.parent / f".{out.name}.replaced-{os.getpid()}"
            os.replace(out, trash)
            os.replace(staging, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@dataclass
class Run:
    """A trained run directory, loaded.

    Attributes:
        path: the run directory. name: a label (the folder name), used to prefix columns
            when several runs score together.
        config: the run's settings (``config.json``), metrics: ``metrics.json`` (empty if absent).
        model: the fitted estimator.
        engine: the :data:`~biomodels.registry.ENGINES` key running its networks.
    """

    path: Path
    name: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    model: Estimator
    engine: str = "torch"

    def predict(self, data: Any, **options: Any) -> pd.DataFrame:
        """The model's predictions for ``data`` (SMILES list, DataFrame, file path, texts...):
        every input row, in order, with an ``error`` column. ``options`` go to the model's
        ``predict`` (a molecule model's ``domain``, ``min_similarity``)."""
        return self.model.predict(data, **options)


def load_run(path: str | Path, name: str | None = None, engine: str = "torch") -> Run:
    """Load a run directory written by ``biomodels train``, ``diagnostics train`` or ``dta train``.

    ``engine`` (an :data:`~biomodels.registry.ENGINES` key) says what runs the networks:
    ``torch``, or ``onnxruntime`` (see :mod:`biomodels.train.engines`).

    Raises:
        UnknownNameError: an unknown engine (the message lists the valid ones).
        CheckpointError: one line naming the folder or file and what is wrong (missing, not a
            run directory, biomodels 0.1.0's layout, altered, corrupt or mismatched model).
    """
    path = Path(path)
    use_engine = ENGINES.get(engine)
    if not path.is_dir():
        raise CheckpointError(path, "run directory not found")
    if not (path / "model").is_dir():
        if (path / "run.json").is_file():
            raise CheckpointError(
                path,
                "written by biomodels 0.1.0 (run.json), whose model format this biomodels no longer "
                "reads; retrain it with `biomodels diagnostics train` (the settings are in run.json)",
            )
        raise CheckpointError(path, "no model/ folder; not a biomodels run directory")
    model = Estimator.load(path / "model")
    config = _read_optional(path / "config.json")
    metrics = _read_optional(path / "metrics.json")
    return use_engine(Run(path, name or path.name, config, metrics, model))


def _read_optional(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return read_json(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(path, f"unreadable ({' '.join(str(exc).split())})") from None
