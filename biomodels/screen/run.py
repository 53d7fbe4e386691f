"""One screening run end to end: screen, commit, assemble, rank, pick.

Given ``OUT`` (``.parquet`` or ``.csv``), a run writes:

- ``OUT``: every input row exactly once, in input order (columns: :mod:`biomodels.screen.engine`);
- ``OUT.parts/`` while it runs: the committed chunks that make it resumable
  (:mod:`biomodels.screen.resume`), removed once ``OUT`` is complete;
- ``<OUT without suffix>.top.csv``: the ranked best rows (``rank``, ``rank_score``, then the
  output's columns), when ``top > 0``;
- ``<OUT without suffix>.diverse.csv``: the diverse picks among the best, when ``diverse > 0``;
- ``<OUT without suffix>.surrogate/``: a cascade's surrogate (``model.json`` + safetensors).

The returned :class:`~biomodels.screen.summary.ScreenSummary` carries the counts, picks, a
histogram sample and the settings; the HTML report (``<OUT without suffix>.report.html``) is drawn
from it afterwards by :func:`biomodels.report.screen.write_screen_report`, as the ``screen`` verb
does: screening computes and writes data, :mod:`biomodels.report` draws.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomodels.chem.domain import NN_ID, NN_SIMILARITY
from biomodels.exceptions import InputError
from biomodels.io.molecules import iter_raw_chunks
from biomodels.screen.cascade import CascadeConfig, CascadeQuality, cascade_columns, run_cascade
from biomodels.screen.engine import ScreenConfig, ScreenJob, iter_chunks, load_models
from biomodels.screen.ranking import Ranker, RankingConfig, domain_columns, pick_diverse
from biomodels.screen.resume import PartStore, run_manifest
from biomodels.screen.scoring import prediction_columns
from biomodels.screen.summary import OutputStats, ScreenSummary
from biomodels.screen.writer import TABLE_SUFFIXES, ChunkedTableWriter
from biomodels.train.run import Run
from biomodels.utils import atomic_path

logger = logging.getLogger(__name__)


def side_outputs(out: str | Path) -> dict[str, Path]:
    """Paths of the top list and diverse picks that go with output ``out``."""
    out = Path(out)
    return {
        "top_csv": out.with_suffix(".top.csv"),
        "diverse_csv": out.with_suffix(".diverse.csv"),
        "surrogate": out.with_suffix(".surrogate"),
    }


def screen(
    run_dirs: Sequence[str | Path],
    library: str | Path,
    out: str | Path,
    config: ScreenConfig | None = None,
    ranking: RankingConfig | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    cascade: CascadeConfig | None = None,
) -> ScreenSummary:
    """Screen ``library`` with the models of ``run_dirs`` into ``out`` and rank.

    Memory stays bounded whatever the library's size: chunks are screened on all cores (or a
    Dask cluster), committed to disk as they finish, and assembled and ranked in one streaming
    pass. Killed at any moment, the same call with ``resume=True`` continues from the chunks
    already committed; the output then equals an uninterrupted run's.

    Args:
        run_dirs: training run directories (``biomodels train``); one prediction and
            uncertainty column per target of each.
        library: any file :func:`~biomodels.io.read_molecules` reads.
        out: output ``.parquet`` or ``.csv`` (side outputs: see the module docstring).
        config: what to compute and where (defaults: :class:`ScreenConfig`).
        ranking: how to rank and how many to keep (defaults: :class:`RankingConfig`).
        resume: continue an interrupted run of the same output.
        progress: called with each screened chunk's row count (a cascade: each chunk the
            surrogate scored).
        cascade: screen as a cascade (:mod:`biomodels.screen.cascade`): the full model scores a
            sample, a surrogate fitted to it scores every row, the full model rescores the
            surrogate's best; the surrogate is saved as ``<OUT without suffix>.surrogate/`` and its
            measured quality is ``summary.cascade``.

    Raises:
        CheckpointError: a run directory is missing or corrupt.
        InputError: bad library, options or output name (``out`` or a side output is the
            library); leftover parts without ``resume``;
            parts of a run with another library, models or options with ``resume``.
    """
    config, ranking, out = config or ScreenConfig(), ranking or RankingConfig(), Path(out)
    if out.suffix not in TABLE_SUFFIXES:
        raise InputError(out, f"output must end in {' or '.join(TABLE_SUFFIXES)}")
    for written in (out, *side_outputs(out).values()):
        if written.resolve() == Path(library).resolve():
            raise InputError(written, "is also the library file; write the screen to another path")
    models = load_models(run_dirs, config.engine)
    # fail now on a bad library
    next(iter_raw_chunks(library, config.smiles_col, config.id_col, 1, encoding=config.encoding))
    columns = ScreenJob.from_config(config).screen(models, []).dtypes  # the output's columns
    predictions = _numeric_predictions(models, columns)
    ranker = Ranker(ranking, ranking.columns(list(columns.index), predictions))
    options = {**config.output_options(), "chunking": "ranges" if config.scheduler else "records"}
    if cascade is not None:
        columns = cascade_columns(columns)
        options["cascade"] = asdict(cascade)
    store = PartStore.open(out, run_manifest(library, [m.path for m in models], options), resume)

    started, screened, quality = time.perf_counter(), 0, None
    if cascade is None:
        for index, frame in iter_chunks(models, library, config, store.committed()):
            store.commit(index, frame)
            screened += len(frame)
            if progress is not None:
                progress(len(frame))
    else:
        quality, surrogate, screened = run_cascade(
            models, library, config, ranking, ranker.columns, cascade, store, columns, progress
        )
    seconds = time.perf_counter() - started

    uncertainties = [f"{c}_std" for c in predictions if f"{c}_std" in columns]
    similarities = domain_columns(columns.index, NN_SIMILARITY)
    sampled = [*predictions, *uncertainties, *similarities, *config.properties]
    stats = OutputStats(ranker, sampled, ranking.seed)
    with ChunkedTableWriter(out) as writer:
        for frame in store.iter_parts():
            writer.write(frame)
            stats.update(frame)
    if quality is not None:
        surrogate.save(side_outputs(out)["surrogate"])
    store.remove()
    settings = {
        "run_dirs": [str(d) for d in run_dirs],
        "library": str(library),
        "out": str(out),
        "screen": asdict(config),
        "ranking": asdict(ranking),
        "resumed": resume,
        **({"cascade": asdict(cascade)} if cascade else {}),
    }
    summary = ScreenSummary(
        out,
        stats.rows,
        stats.scored,
        stats.not_scored_by_filters,
        dict(stats.errors),
        dict(stats.filter_counts),
        ranker.result(),
        None,
        predictions,
        seconds,
        screened,
        stats.rows - screened,
        sample=stats.sample,
        settings=settings,
        in_domain=stats.in_domain,
        cascade=_cascade_summary(quality, stats, side_outputs(out)["surrogate"]) if quality else None,
    )
    _write_side_outputs(summary, ranker, ranking)
    summary.neighbours = _neighbours(models, [summary.top, summary.diverse])
    logger.info(
        "screened %d rows (%d scored, %d not scorable) in %.1f s (%.0f mol/s) -> %s",
        summary.rows,
        summary.scored,
        summary.invalid,
        seconds,
        summary.molecules_per_second,
        out,
    )
    return summary


def _cascade_summary(quality: CascadeQuality, stats: OutputStats, surrogate: Path) -> dict[str, Any]:
    """What ``summary.cascade`` holds: the surrogate's quality, the rows each model scored, and
    the warning when the estimated recall is under the target."""
    return {
        **asdict(quality),
        "full_rows": stats.scored_by.get("full", 0),
        "surrogate_rows": stats.scored_by.get("surrogate", 0),
        "surrogate": str(surrogate),
        "warning": quality.warning,
    }


def _neighbours(models: Sequence[Run], picks: Sequence[pd.DataFrame | None]) -> dict[str, dict[str, str]]:
    """Per ``nn_id`` column, the SMILES of the training molecules the ``picks`` name."""
    found = {}
    for model in models:
        column = f"{model.name}:{NN_ID}" if len(models) > 1 else NN_ID
        names = sorted({n for p in picks if p is not None and column in p for n in p[column].dropna()})
        domain = getattr(model.model, "domain_", None)
        if names and domain is not None:
            found[column] = dict(zip(names, domain.smiles_of(names), strict=True))
    return found


def _numeric_predictions(models: Sequence[Run], dtypes: pd.Series) -> list[str]:
    """Prediction columns holding numbers (regression values, binary probabilities)."""
    return [c for _, _, c in prediction_columns(models) if np.issubdtype(dtypes[c], np.floating)]


def _write_side_outputs(summary: ScreenSummary, ranker: Ranker, ranking: RankingConfig) -> None:
    paths = side_outputs(summary.out)
    if ranking.diverse:
        summary.diverse = pick_diverse(ranker.result(ranking.pool), ranking.diverse, ranking.seed)
        summary.diverse_csv = _write_csv(summary.diverse, paths["diverse_csv"])
    if ranking.top:
        summary.top_csv = _write_csv(summary.top, paths["top_csv"])


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return path
