"""Rank screened molecules while chunks stream by, holding a bounded set of candidates.

A ranking turns each rankable row into one *objective* per rank column (higher is better):

- ``mean``: the prediction itself (negated with ``ascending``);
- ``ucb``: ``mean + kappa * std``, optimism under uncertainty (``ascending``: ``mean - kappa * std``,
  negated);
- ``prob``: the probability that the true value exceeds ``threshold`` (``ascending``: falls below
  it), taking the prediction as Gaussian ``N(mean, std)``; a zero ``std`` gives 0 or 1.

``std`` is the column's ``<column>_std`` (zero for columns without one, such as properties).
Several columns combine by a weighted sum (``weights``, default all 1) or, with ``pareto``, by
Pareto dominance: rows are ranked by how many others dominate them (0 = on the Pareto front),
ties by the weighted sum. A row is rankable when it was scored (no ``error``, no filter ``note``),
passes every filter (``passes_all``, when filters ran), lies in every model's applicability
domain (each ``in_domain`` column, when they are there; ``include_out_of_domain`` ranks rows
outside it too) and has finite objectives.

:class:`Ranker` keeps the best ``pool`` rows (``max(top, 10 * diverse)``) of everything it has seen,
so memory does not grow with the library; :func:`pick_diverse` then chooses a diverse subset of
that pool with RDKit's MaxMin picker on Morgan fingerprints.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from rdkit.SimDivFilters.rdSimDivPickers import MaxMinPicker
from scipy.special import ndtr

from biomodels.chem.domain import IN_DOMAIN
from biomodels.chem.filters import PASSES_ALL
from biomodels.exceptions import InputError
from biomodels.screen.options import ACQUISITIONS

logger = logging.getLogger(__name__)

SCORE = "rank_score"
"""Column of the weighted objective in ranked output."""
DOMINATED_BY = "dominated_by"
"""Column of the Pareto ranking: how many rankable rows dominate this one (0 = Pareto front)."""
_PARETO_CAP = 20
"""A Pareto pool larger than this many times its size is cut (logged): ranks become approximate."""


@dataclass
class RankingConfig:
    """How screened rows are ranked and how many are kept.

    Attributes:
        rank_by: columns to rank on; None: every numeric prediction column.
        ascending: lower values are better.
        acquisition: ``mean``, ``ucb`` or ``prob`` (see the module docstring).
        kappa: UCB's weight on the uncertainty.
        threshold: the value ``prob`` compares with.
        weights: one per rank column for the weighted sum (default: all 1).
        pareto: rank by Pareto dominance instead of the weighted sum.
        top: how many ranked rows to keep.
        diverse: how many diverse picks to make among the best ``10 * diverse`` (0: none).
        seed: seed of the diverse picker.
        include_out_of_domain: rank rows outside the models' applicability domain too.
    """

    rank_by: list[str] | None = None
    ascending: bool = False
    acquisition: str = "mean"
    kappa: float = 1.0
    threshold: float | None = None
    weights: list[float] | None = None
    pareto: bool = False
    top: int = 100
    diverse: int = 0
    seed: int = 0
    include_out_of_domain: bool = False

    def __post_init__(self) -> None:
        if self.acquisition not in ACQUISITIONS:
            raise InputError(
                None, f"unknown acquisition {self.acquisition!r}; choose one of {', '.join(ACQUISITIONS)}"
            )
        if self.acquisition == "prob" and self.threshold is None:
            raise InputError(None, "acquisition 'prob' needs a threshold")
        if self.top < 0 or self.diverse < 0:
            raise InputError(None, "top and diverse must not be negative")
        if self.weights is not None and self.rank_by is not None and len(self.weights) != len(self.rank_by):
            raise InputError(None, f"{len(self.weights)} weights for {len(self.rank_by)} rank columns")

    @property
    def pool(self) -> int:
        """Rows the ranker keeps: enough for the top list and the diverse picker's candidates."""
        return max(self.top, 10 * self.diverse)

    def columns(self, available: Sequence[str], predictions: Sequence[str]) -> list[str]:
        """The rank columns among an output's ``available`` columns.

        Raises:
            InputError: a named column does not exist, or there is no numeric prediction to
                rank by default.
        """
        if self.rank_by is None:
            if not predictions:
                raise InputError(
                    None,
                    "no numeric prediction column to rank by; pass --rank-by "
                    f"with one of: {', '.join(available)}",
                )
            return list(predictions)
        missing = [c for c in self.rank_by if c not in available]
        if missing:
            raise InputError(
                None,
                f"cannot rank by {', '.join(missing)}: no such column; columns are: {', '.join(available)}",
            )
        return list(self.rank_by)


def objective(frame: pd.DataFrame, column: str, config: RankingConfig) -> np.ndarray:
    """One column's objective (higher is better) per row, as the module docstring defines it."""
    mean = frame[column].to_numpy(np.float64, na_value=np.nan)
    std_column = f"{column}_std"
    std = frame[std_column].to_numpy(np.float64, na_value=np.nan) if std_column in frame else 0.0 * mean
    sign = -1.0 if config.ascending else 1.0
    if config.acquisition == "mean":
        return sign * mean
    if config.acquisition == "ucb":
        return sign * mean + config.kappa * std
    margin = sign * (mean - config.threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, ndtr(margin / std), (margin > 0).astype(np.float64))


def rank_scores(frame: pd.DataFrame, columns: Sequence[str], config: RankingConfig) -> np.ndarray:
    """The weighted objective (``rank_score``) of every row, NaN where an objective is not finite."""
    objectives = np.column_stack([objective(frame, c, config) for c in columns])
    weights = np.asarray(config.weights or [1.0] * len(columns))
    finite = np.isfinite(objectives).all(axis=1)
    return np.where(finite, np.where(finite[:, None], objectives, 0.0) @ weights, np.nan)


def domain_columns(columns: Sequence[str], name: str = IN_DOMAIN) -> list[str]:
    """The columns ``name`` among ``columns``, one per model (``<model>:<name>`` with several)."""
    return [c for c in columns if c == name or c.endswith(f":{name}")]


def rankable(frame: pd.DataFrame, include_out_of_domain: bool = False) -> np.ndarray:
    """Rows that were scored, pass every filter and, unless ``include_out_of_domain``, lie in
    every model's applicability domain."""
    keep = frame["error"].isna().to_numpy()
    if "note" in frame:
        keep = keep & frame["note"].isna().to_numpy()
    if PASSES_ALL in frame:
        keep = keep & frame[PASSES_ALL].fillna(False).to_numpy(bool)
    if not include_out_of_domain:
        for column in domain_columns(frame.columns):
            keep = keep & frame[column].fillna(False).to_numpy(bool)
    return keep


def dominated_counts(by: np.ndarray, points: np.ndarray, block: int = 1024) -> np.ndarray:
    """For each row of ``points`` (``n x m``), how many rows of ``by`` (``k x m``) dominate it.

    ``a`` dominates ``b`` when ``a >= b`` in every objective and ``a > b`` in at least one.
    """
    counts = np.zeros(len(points), np.int64)
    for start in range(0, len(points), block):
        b = points[None, start : start + block]
        a = by[:, None]
        counts[start : start + block] = ((a >= b).all(-1) & (a > b).any(-1)).sum(0)
    return counts


@dataclass
class Ranker:
    """Keeps the best ``config.pool`` rows of a stream of screened chunks.

    Weighted ranking keeps a bounded selection ordered by (score descending, row ascending), so
    its result equals sorting the whole library. Pareto ranking keeps the rows dominated by
    fewer than ``pool`` others, exactly (a dominated row's dominators are also kept, and they
    dominate every row it dominates), cut to ``20 * pool`` rows if the front is that large.

    Attributes:
        config: the ranking settings.
        columns: the rank columns (see :meth:`RankingConfig.columns`).
    """

    config: RankingConfig
    columns: list[str]
    _best: pd.DataFrame | None = field(default=None, init=False, repr=False)

    def update(self, frame: pd.DataFrame) -> None:
        """Offer one chunk's rows."""
        if not self.config.pool:
            return
        scores = rank_scores(frame, self.columns, self.config)
        keep = rankable(frame, self.config.include_out_of_domain) & np.isfinite(scores)
        candidates = frame.loc[keep].assign(**{SCORE: scores[keep]})
        if self.config.pareto:
            objectives = np.column_stack([objective(frame, c, self.config) for c in self.columns])
            candidates = candidates.assign(
                **{f"_objective{j}": objectives[keep, j] for j in range(len(self.columns))}
            )
            self._best = self._pareto(candidates)
        else:
            self._best = self._weighted(candidates)

    def _weighted(self, candidates: pd.DataFrame) -> pd.DataFrame:
        if self._best is not None and len(self._best) == self.config.pool:
            candidates = candidates[candidates[SCORE] >= self._best[SCORE].iloc[-1]]
        if self._best is not None:
            candidates = pd.concat([self._best, candidates], ignore_index=True)
        order = np.lexsort((candidates["row"].to_numpy(), -candidates[SCORE].to_numpy()))
        return candidates.iloc[order[: self.config.pool]].reset_index(drop=True)

    def _pareto(self, candidates: pd.DataFrame) -> pd.DataFrame:
        names = [f"_objective{j}" for j in range(len(self.columns))]
        if self._best is not None:
            archive = self._best[names].to_numpy()
            beaten = dominated_counts(archive, candidates[names].to_numpy())
            candidates = candidates[beaten < self.config.pool]
            pool = pd.concat([self._best.drop(columns=DOMINATED_BY), candidates], ignore_index=True)
        else:
            pool = candidates.reset_index(drop=True)
        objectives = pool[names].to_numpy()
        pool[DOMINATED_BY] = dominated_counts(objectives, objectives)
        pool = pool[pool[DOMINATED_BY] < self.config.pool]
        order = np.lexsort((pool["row"].to_numpy(), -pool[SCORE].to_numpy(), pool[DOMINATED_BY].to_numpy()))
        cap = _PARETO_CAP * self.config.pool
        if len(order) > cap:
            logger.warning(
                "Pareto pool of %d rows cut to %d: ranks beyond the front are approximate", len(order), cap
            )
        return pool.iloc[order[:cap]].reset_index(drop=True)

    def result(self, k: int | None = None) -> pd.DataFrame:
        """The best ``k`` rows (default ``config.top``), ranked from 1, rank columns first."""
        k = self.config.top if k is None else k
        if self._best is None:
            return pd.DataFrame(columns=["rank", SCORE])
        best = self._best.head(k).drop(columns=[c for c in self._best if c.startswith("_objective")])
        best.insert(0, "rank", np.arange(1, len(best) + 1))
        leading = ["rank", SCORE, *([DOMINATED_BY] if self.config.pareto else [])]
        return best[leading + [c for c in best.columns if c not in leading]]


def pick_diverse(candidates: pd.DataFrame, k: int, seed: int = 0) -> pd.DataFrame:
    """``k`` structurally diverse rows of ranked ``candidates``, best-ranked first.

    RDKit's MaxMin picker on Morgan fingerprints (radius 2, 2048 bits) starts from the first
    (best) candidate and repeatedly adds the one least similar (Tanimoto) to those picked.
    Returns all candidates, in order, when there are at most ``k``.
    """
    if len(candidates) <= k:
        return candidates.reset_index(drop=True)
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fingerprints = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in candidates["smiles"]]
    picks = MaxMinPicker().LazyBitVectorPick(fingerprints, len(fingerprints), k, firstPicks=[0], seed=seed)
    return candidates.iloc[list(picks)].reset_index(drop=True)
