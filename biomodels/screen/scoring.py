"""Streaming scoring: read a library in chunks, parse, predict with trained runs, keep every row.

This is the engine under both ``biomodels predict`` and ``biomodels screen``. A chunk goes
in as raw text records and comes out as a DataFrame with one row per input record: ``row``,
``id``, ``smiles``, one prediction and one ``_std`` column per model target (and
``_in_range`` for regression), the applicability-domain columns ``nn_similarity``, ``nn_id`` and
``in_domain`` (:class:`DomainOptions`; see :mod:`biomodels.chem.domain`), and ``error`` naming
why a row could not be scored. Worker processes each load the models once.
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

from biomodels.chem.domain import IN_DOMAIN
from biomodels.exceptions import InputError, UnknownNameError
from biomodels.io.molecules import MoleculeParser, RawRecord, iter_raw_chunks
from biomodels.io.textfiles import DEFAULT_ENCODING
from biomodels.screen.options import POOLS
from biomodels.train.checkpoint import MODEL_FILE
from biomodels.train.run import Run, load_run
from biomodels.types import MoleculeRecord
from biomodels.utils import ordered_map

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class DomainOptions:
    """Whether predictions carry the applicability-domain columns, and their threshold.

    Attributes:
        enabled: add ``nn_similarity``, ``nn_id``, ``in_domain`` and the distance-aware ``_std``
            (False: ``--no-domain``, for timing or for models saved without a training set).
        min_similarity: the ``in_domain`` threshold; None: each model's saved one.
    """

    enabled: bool = True
    min_similarity: float | None = None

    def __post_init__(self) -> None:
        if self.min_similarity is not None and not 0 <= self.min_similarity <= 1:
            raise InputError(None, f"--min-similarity must be in [0, 1], got {self.min_similarity}")

    def options(self) -> dict[str, object]:
        """Keyword arguments of a molecule model's ``predict_records``."""
        return {"domain": self.enabled, "min_similarity": self.min_similarity}


def prediction_columns(models: Sequence[Run]) -> list[tuple[Run, str, str]]:
    """``(model, target, column)`` for every prediction column, prefixed when several models."""
    prefix = len(models) > 1
    return [(m, t, f"{m.name}:{t}" if prefix else t) for m in models for t in m.model.target_names_]


def score_records(
    models: Sequence[Run], raws: list[RawRecord], parser: MoleculeParser, domain: DomainOptions | None = None
) -> pd.DataFrame:
    """Parse and score one chunk; every record comes out, invalid ones with their ``error``."""
    return score_parsed(models, parser.parse_chunk(raws), domain=domain)


def score_parsed(
    models: Sequence[Run],
    records: Sequence[MoleculeRecord],
    mask: np.ndarray | None = None,
    domain: DomainOptions | None = None,
) -> pd.DataFrame:
    """Score parsed records: ``row, id, smiles``, predictions and ``_std`` per target, ``error``.

    Args:
        models: loaded runs; with several, prediction columns are prefixed ``<run name>:``.
        records: one chunk of parsed records; invalid ones keep their ``error`` and get NaN.
        mask: boolean, one per record; records where it is False are not scored (NaN, no
            error), e.g. molecules a screening run filtered out before inference.
        domain: the applicability-domain columns (default: on, each model's threshold); with
            several models each gets its own, prefixed like its predictions.
    """
    options = (domain or DomainOptions()).options()
    frames = [m.model.predict_records(records, mask, **options) for m in models]
    if len(frames) == 1:
        return frames[0]
    base = frames[0][["row", "id", "smiles"]]
    blocks = [
        frame.drop(columns=["row", "id", "smiles", "error"]).add_prefix(f"{m.name}:")
        for m, frame in zip(models, frames, strict=True)
    ]
    errors = frames[0]["error"]
    for frame in frames[1:]:
        errors = errors.where(errors.notna(), frame["error"])
    return pd.concat([base, *blocks, errors.rename("error")], axis=1)


def error_key(reason: str) -> str:
    """A short key grouping similar error messages: their text up to the first colon or digit.

    ``"Explicit valence for atom # 3 N, 4, is greater than permitted"`` -> ``"Explicit valence
    for atom"``; ``"SMILES Parse Error: syntax error..."`` -> ``"SMILES Parse Error"``.
    """
    return re.split(r"[:\d]", reason, maxsplit=1)[0].strip(" #,")[:60] or reason[:60]


@functools.lru_cache(maxsize=4)
def worker_models(
    run_dirs: tuple[str, ...],
    names: tuple[str, ...],
    threads: int = 1,
    stamp: tuple[int, ...] = (),
    engines: tuple[str, ...] = (),
) -> list[Run]:
    """The models of ``run_dirs``, loaded once per process (pool and Dask workers call this).

    The first call also sets the process's torch threads, so that workers times threads
    stays within the cores. ``stamp`` is part of the cache key only: pass the models'
    modification times so that a long-lived worker reloads a run directory trained again.
    ``engines``: the engine of each run (``torch`` for all when empty).
    """
    import torch

    torch.set_num_threads(threads)
    engines = engines or ("torch",) * len(run_dirs)
    return [load_run(d, n, e) for d, n, e in zip(run_dirs, names, engines, strict=True)]


ChunkJob = Callable[[Sequence[Run], T], R]
"""A job run on one item (a chunk of records, a file range...) with the worker's loaded models."""


class ModelJob(Generic[T, R]):
    """Picklable wrapper running a :data:`ChunkJob` with :func:`worker_models` in the worker."""

    def __init__(self, job: ChunkJob, models: Sequence[Run], threads: int = 1):
        self.job = job
        self.run_dirs = tuple(str(Path(m.path).resolve()) for m in models)  # workers may cd elsewhere
        self.names = tuple(m.name for m in models)
        self.engines = tuple(m.engine for m in models)
        self.threads = threads
        self.stamp = tuple((Path(d) / "model" / MODEL_FILE).stat().st_mtime_ns for d in self.run_dirs)

    def load(self) -> list[Run]:
        return worker_models(self.run_dirs, self.names, self.threads, self.stamp, self.engines)

    def __call__(self, item: T) -> R:
        return self.job(self.load(), item)


def map_with_models(
    job: ChunkJob,
    items: Iterable[T],
    models: Sequence[Run],
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
        yield from ordered_map(remote, iter(items), executor, 2 * workers)
        return
    if workers <= 1:
        yield from ordered_map(functools.partial(job, models), iter(items), None, 1)
        return
    if pool == "threads":
        with _torch_threads(1), ThreadPoolExecutor(max_workers=workers) as threads:
            yield from ordered_map(functools.partial(job, models), iter(items), threads, 2 * workers)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=remote.load) as processes:
        yield from ordered_map(remote, iter(items), processes, 2 * workers)


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

    def __init__(self, parser: MoleculeParser, domain: DomainOptions | None = None):
        self.parser = parser
        self.domain = domain

    def __call__(self, models: Sequence[Run], raws: list[RawRecord]) -> pd.DataFrame:
        return score_records(models, raws, self.parser, self.domain)


def iter_scored_chunks(
    models: Sequence[Run],
    library: str | Path,
    smiles_col: str | None = None,
    id_col: str | None = None,
    chunk_size: int = 5000,
    workers: int = 1,
    standardize: bool = False,
    raw_chunks: Iterator[list[RawRecord]] | None = None,
    encoding: str = DEFAULT_ENCODING,
    domain: DomainOptions | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield scored chunks of ``library`` in input order, memory bounded by the chunk size.

    Args:
        models: loaded runs (see :func:`load_run`).
        library: any file :func:`~biomodels.io.read_molecules` reads.
        workers: parallel threads of this process; 1 scores in this thread, 0 = all cores.
        raw_chunks: read these chunks instead of ``library`` (used to resume mid-file).
        encoding: the library's text encoding.
        domain: the applicability-domain columns (default: on).
    """
    if raw_chunks is None:
        raw_chunks = iter_raw_chunks(library, smiles_col, id_col, chunk_size, encoding=encoding)
    scorer = RecordScorer(MoleculeParser(standardize=standardize), domain)
    yield from map_with_models(scorer, raw_chunks, models, workers)


@dataclass
class PredictSummary:
    """Counts of a :func:`predict_file` run."""

    rows: int
    scored: int
    errors: dict[str, int]
    out: Path
    in_domain: int | None = None
    """Scored rows in the model's applicability domain (None: no domain columns)."""

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
    encoding: str = DEFAULT_ENCODING,
    engine: str = "torch",
    domain: DomainOptions | None = None,
) -> PredictSummary:
    """Predict every row of ``input`` with the run's model into ``out`` (.csv or .parquet).

    Works for every model family that reads molecules or text. Rows come out in input order
    with the model's prediction columns and ``error``; molecule files stream in chunks of
    ``chunk_size`` on ``workers`` threads (``row, id, smiles``, predictions, ``_std``), and
    ``progress(n)`` is called with each chunk's row count. ``encoding`` is the input's text
    encoding (UTF-8 by default), decoded strictly. ``engine`` runs the networks (an
    :data:`~biomodels.registry.ENGINES` key: ``torch`` or ``onnxruntime``). Molecule models add
    the applicability-domain columns unless ``domain`` turns them off (:class:`DomainOptions`);
    the summary counts the rows in the domain.

    Raises:
        InputError: ``out`` is ``input``, or the model reads neither molecules nor text.
    """
    from biomodels.screen.writer import ChunkedTableWriter

    if Path(out).resolve() == Path(input).resolve():
        raise InputError(out, "is also the input file; write the predictions to another path")
    run = load_run(run_dir, engine=engine)
    if run.model.input_kind == "molecule":
        domain = domain or DomainOptions()
        if domain.enabled:
            run.model.check_domain()  # before the output is opened
        frames = iter_scored_chunks(
            [run], input, smiles_col, id_col, chunk_size, workers, encoding=encoding, domain=domain
        )
    elif run.model.input_kind == "text":
        from biomodels.io.text import read_text_table

        frames = iter([run.predict(read_text_table(input, encoding=encoding))])
    else:
        raise InputError(
            run_dir,
            f"a {run.model.name} model reads {run.model.input_kind}s; use `biomodels diagnostics predict`",
        )
    errors: dict[str, int] = {}
    scored = 0
    in_domain: int | None = None
    with ChunkedTableWriter(out) as writer:
        for frame in frames:
            writer.write(frame)
            bad = frame["error"].dropna()
            scored += len(frame) - len(bad)
            if IN_DOMAIN in frame:
                in_domain = (in_domain or 0) + int(frame[IN_DOMAIN].fillna(False).sum())
            for reason in bad:
                key = error_key(reason)
                errors[key] = errors.get(key, 0) + 1
            if progress is not None:
                progress(len(frame))
    return PredictSummary(writer.rows, scored, errors, Path(out), in_domain)
