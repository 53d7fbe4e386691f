"""Streaming scoring: read a library in chunks, parse, predict with trained runs, keep every row.

This is the engine under both ``biomodels predict`` and ``biomodels screen``. A chunk goes
in as raw text records and comes out as a DataFrame with one row per input record: ``row``,
``id``, ``smiles``, one prediction and one ``_std`` column per model target, and ``error``
naming why a row could not be scored. Worker processes each load the models once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import pandas as pd
from rdkit import Chem

from biomodels.exceptions import CheckpointError, UnknownNameError
from biomodels.featurize.batch import _ordered_map
from biomodels.io.molecules import MoleculeParser, RawRecord, iter_raw_chunks
from biomodels.train.predictor import PREDICTOR_FILE, Prediction, Predictor, load_predictor
from biomodels.types import MoleculeRecord

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class ScoringModel:
    """A trained run loaded for scoring.

    Attributes:
        name: label used in column names when several models score together.
        run_dir: the run directory it came from.
        predictor: the loaded predictor.
    """

    name: str
    run_dir: Path
    predictor: Predictor

    @property
    def target_names(self) -> list[str]:
        return list(self.predictor.target_names_)

    @property
    def classes(self) -> list[str] | None:
        return self.predictor.classes_


def load_run(run_dir: str | Path, name: str | None = None) -> ScoringModel:
    """Load the model of a run directory written by ``biomodels train``.

    Raises:
        CheckpointError: one line naming the folder and what is wrong (missing, not a run
            directory, corrupt or mismatched checkpoint).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(run_dir, "run directory not found")
    if not (run_dir / "model").is_dir():
        raise CheckpointError(run_dir, "no model/ folder; not a biomodels run directory")
    return ScoringModel(name or run_dir.name, run_dir, load_predictor(run_dir / "model"))


def prediction_columns(models: Sequence[ScoringModel]) -> list[tuple[ScoringModel, str, str]]:
    """``(model, target, column)`` for every prediction column, prefixed when several models."""
    prefix = len(models) > 1
    return [(m, t, f"{m.name}:{t}" if prefix else t) for m in models for t in m.target_names]


def score_records(
    models: Sequence[ScoringModel], raws: list[RawRecord], parser: MoleculeParser
) -> pd.DataFrame:
    """Parse and score one chunk; every record comes out, invalid ones with their ``error``."""
    return score_parsed(models, parser.parse_chunk(raws))


def score_parsed(
    models: Sequence[ScoringModel], records: Sequence[MoleculeRecord], mask: np.ndarray | None = None
) -> pd.DataFrame:
    """Score parsed records: ``row, id, smiles``, predictions and ``_std`` per target, ``error``.

    Args:
        models: loaded runs.
        records: one chunk of parsed records; invalid ones keep their ``error`` and get NaN.
        mask: boolean, one per record; records where it is False are not scored (NaN, no
            error), e.g. molecules a screening run filtered out before inference.
    """
    ok = np.array([r.ok for r in records], dtype=bool)
    if mask is not None:
        ok &= mask
    good = np.flatnonzero(ok)
    n = len(records)
    columns: dict[str, object] = {
        "row": np.array([r.row for r in records], dtype=np.int64),
        "id": [r.id for r in records],
        "smiles": [r.smiles for r in records],
    }
    errors: list[str | None] = [r.error for r in records]
    mols = [records[i].mol for i in good]
    smiles = [records[i].smiles for i in good]
    prefix = len(models) > 1
    for model in models:
        prediction = _predict(model, mols, smiles, good, errors)
        for t, target in enumerate(model.target_names):
            column = f"{model.name}:{target}" if prefix else target
            if model.classes:
                probs = _scatter(n, good, None if prediction is None else prediction.mean[:, t])
                labels = np.array([None] * n, dtype=object)
                if prediction is not None:
                    labels[good] = [model.classes[k] for k in prediction.mean[:, t].argmax(-1)]
                columns[column] = labels
                for c, label in enumerate(model.classes):
                    columns[f"{column}_prob_{label}"] = probs[:, c] if probs.ndim == 2 else probs
            else:
                columns[column] = _scatter(n, good, None if prediction is None else prediction.mean[:, t])
            columns[f"{column}_std"] = _scatter(n, good, None if prediction is None else prediction.std[:, t])
    columns["error"] = pd.Series(errors, dtype=object)
    return pd.DataFrame(columns)


def _predict(
    model: ScoringModel,
    mols: list[Chem.Mol],
    smiles: list[str | None],
    good: np.ndarray,
    errors: list[str | None],
) -> Prediction | None:
    """One model's predictions for ``mols``; on failure, mark the ``good`` rows' errors."""
    try:
        return model.predictor.predict_mols(mols, smiles)
    except Exception as exc:  # a model failing on a chunk marks those rows, never the run
        logger.warning("model %s failed on a chunk: %s", model.name, exc)
        for i in good:
            errors[i] = errors[i] or f"model {model.name} failed: {' '.join(str(exc).split())}"
        return None


def error_key(reason: str) -> str:
    """A short key grouping similar error messages: their text up to the first colon or digit.

    ``"Explicit valence for atom # 3 N, 4, is greater than permitted"`` -> ``"Explicit valence
    for atom"``; ``"SMILES Parse Error: syntax error..."`` -> ``"SMILES Parse Error"``.
    """
    return re.split(r"[:\d]", reason, maxsplit=1)[0].strip(" #,")[:60] or reason[:60]


def _scatter(n: int, rows: np.ndarray, values: np.ndarray | None) -> np.ndarray:
    """Values of the scored rows placed at their positions among ``n``; NaN elsewhere."""
    if values is None:
        return np.full(n, np.nan, np.float32)
    out = np.full((n, *values.shape[1:]), np.nan, np.float32)
    out[rows] = values
    return out


@functools.lru_cache(maxsize=4)
def worker_models(
    run_dirs: tuple[str, ...], names: tuple[str, ...], threads: int = 1, stamp: tuple[int, ...] = ()
) -> list[ScoringModel]:
    """The models of ``run_dirs``, loaded once per process (pool and Dask workers call this).

    The first call also sets the process's torch threads, so that workers times threads
    stays within the cores. ``stamp`` is part of the cache key only: pass the models'
    modification times so that a long-lived worker reloads a run directory trained again.
    """
    import torch

    torch.set_num_threads(threads)
    return [load_run(d, n) for d, n in zip(run_dirs, names, strict=True)]


ChunkJob = Callable[[Sequence[ScoringModel], T], R]
"""A job run on one item (a chunk of records, a file range...) with the worker's loaded models."""


class ModelJob(Generic[T, R]):
    """Picklable wrapper running a :data:`ChunkJob` with :func:`worker_models` in the worker."""

    def __init__(self, job: ChunkJob, models: Sequence[ScoringModel], threads: int = 1):
        self.job = job
        self.run_dirs = tuple(str(Path(m.run_dir).resolve()) for m in models)  # workers may cd elsewhere
        self.names = tuple(m.name for m in models)
        self.threads = threads
        self.stamp = tuple((Path(d) / "model" / PREDICTOR_FILE).stat().st_mtime_ns for d in self.run_dirs)

    def load(self) -> list[ScoringModel]:
        return worker_models(self.run_dirs, self.names, self.threads, self.stamp)

    def __call__(self, item: T) -> R:
        return self.job(self.load(), item)


POOLS = ("threads", "processes")


def map_with_models(
    job: ChunkJob,
    items: Iterable[T],
    models: Sequence[ScoringModel],
    workers: int = 1,
    executor: Executor | None = None,
    pool: str = "threads",
) -> Iterator[R]:
    """Run ``job(models, item)`` over ``items``, results in input order, memory bounded.

    Args:
        job: picklable callable (sent to the workers).
        items: consumed lazily; at most ``2 * workers`` are in flight.
        models: loaded runs; used as they are when scoring in this process, else reloaded
            once per worker process from their run directories.
        workers: parallel jobs; 1 runs in this process, 0 uses every core.
        executor: a ready executor (e.g. a Dask client's) to use instead of a local pool.
        pool: ``"threads"`` shares this process and its models: torch releases the GIL while
            one thread runs the model, so another parses and featurises meanwhile, with one
            copy of the imports and models in memory. ``"processes"`` runs fully parallel
            worker processes, each loading its own copy.
    """
    if pool not in POOLS:
        raise UnknownNameError("pool", pool, list(POOLS))
    if workers == 0:
        workers = os.cpu_count() or 1
    remote = ModelJob(job, models)
    if executor is not None:
        yield from _ordered_map(remote, iter(items), executor, 2 * workers)
        return
    if workers <= 1:
        yield from _ordered_map(functools.partial(job, models), iter(items), None, 1)
        return
    if pool == "threads":
        with _torch_threads(1), ThreadPoolExecutor(max_workers=workers) as threads:
            yield from _ordered_map(functools.partial(job, models), iter(items), threads, 2 * workers)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=remote.load) as processes:
        yield from _ordered_map(remote, iter(items), processes, 2 * workers)


@contextlib.contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Run torch ops single-threaded inside: the parallelism comes from the job threads."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class RecordScorer:
    """The :data:`ChunkJob` of ``biomodels predict``: parse a raw chunk and score it."""

    def __init__(self, parser: MoleculeParser):
        self.parser = parser

    def __call__(self, models: Sequence[ScoringModel], raws: list[RawRecord]) -> pd.DataFrame:
        return score_records(models, raws, self.parser)


def iter_scored_chunks(
    models: Sequence[ScoringModel],
    library: str | Path,
    smiles_col: str | None = None,
    id_col: str | None = None,
    chunk_size: int = 5000,
    workers: int = 1,
    standardize: bool = False,
    raw_chunks: Iterator[list[RawRecord]] | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield scored chunks of ``library`` in input order, memory bounded by the chunk size.

    Args:
        models: loaded runs (see :func:`load_run`).
        library: any file :func:`~biomodels.io.read_molecules` reads.
        workers: parallel threads of this process; 1 scores in this thread, 0 = all cores.
        raw_chunks: read these chunks instead of ``library`` (used to resume mid-file).
    """
    chunks = (
        raw_chunks if raw_chunks is not None else iter_raw_chunks(library, smiles_col, id_col, chunk_size)
    )
    yield from map_with_models(RecordScorer(MoleculeParser(standardize=standardize)), chunks, models, workers)


@dataclass
class PredictSummary:
    """Counts of a :func:`predict_file` run."""

    rows: int
    scored: int
    errors: dict[str, int]
    out: Path

    @property
    def invalid(self) -> int:
        return self.rows - self.scored


def predict_file(
    run_dir: str | Path,
    input: str | Path,
    out: str | Path,
    smiles_col: str | None = None,
    id_col: str | None = None,
    chunk_size: int = 5000,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> PredictSummary:
    """Predict every row of ``input`` with the run's model into ``out`` (.csv or .parquet).

    Rows come out in input order with ``row, id, smiles``, predictions, ``_std`` and
    ``error``; ``progress(n)`` is called with each chunk's row count.
    """
    from biomodels.screen.writer import ChunkedTableWriter

    model = load_run(run_dir)
    errors: dict[str, int] = {}
    scored = 0
    with ChunkedTableWriter(out) as writer:
        for frame in iter_scored_chunks([model], input, smiles_col, id_col, chunk_size, workers):
            writer.write(frame)
            bad = frame["error"].dropna()
            scored += len(frame) - len(bad)
            for reason in bad:
                key = error_key(reason)
                errors[key] = errors.get(key, 0) + 1
            if progress is not None:
                progress(len(frame))
    return PredictSummary(writer.rows, scored, errors, Path(out))
