"""What a screening run found: counts, filter pass rates, the ranked best, distributions.

:class:`OutputStats` is fed the output's chunks one by one (as the output is assembled) and keeps
only counters, the :class:`~biomodels.screen.ranking.Ranker`'s bounded pool and a uniform sample
of the numeric columns (for the report's histograms), so its memory does not grow with the
library. :class:`ScreenSummary` is what :func:`~biomodels.screen.screen` returns: data only;
:func:`biomodels.report.screen.write_screen_report` draws the HTML report from it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomodels.chem.filters import filter_summary
from biomodels.screen.ranking import Ranker, domain_columns
from biomodels.screen.scoring import error_key

SAMPLE_SIZE = 100_000
"""Rows kept for the report's histograms (all of them for smaller libraries)."""


@dataclass
class OutputStats:
    """Counters and samples over a screening output, updated chunk by chunk.

    Attributes:
        ranker: ranks the rows it is offered.
        sample_columns: numeric columns to sample for histograms.
        seed: seed of the uniform row sample (the same output gives the same sample).
    """

    ranker: Ranker
    sample_columns: list[str]
    seed: int = 0
    rows: int = 0
    scored: int = 0
    not_scored_by_filters: int = 0
    errors: Counter = field(default_factory=Counter)
    filter_counts: Counter = field(default_factory=Counter)
    in_domain: int | None = None
    sample: pd.DataFrame | None = None
    scored_by: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._keys = np.zeros(0)

    def update(self, frame: pd.DataFrame) -> None:
        """Count, rank and sample one chunk of the output."""
        self.rows += len(frame)
        errors = frame["error"].dropna()
        self.errors.update(error_key(reason) for reason in errors)
        skipped = int(frame["note"].notna().sum()) if "note" in frame else 0
        self.not_scored_by_filters += skipped
        self.scored += len(frame) - len(errors) - skipped
        if any(c.startswith("pass_") for c in frame.columns):
            counts = filter_summary(frame)
            counts.pop("molecules")
            self.filter_counts.update(counts)
        flags = domain_columns(frame.columns)
        if flags:
            inside = frame[flags].fillna(False).to_numpy(bool).all(axis=1)
            self.in_domain = (self.in_domain or 0) + int(inside.sum())
        if "scored_by" in frame:
            self.scored_by.update(frame["scored_by"].dropna())
        self.ranker.update(frame)
        self._sample(frame)

    def _sample(self, frame: pd.DataFrame) -> None:
        """Bottom-k sampling: keep the rows with the smallest random keys seen so far."""
        keys = np.concatenate([self._keys, self._rng.random(len(frame))])
        chunk = frame[self.sample_columns].reset_index(drop=True)
        pool = chunk if self.sample is None else pd.concat([self.sample, chunk], ignore_index=True)
        keep = np.sort(np.argsort(keys, kind="stable")[:SAMPLE_SIZE])
        self.sample, self._keys = pool.iloc[keep].reset_index(drop=True), keys[keep]


@dataclass
class ScreenSummary:
    """The outcome of :func:`~biomodels.screen.screen`.

    Attributes:
        out: the output table (every input row).
        rows: input rows (= output rows).
        scored: rows with predictions.
        not_scored_by_filters: valid molecules not scored because filters ran first.
        errors: rows that could not be scored, by reason.
        filter_counts: ``pass_<criterion>`` and ``passes_all`` -> rows passing.
        in_domain: scored rows inside every model's applicability domain (None: no domain
            columns, ``--no-domain``).
        top: the ranked best rows (``rank``, ``rank_score``, then the output columns).
        diverse: the diverse picks among the best, or None.
        prediction_columns: the models' prediction columns.
        seconds: screening time of this invocation (a resumed run: the rest only).
        screened_rows: rows screened by this invocation.
        resumed_rows: rows taken from chunks committed by an interrupted run.
        top_csv: where ``top`` was written, if it was.
        diverse_csv: where ``diverse`` was written, if it was.
        sample: a uniform sample (at most :data:`SAMPLE_SIZE` rows) of the output's
            predictions, uncertainties, ``nn_similarity`` and properties, for histograms; None
            without rows.
        neighbours: per ``nn_id`` column, the SMILES of the training molecules that the top and
            diverse picks name as their nearest neighbours (the report draws them side by side).
        settings: the run's settings (run directories, library, output, screening and ranking
            options, whether it resumed), JSON-serialisable.
        cascade: a cascade screen's surrogate quality (the fields of
            :class:`~biomodels.screen.cascade.CascadeQuality`), ``full_rows`` and
            ``surrogate_rows`` (what scored them), the surrogate's folder and the ``warning``
            when the estimated recall is under the target; None for an exhaustive screen.
    """

    out: Path
    rows: int
    scored: int
    not_scored_by_filters: int
    errors: dict[str, int]
    filter_counts: dict[str, int]
    top: pd.DataFrame
    diverse: pd.DataFrame | None
    prediction_columns: list[str]
    seconds: float
    screened_rows: int
    resumed_rows: int = 0
    top_csv: Path | None = None
    diverse_csv: Path | None = None
    sample: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    in_domain: int | None = None
    neighbours: dict[str, dict[str, str]] = field(default_factory=dict)
    cascade: dict[str, Any] | None = None

    @property
    def invalid(self) -> int:
        """Rows that could not be scored (parse or model errors)."""
        return sum(self.errors.values())

    @property
    def molecules_per_second(self) -> float:
        """Throughput of this invocation."""
        return self.screened_rows / self.seconds if self.seconds > 0 else float("nan")


def describe_cascade(cascade: dict[str, Any]) -> str:
    """One line on a cascade screen (``ScreenSummary.cascade``): what each model scored and the
    surrogate's measured quality."""
    return (
        f"cascade: {cascade['full_rows']} rows scored by the full model (a {cascade['sample_rows']}-row "
        f"sample, then the surrogate's top {100 * cascade['rescored_fraction']:.1f}%: keep "
        f"{100 * cascade['keep']:g}% + margin {100 * cascade['margin']:.1f}%), "
        f"{cascade['surrogate_rows']} by the surrogate only; surrogate on "
        f"{cascade['holdout_rows']} held-out sample rows: Spearman "
        f"{cascade['spearman']:.3f}, estimated recall of the top {100 * cascade['top']:g}% "
        f"{cascade['estimated_recall']:.3f} ({cascade['top_rows']} rows) -> {cascade['surrogate']}"
    )
