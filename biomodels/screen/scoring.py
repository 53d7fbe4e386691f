"""Streaming scoring: read a library in chunks, parse, predict with trained runs, keep every row.

This is the engine under both ``biomodels predict`` and ``biomodels screen``. A chunk goes
in as raw text records and comes out as a DataFrame with one row per input record: ``row``,
``id``, ``smiles``, one prediction and one ``_std`` column per model target, and ``error``
naming why a row could not be scored. Worker processes each load the models once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from biomodels.exceptions import CheckpointError
from biomodels.featurize.batch import _ordered_map
from biomodels.io.molecules import MoleculeParser, RawRecord, iter_raw_chunks
from biomodels.train.predictor import Predictor, load_predictor

logger = logging.getLogger(__name__)


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


def score_records(models: Sequence[ScoringModel], raws: list[RawRecord], parser: MoleculeParser
                  ) -> pd.DataFrame:
    """Parse and score one chunk; every record comes out, invalid ones with their ``error``."""
    records = parser.parse_chunk(raws)
    good = np.array([i for i, r in enumerate(records) if r.ok], dtype=np.int64)
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
        try:
            prediction = model.predictor.predict_mols(mols, smiles)
        except Exception as exc:  # a model failing on a chunk marks those rows, never the run
            logger.warning("model %s failed on a chunk: %s", model.name, exc)
            for i in good:
                errors[i] = errors[i] or f"model {model.name} failed: {' '.join(str(exc).split())}"
            prediction = None
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


def _scatter(n: int, rows: np.ndarray, values: np.ndarray | None) -> np.ndarray:
    """Values of the scored rows placed at their positions among ``n``; NaN elsewhere."""
    if values is None:
        return np.full(n, np.nan, np.float32)
    out = np.full((n, *values.shape[1:]), np.nan, np.float32)
    out[rows] = values
    return out


_worker_models: list[ScoringModel] = []


def _init_worker(run_dirs: list[str], names: list[str], threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _worker_models[:] = [load_run(d, n) for d, n in zip(run_dirs, names, strict=True)]


class _WorkerJob:
    def __init__(self, parser: MoleculeParser):
        self.parser = parser

    def __call__(self, raws: list[RawRecord]) -> pd.DataFrame:
        return score_records(_worker_models, raws, self.parser)


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
        workers: processes (each loads the models once); 1 scores in this process, 0 = all cores.
        raw_chunks: read these chunks instead of ``library`` (used to resume mid-file).
    """
    parser = MoleculeParser(standardize=standardize)
    chunks = raw_chunks if raw_chunks is not None else iter_raw_chunks(library, smiles_col, id_col,
                                                                       chunk_size)
    if workers == 0:
        workers = os.cpu_count() or 1
    if workers <= 1:
        for raws in chunks:
            yield score_records(models, raws, parser)
        return
    init = ([str(m.run_dir) for m in models], [m.name for m in models], 1)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=init) as pool:
        yield from _ordered_map(_WorkerJob(parser), chunks, pool, 2 * workers)


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
                key = reason.split(":")[0][:60]
                errors[key] = errors.get(key, 0) + 1
            if progress is not None:
                progress(len(frame))
    return PredictSummary(writer.rows, scored, errors, Path(out))
