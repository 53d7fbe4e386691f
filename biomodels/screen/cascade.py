"""Cascade screening: the full model scores a sample, a surrogate learns it and scores every row,
and the full model rescores the rows the surrogate ranks best.

The phases, each resumable (their state lives in ``OUT.parts/`` beside the output's chunks,
see :mod:`biomodels.screen.resume`):

1. ``sample.parts/``: the full model (:class:`~biomodels.screen.engine.ScreenJob`) on a seeded
   random sample of the rows (a row is in when a hash of the seed and its row number falls under
   ``sample``, so the sample does not depend on the chunking or the scheduler);
2. ``surrogate/`` and ``quality.json``: a :class:`~biomodels.screen.surrogate.SurrogateRidge`
   fitted to the ranking score (``rank_score``, see :mod:`biomodels.screen.ranking`) of the
   sample's rows outside a held-out part, then measured on that part (:class:`CascadeQuality`);
3. ``scores.parts/``: the surrogate on every row (:class:`~biomodels.screen.counts.SurrogateJob`,
   streaming; each row is parsed, so rows RDKit cannot parse keep the exhaustive screen's error);
4. ``part-*.parquet``: the rows whose surrogate score is in the library's top ``rescored_fraction``
   (``keep`` plus the margin of :func:`measure`) are rescored by the full model, and each chunk
   of phase 3 becomes a chunk of the output with the sample's rows and the rescored rows merged.

Every input row appears once: the columns of an exhaustive screen (null where the full model did
not score the row), ``surrogate_score`` and ``scored_by`` (``full``, ``surrogate``; null for a row
that could not be scored) before ``error``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy.special import ndtr

from biomodels.exceptions import InputError
from biomodels.io.molecules import RawRecord, iter_raw_chunks
from biomodels.screen.counts import FEATURES, SCORE, SurrogateJob, scores_frame
from biomodels.screen.engine import ScreenConfig, ScreenJob
from biomodels.screen.ranking import RankingConfig, rank_scores
from biomodels.screen.resume import PartStore
from biomodels.screen.scoring import map_with_models
from biomodels.screen.surrogate import SurrogateRidge
from biomodels.train.estimator import Estimator
from biomodels.train.metrics import spearman
from biomodels.train.run import Run
from biomodels.utils import ordered_map, read_json, write_json

logger = logging.getLogger(__name__)

SCORED_BY = "scored_by"
"""Output column: ``full`` (the full model's prediction is there) or ``surrogate``."""
QUALITY = "quality.json"
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


@dataclass
class CascadeConfig:
    """How a cascade screen samples, distils and rescores (see the module docstring).

    Attributes:
        sample: the share of rows the full model scores first (0 < sample <= 1).
        keep: the share of rows, ranked by the surrogate, the full model rescores (a margin
            chosen from the surrogate's measured error is added).
        holdout: the share of the sample kept from the surrogate's fit to measure it.
        max_fit_rows: the most sample rows the surrogate is fitted on (a seeded subset beyond):
            the fit holds them as dense ``rows x bits`` arrays, which must not grow with the library.
        top: the share of best rows whose recall is estimated (the top 1%).
        recall: the recall of that top the margin aims at; a lower estimate is warned about.
        features, bits: the surrogate's features (see :mod:`biomodels.screen.counts`).
        seed: seeds the sample and the held-out part.
    """

    sample: float = 0.02
    keep: float = 0.05
    holdout: float = 0.25
    max_fit_rows: int = 8000
    top: float = 0.01
    recall: float = 0.95
    features: str = "ngrams"
    bits: int = 2048
    seed: int = 0

    def __post_init__(self) -> None:
        for name, high in (("sample", 1.0), ("keep", 1.0), ("top", self.keep)):
            value = getattr(self, name)
            if not 0 < value <= high:
                raise InputError(None, f"--{name} must be in (0, {high:g}], got {value:g}")
        rows = self.max_fit_rows
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 10:
            raise InputError(None, f"cascade max_fit_rows must be an integer >= 10, got {rows!r}")
        for name in ("holdout", "recall"):
            if not 0 < getattr(self, name) < 1:
                raise InputError(None, f"cascade {name} must be in (0, 1), got {getattr(self, name):g}")
        SurrogateRidge(self.features, self.bits).check_params()


@dataclass
class CascadeQuality:
    """The surrogate measured on the sample's held-out part, and the rescoring it decided.

    Attributes:
        sample_rows, fit_rows, holdout_rows: scored sample rows; those it was fitted on; held out.
        spearman, rmse: of the surrogate's scores against the full model's on the held-out part.
        keep: the share asked for. margin: added from the measured error. rescored_fraction:
            ``keep + margin``, the share of the library the full model rescores.
        top_rows: held-out rows in the sample's top ``top`` (by the full model's score).
        estimated_recall: the share of those the surrogate ranks in the rescored share.
        modelled_recall: the same from the error model the margin was chosen with (Gaussian
            residuals around a linear calibration), over every sample row in the top.
    """

    sample_rows: int
    fit_rows: int
    holdout_rows: int
    spearman: float
    rmse: float
    keep: float
    margin: float
    rescored_fraction: float
    top: float
    top_rows: int
    estimated_recall: float
    modelled_recall: float
    recall_target: float

    @property
    def warning(self) -> str | None:
        """A one-line warning when the estimated recall falls under the target, else None."""
        if self.estimated_recall >= self.recall_target:
            return None
        return (
            f"the surrogate's estimated recall of the top {100 * self.top:g}% is "
            f"{self.estimated_recall:.3f} (< {self.recall_target:g}, from {self.top_rows} held-out "
            "rows): rescore more (--keep) or sample more (--sample)"
        )


def in_sample(rows: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Whether each row number is in the seeded sample: a splitmix64 hash of (seed, row) < fraction."""
    x = rows.astype(np.uint64) + np.uint64(seed) * _MIX[0]
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _MIX[1]
        x = (x ^ (x >> np.uint64(27))) * _MIX[2]
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / 2.0**53 < fraction


def cascade_columns(columns: pd.Series) -> pd.Series:
    """The output's dtypes: an exhaustive screen's (nullable), ``surrogate_score`` and
    ``scored_by`` before ``error``."""
    nullable = columns.map(_nullable)
    added = pd.Series({SCORE: np.dtype(np.float64), SCORED_BY: np.dtype(object)})
    return pd.concat([nullable.drop("error"), added, nullable[["error"]]])


def _nullable(dtype: Any) -> Any:
    if pd.api.types.is_bool_dtype(dtype):
        return pd.BooleanDtype()
    if pd.api.types.is_integer_dtype(dtype):
        return pd.Int64Dtype()
    return dtype


def run_cascade(
    models: Sequence[Run],
    library: str | Path,
    config: ScreenConfig,
    ranking: RankingConfig,
    rank_columns: list[str],
    cascade: CascadeConfig,
    store: PartStore,
    columns: pd.Series,
    progress: Callable[[int], None] | None = None,
) -> tuple[CascadeQuality, SurrogateRidge, int]:
    """Run the four phases into ``store`` (see the module docstring); resumes from its content.

    Args:
        models, library, config: as :func:`biomodels.screen.screen` gets them.
        ranking, rank_columns: what the surrogate learns: the ranking's ``rank_score``.
        store: the output's parts (``OUT.parts/``); its chunks are the output's once this returns.
        columns: the output's dtypes (:func:`cascade_columns`).
        progress: called with the row count of each chunk the surrogate scored.

    Returns:
        The surrogate's quality, the surrogate, and the rows whose output chunk this call wrote.
    """
    with _executor(config) as (executor, window):
        sample_store = _sub_store(store, "sample")
        _phase_sample(models, library, config, cascade, sample_store, executor, window)
        sample = _read_parts(sample_store)
        _return_freed_memory()  # each phase's peak stays its own, not the sum of the phases'
        quality, surrogate = _phase_surrogate(
            models, library, config, ranking, rank_columns, cascade, sample, store
        )
        _return_freed_memory()
        scores_store = _sub_store(store, "scores")
        _phase_scores(library, config, surrogate, scores_store, executor, window, progress)
        written = _phase_rescore(
            models, library, config, quality, sample, scores_store, store, columns, executor, window
        )
    return quality, surrogate, written


# ----------------------------------------------------------------------------- phase 1
def _phase_sample(models, library, config, cascade, store, executor, window) -> None:
    """The full model on the sample's rows, in chunks of ``config.chunk_size`` sample rows."""
    committed = store.committed()
    chunks = _batched(_sample_raws(library, config, cascade), config.chunk_size)
    items = ((i, raws) for i, raws in enumerate(chunks) if i not in committed)
    job = ScreenJob.from_config(config)
    for index, frame in map_with_models(job, items, models, window, executor, config.pool):
        store.commit(index, frame)
    logger.info("cascade phase 1: the full model scored the sample")


def _sample_raws(library, config: ScreenConfig, cascade: CascadeConfig) -> Iterator[RawRecord]:
    for raws in _raw_chunks(library, config):
        chosen = in_sample(
            np.fromiter((r.row for r in raws), np.int64, len(raws)), cascade.sample, cascade.seed
        )
        yield from (r for r, keep in zip(raws, chosen, strict=True) if keep)


# ----------------------------------------------------------------------------- phase 2
def _phase_surrogate(models, library, config, ranking, rank_columns, cascade, sample, store):
    """Fit the surrogate on the sample outside the held-out part, measure it on that part."""
    folder = store.folder / "surrogate"
    if (store.folder / QUALITY).is_file():
        return CascadeQuality(**read_json(store.folder / QUALITY)), Estimator.load(folder)
    target = rank_scores(sample, rank_columns, ranking)
    usable = np.isfinite(target)
    if usable.sum() < 10:
        raise InputError(
            library,
            f"the sample holds {int(usable.sum())} scored rows; the cascade needs >= 10 (raise --sample)",
        )
    rows = sample["row"].to_numpy()[usable]
    y = target[usable]
    records = {r.row: r for r in _parse_rows(library, config, set(rows.tolist()))}
    records = [records[r] for r in rows]
    held = in_sample(rows, cascade.holdout, cascade.seed + 1)
    if held.all() or not held.any():
        held = np.arange(len(rows)) % 4 == 0
    fit = ~held
    if fit.sum() > cascade.max_fit_rows:  # bounded memory: a seeded subset of the fit rows
        chosen = np.random.default_rng(cascade.seed).choice(
            np.flatnonzero(fit), cascade.max_fit_rows, replace=False
        )
        fit = np.isin(np.arange(len(rows)), chosen)
    surrogate = SurrogateRidge(cascade.features, cascade.bits).fit(
        ([records[i] for i in np.flatnonzero(fit)], y[fit])
    )
    predicted = surrogate.predict_records([records[i] for i in np.flatnonzero(held)])
    quality = replace(measure(predicted, y[held], y, cascade), fit_rows=int(fit.sum()))
    surrogate.save(folder)
    write_json(store.folder / QUALITY, asdict(quality))
    logger.info(
        "cascade phase 2: surrogate Spearman %.3f on %d held-out rows; rescoring %.1f%% "
        "(keep %.1f%% + margin %.1f%%), estimated recall of the top %g%% %.3f",
        quality.spearman,
        quality.holdout_rows,
        100 * quality.rescored_fraction,
        100 * quality.keep,
        100 * quality.margin,
        100 * quality.top,
        quality.estimated_recall,
    )
    if quality.warning:
        logger.warning("%s", quality.warning)
    return quality, surrogate


def measure(
    predicted: np.ndarray, truth: np.ndarray, sample: np.ndarray, cascade: CascadeConfig
) -> CascadeQuality:
    """Measure the surrogate on the held-out part and choose the margin from its error.

    The error model: on the held-out part, the surrogate's score is a linear function of the
    full model's (``predicted ~ a + b * truth``) plus Gaussian residuals of their measured
    spread ``s``. A row of the top (every sample row whose full score is in the sample's best
    ``top``) with full score ``y`` is rescored with probability ``Phi((a + b y - cut) / s)``; the
    cut is the lowest surrogate score of the rescored share, here the held-out part's
    ``1 - fraction`` quantile. The rescored share is the smallest of ``keep`` and upwards (steps
    of 0.5%) whose modelled recall reaches ``recall``; the estimate reported is the held-out
    top's share above the cut, measured, not modelled.

    Args:
        predicted, truth: the surrogate's and the full model's scores of the held-out rows.
        sample: the full model's scores of every usable sample row (the top's threshold).
    """
    threshold = np.quantile(sample, 1 - cascade.top)
    slope, intercept = np.polyfit(truth, predicted, 1)
    spread = float(np.std(predicted - (intercept + slope * truth))) or 1e-12
    tops = sample[sample >= threshold]
    fractions = np.unique(np.r_[np.arange(cascade.keep, 1.0, 0.005), 1.0])
    for fraction in fractions:
        cut = np.quantile(predicted, 1 - fraction)
        modelled = float(ndtr((intercept + slope * tops - cut) / spread).mean())
        if modelled >= cascade.recall:
            break
    held_top = truth >= threshold
    return CascadeQuality(
        sample_rows=len(sample),
        fit_rows=len(sample) - len(truth),
        holdout_rows=len(truth),
        spearman=spearman(predicted, truth),
        rmse=float(np.sqrt(np.mean((predicted - truth) ** 2))),
        keep=cascade.keep,
        margin=float(fraction - cascade.keep),
        rescored_fraction=float(fraction),
        top=cascade.top,
        top_rows=int(held_top.sum()),
        estimated_recall=float((predicted[held_top] >= cut).mean()) if held_top.any() else float("nan"),
        modelled_recall=modelled,
        recall_target=cascade.recall,
    )


def _parse_rows(library, config: ScreenConfig, rows: set[int]):
    parser = ScreenJob.from_config(config).parser
    for raws in _raw_chunks(library, config):
        yield from parser.parse_chunk([r for r in raws if r.row in rows])


# ----------------------------------------------------------------------------- phase 3
def _phase_scores(library, config, surrogate, store, executor, window, progress) -> None:
    """The surrogate on every row, chunk by chunk (ranges on a Dask cluster)."""
    committed = store.committed()
    job = SurrogateJob(surrogate.scorer(), ScreenJob.from_config(config).parser)
    if executor is not None:
        from biomodels.screen.distributed import iter_cluster_chunks

        results = iter_cluster_chunks([], library, config, job, committed, (executor, window))
    else:
        items = ((i, raws) for i, raws in enumerate(_raw_chunks(library, config)) if i not in committed)
        results = _local_map(job, items, config.workers)
    for index, frame in results:
        store.commit(index, frame)
        if progress is not None:
            progress(len(frame))
    logger.info("cascade phase 3: the surrogate scored every row")


def _local_map(job: SurrogateJob, items, workers: int):
    """``job`` over ``items`` in input order, in this process when ``workers == 1``, else in
    worker processes: RDKit's parse holds the GIL, so threads would not run it in parallel.
    They are spawned, not forked, and import no model, no torch and no pandas
    (:mod:`~biomodels.screen.counts`), so each adds RDKit and numpy (about 70 MB), not a copy of
    this process's pages."""
    workers = workers or os.cpu_count() or 1
    score = functools.partial(job.columns, [])
    if workers == 1:
        results = map(score, items)
        yield from ((index, scores_frame(columns)) for index, columns in results)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for index, columns in ordered_map(score, items, pool, 2 * workers):
            yield index, scores_frame(columns)


# ----------------------------------------------------------------------------- phase 4
def _phase_rescore(
    models, library, config, quality, sample, scores_store, store, columns, executor, window
) -> int:
    """Rescore the surrogate's best rows with the full model; merge each chunk of the output."""
    parts = sorted(scores_store.committed())
    cut = _library_cut(scores_store, parts, quality.rescored_fraction)
    sample = sample.set_index("row", drop=False)
    done = store.committed()
    wanted = _wanted_rows(scores_store, parts, cut, set(sample.index), done)
    job = ScreenJob.from_config(config)
    written = 0
    for index, frame in map_with_models(
        job, _raws_of(library, config, wanted), models, window, executor, config.pool
    ):
        scores = pd.read_parquet(scores_store.part_path(index))
        first, last = int(scores["row"].iloc[0]), int(scores["row"].iloc[-1])
        full = pd.concat(
            [sample.loc[(sample.index >= first) & (sample.index <= last)], frame], ignore_index=True
        )
        store.commit(index, merge(scores, full, columns))
        written += len(scores)
    logger.info("cascade phase 4: rescored the surrogate's top %.1f%%", 100 * quality.rescored_fraction)
    return written


def _library_cut(scores_store: PartStore, parts: list[int], fraction: float) -> float:
    """The surrogate score above which lie the library's best ``fraction`` of scored rows
    (reads only that column: 4 bytes a row)."""
    values = np.concatenate(
        [
            pq.read_table(scores_store.part_path(i), columns=[SCORE])
            .column(0)
            .to_numpy(zero_copy_only=False)
            .astype(np.float32)
            for i in parts
        ]
        or [np.zeros(0, np.float32)]
    )
    values = values[np.isfinite(values)]
    return float(np.quantile(values, 1 - fraction)) if len(values) and fraction < 1 else -np.inf


def _wanted_rows(scores_store, parts, cut, sampled: set[int], done) -> Iterator[tuple[int, int, set[int]]]:
    """``(part index, its last row, rows to rescore)`` of each part not yet merged."""
    for index in parts:
        if index in done:
            continue
        scores = pd.read_parquet(scores_store.part_path(index), columns=["row", SCORE])
        rows = scores["row"].to_numpy()
        chosen = rows[scores[SCORE].to_numpy() >= cut]
        yield index, int(rows[-1]) if len(rows) else -1, {int(r) for r in chosen} - sampled


def _raws_of(library, config, wanted) -> Iterator[tuple[int, list[RawRecord]]]:
    """Walk the library once; ``(part index, raw records of its rows to rescore)`` in order."""
    records = (r for raws in _raw_chunks(library, config) for r in raws)
    pending = None
    for index, last, rows in wanted:
        chosen = [pending] if pending is not None and pending.row in rows else []
        pending = None
        for record in records:
            if record.row > last:
                pending = record
                break
            if record.row in rows:
                chosen.append(record)
        yield index, chosen


def merge(scores: pd.DataFrame, full: pd.DataFrame, columns: pd.Series) -> pd.DataFrame:
    """One output chunk: every row of ``scores`` (phase 3), the full model's columns from ``full``
    (its rows among them, any order) and ``scored_by``; dtypes as ``columns``."""
    full = full.set_index("row")
    by_row = full.reindex(scores["row"].to_numpy())
    is_full = scores["row"].isin(full.index).to_numpy()
    frame = pd.DataFrame({"row": scores["row"].to_numpy(), "id": scores["id"], "smiles": scores["smiles"]})
    for column, dtype in columns.items():
        if column in ("row", "id", "smiles", SCORE, SCORED_BY, "error"):
            continue
        values = pd.Series(by_row[column].to_numpy(), index=frame.index)
        # flags and counts become nullable; text and numbers stay as the full model's rows have them
        frame[column] = values.astype(dtype) if isinstance(dtype, pd.BooleanDtype | pd.Int64Dtype) else values
    error = np.where(is_full, by_row["error"].to_numpy(object), scores["error"].to_numpy(object))
    error = pd.Series(error, dtype=object).where(pd.notna(error), None)
    frame[SCORE] = scores[SCORE].to_numpy()
    frame[SCORED_BY] = pd.Series(np.where(is_full, "full", "surrogate"), dtype=object).where(
        error.isna(), None
    )
    frame["error"] = error
    return frame[list(columns.index)]


# ----------------------------------------------------------------------------- helpers
def _raw_chunks(library, config: ScreenConfig) -> Iterator[list[RawRecord]]:
    return iter_raw_chunks(
        library, config.smiles_col, config.id_col, config.chunk_size, encoding=config.encoding
    )


def _batched(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _return_freed_memory() -> None:
    """Collect garbage and hand the heap's free pages back to the system (glibc ``malloc_trim``;
    elsewhere a no-op), so that memory freed by one phase does not count in the next one's peak."""
    import ctypes
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL(None).malloc_trim(0)


def _sub_store(store: PartStore, name: str) -> PartStore:
    """The parts of one phase, in ``OUT.parts/<name>.parts/`` (checked with the output's manifest)."""
    return PartStore.open(store.folder / name, store.manifest, resume=True)


def _read_parts(store: PartStore) -> pd.DataFrame:
    frames = [pd.read_parquet(store.part_path(i)) for i in sorted(store.committed())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"row": []})


@contextlib.contextmanager
def _executor(config: ScreenConfig):
    """``(executor, window)``: one Dask client's for all phases with a scheduler, else
    ``(None, workers)``: this machine's pools."""
    if not config.scheduler:
        yield None, config.workers
        return
    from biomodels.screen.distributed import cluster_executor

    with cluster_executor(config) as cluster:
        yield cluster


__all__ = [
    "FEATURES",
    "SCORED_BY",
    "CascadeConfig",
    "CascadeQuality",
    "cascade_columns",
    "in_sample",
    "measure",
    "run_cascade",
]
