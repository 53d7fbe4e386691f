"""``biomodels generate train``: train a generative model into a run directory, resumably.

The run directory has the layout of every run (:mod:`biomodels.train.run`), so
:func:`~biomodels.train.run.load_run` reads it, plus a checkpoint that the training rewrites
after every epoch::

    RUN/
      config.json, environment.json, run.log
      splits.json          which rows validate (row % 100 == 0, the first 5,000 such rows)
      checkpoint/          model folder of the last finished epoch + optimizer.safetensors
      model/               the final model (written when the last epoch is done)
      metrics.json         the data counts (rows read, usable, invalid by reason), per-epoch
                           history (loss, tokens/s, validation NLL), validation scores, seconds
                           (``seconds_total``: with those of an ``init`` run's training)

The training file is streamed (:class:`~biomodels.generate.corpus.SmilesCorpus`) and its rows
encoded once into ``RUN/tokens/`` (memory-mapped, one byte per token; removed when training
ends), from which every epoch draws a fresh random order over all rows: memory is bounded by a
batch window, not by the file, and an ordered file does not bias the model toward its last rows.
``resume=True`` continues a killed run from its checkpoint (weights, optimiser moments, epoch
count), with the same settings.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

from biomodels.exceptions import CheckpointError, InputError
from biomodels.generate.corpus import VAL_EVERY, VAL_ROWS, SmilesCorpus
from biomodels.generate.models import GenerativeModel
from biomodels.generate.sampling import PRIOR_DIR, load_generator
from biomodels.registry import MODELS
from biomodels.train.estimator import Estimator, make_model
from biomodels.train.run import load_run, staging_dir
from biomodels.train.rundir import RunDirectory
from biomodels.utils import atomic_path, write_json

logger = logging.getLogger(__name__)

__all__ = ["TrainResult", "read_checkpoint", "read_tensors", "train", "write_checkpoint"]

CHECKPOINT = "checkpoint"
OPTIMIZER_FILE = "optimizer.safetensors"
TOKENS = "tokens"


@dataclass
class TrainResult:
    """What :func:`train` produced: the run directory, its metrics, the fitted model."""

    run_dir: Path
    metrics: dict[str, Any]
    model: GenerativeModel
    seconds: float


def train(
    data: str | Path,
    out: str | Path,
    model: str = "charrnn",
    epochs: int | None = None,
    max_rows: int | None = None,
    seed: int = 0,
    resume: bool = False,
    force: bool = False,
    smiles_col: str | None = None,
    progress: bool = False,
    init: str | Path | None = None,
    **params: Any,
) -> TrainResult:
    """Train the generative model ``model`` (``charrnn`` | ``vae``) on the SMILES of ``data``.

    Args:
        data: a molecule file (the MOSES ``train.csv.gz``: one ``SMILES`` column).
        out: the run directory (see the module docstring).
        epochs: passes over the data (the model's default when None); with ``resume``, a larger
            number trains further.
        max_rows: read only the first ``max_rows`` rows.
        resume: continue the run in ``out`` from its last checkpoint.
        force: replace an existing non-empty ``out`` (without ``resume``).
        init: start from the model of this run directory of ``generate train`` (``"prior"``: the
            shipped prior), its weights and vocabulary, with a fresh optimiser and schedule over
            ``epochs`` new epochs: a prior trained further. ``params`` may change the training
            settings, not the architecture.
        params: the model's further constructor arguments (``hidden``, ``layers``, ``lr``,
            ``representation``...).

    Raises:
        InputError: unknown model or parameter, ``out`` not empty, no usable row in ``data``.
        CheckpointError: ``resume`` without a readable checkpoint in ``out``; an ``init`` run
            that is missing, corrupt or holds another model.
    """
    started = time.perf_counter()
    out = Path(out)
    seconds_before = 0.0
    if MODELS.info(model).get("input") != "smiles":
        raise InputError(
            None,
            f"{model!r} is not a generative model; choose one of: {', '.join(MODELS.names(input='smiles'))}",
        )
    if resume:
        estimator = _resume(out, model, epochs, progress)
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
            raise InputError(
                out, "already exists and is not empty; choose another --out, pass --force or --resume"
            )
        options = {**params, "seed": seed, "progress": progress, **({"epochs": epochs} if epochs else {})}
        if init is None:
            estimator = make_model(model, **options)
            estimator.check_params()
        else:
            estimator, seconds_before = _initial(init, model, options)
    run = RunDirectory(out)
    corpus = SmilesCorpus(data, max_rows=max_rows, smiles_col=smiles_col, store_dir=run.file(TOKENS))
    with run.log_to():
        environment = run.record_environment()
        config = {
            "data": str(data),
            "model": model,
            "max_rows": max_rows,
            "seed": seed,
            "smiles_col": smiles_col,
            **({"init": str(init)} if init is not None else {}),
        }
        run.write_json("config.json", {**config, "params": estimator.get_params()})
        scan = corpus.scan(estimator.representation_, estimator.max_length)
        run.write_json(
            "splits.json",
            {"val": f"rows with row % {VAL_EVERY} == 0, the first {VAL_ROWS}", **scan.summary()},
        )

        def checkpoint(epoch: int, fitted: GenerativeModel) -> None:
            state = fitted.optimizer_.state_dict()
            write_checkpoint(run.file(CHECKPOINT), fitted, state, environment["packages"])
            logger.info("epoch %d checkpoint written to %s", epoch + 1, run.file(CHECKPOINT))

        estimator.fit(corpus, on_epoch=checkpoint)
        estimator.save(run.file("model"), versions=environment["packages"])
        shutil.rmtree(run.file(TOKENS), ignore_errors=True)
        val = [s for _, s in corpus.smiles("val")]
        seconds = time.perf_counter() - started
        metrics = {
            "val": estimator.evaluate(val) if val else {},
            "data": scan.summary(),
            "history": estimator.history(),
            "seconds": seconds,
            "seconds_total": seconds_before + seconds,
        }
        run.write_json("metrics.json", metrics)
        logger.info("trained %s in %.1f s: %s", model, seconds, metrics["val"])
    return TrainResult(out, metrics, estimator, seconds)


def write_checkpoint(
    folder: Path,
    model: GenerativeModel,
    optimizer_state: dict[str, torch.Tensor],
    versions: dict[str, Any],
    tensors: dict[str, dict[str, torch.Tensor]] | None = None,
    files: dict[str, Any] | None = None,
) -> None:
    """Replace ``folder`` (atomically, as a whole) with ``model``'s folder, its optimiser state
    (:data:`OPTIMIZER_FILE`), further safetensors files (``tensors``: file name -> tensors) and
    JSON files (``files``: file name -> object)."""
    with staging_dir(folder) as staging:
        model.save(staging, versions=versions)
        for name, content in {OPTIMIZER_FILE: optimizer_state, **(tensors or {})}.items():
            with atomic_path(staging / name) as tmp:
                safetensors.torch.save_file(content, str(tmp))
        for name, content in (files or {}).items():
            write_json(staging / name, content)


def read_checkpoint(
    folder: Path, model: str, run: Path, hint: str
) -> tuple[GenerativeModel, dict[str, torch.Tensor]]:
    """The model of a :func:`write_checkpoint` folder (a ``model`` one) and its optimiser state.

    Raises:
        CheckpointError: the folder is missing (``hint`` says what to run first), corrupt, or
            holds another model.
    """
    if not folder.is_dir():
        raise CheckpointError(run, f"no {folder.name}/ folder to resume from ({hint})")
    estimator = Estimator.load(folder)
    if estimator.name != model:
        raise CheckpointError(folder, f"holds a {estimator.name} model, not {model}")
    return estimator, read_tensors(folder / OPTIMIZER_FILE, "optimizer state")


def read_tensors(path: Path, what: str) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; one-line :class:`CheckpointError` when unreadable."""
    try:
        return safetensors.torch.load_file(str(path))
    except Exception as exc:  # safetensors' own error types
        raise CheckpointError(path, f"unreadable {what} ({' '.join(str(exc).split())})") from None


def _initial(init: str | Path, model: str, options: dict[str, Any]) -> tuple[GenerativeModel, float]:
    """The model of the run ``init`` set to train further, and the training seconds behind it."""
    run = PRIOR_DIR if str(init) == "prior" else Path(init)
    estimator = load_generator(run)
    if estimator.name != model:
        raise CheckpointError(init, f"holds a {estimator.name} model, not {model}")
    logger.info("starting from the %s model of %s", model, init)
    metrics = load_run(run).metrics
    try:
        restarted = estimator.restart_training(**options)
    except InputError as exc:  # name the run whose architecture the options would change
        raise InputError(f"--init {init}", exc.reason) from None
    return restarted, float(metrics.get("seconds_total", metrics.get("seconds", 0)))


def _resume(out: Path, model: str, epochs: int | None, progress: bool) -> GenerativeModel:
    folder = out / CHECKPOINT
    estimator, state = read_checkpoint(folder, model, out, "train without --resume first")
    try:
        estimator.resume_training(state)
    except Exception as exc:  # a state of another model
        raise CheckpointError(
            folder / OPTIMIZER_FILE, f"unreadable optimizer state ({' '.join(str(exc).split())})"
        ) from None
    estimator.set_params(progress=progress, **({"epochs": epochs} if epochs else {}))
    logger.info("resuming %s after epoch %d of %d", model, estimator.epochs_done_, estimator.epochs)
    return estimator
