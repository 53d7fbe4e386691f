"""Uncertainty that grows away from the training data: the ensemble spread plus a distance term.

An ensemble's members agree on chemistry none of them saw (the demo's model gave cobalt complexes
a spread of 0.5 log units at a prediction ten units off), so the spread alone ranks errors
poorly off the training set. :class:`DistanceUncertainty` models each regression target's error
as Gaussian with variance

    sigma^2 = (a * spread)^2 + (b * distance)^2 + c^2,    distance = 1 - nn_similarity

and fits ``a, b, c >= 0`` per target by maximum likelihood on the validation split's residuals
(held out from training; ``nn_similarity`` is measured against the training split only). A
single model (no spread) still gets an uncertainty that grows with distance. With fewer than
:data:`MIN_ROWS` validation labels a target keeps its spread unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["MIN_ROWS", "DistanceUncertainty"]

MIN_ROWS = 20
"""Validation labels a target needs for its fit."""


@dataclass
class DistanceUncertainty:
    """Per-target coefficients of ``sigma^2 = (a spread)^2 + (b distance)^2 + c^2``.

    Attributes:
        spread, distance, floor: ``a``, ``b`` and ``c``, one per target.
    """

    spread: list[float]
    distance: list[float]
    floor: list[float]

    @classmethod
    def fit(
        cls, residuals: np.ndarray, spread: np.ndarray, distance: np.ndarray
    ) -> DistanceUncertainty | None:
        """Fit on held-out rows; None when no target has :data:`MIN_ROWS` labels among them.

        Args:
            residuals: ``n x T`` truth minus prediction (NaN where a label is missing).
            spread: ``n x T`` ensemble standard deviations.
            distance: ``n`` values of ``1 - nn_similarity``.
        """
        coefficients = []
        for t in range(residuals.shape[1]):
            observed = ~np.isnan(residuals[:, t])
            if observed.sum() < MIN_ROWS:
                logger.info(
                    "target %d: %d validation labels, too few to fit the uncertainty", t, observed.sum()
                )
                coefficients.append((1.0, 0.0, 0.0))
                continue
            coefficients.append(_fit_one(residuals[observed, t], spread[observed, t], distance[observed]))
        if all(c == (1.0, 0.0, 0.0) for c in coefficients):
            return None
        a, b, c = (list(map(float, column)) for column in zip(*coefficients, strict=True))
        return cls(a, b, c)

    def apply(self, spread: np.ndarray, distance: np.ndarray) -> np.ndarray:
        """The uncertainty (``n x T`` standard deviations) of predictions with ``spread`` (``n x T``)
        at ``distance`` (``n``) from the training set."""
        a, b, c = (np.asarray(v, np.float64) for v in (self.spread, self.distance, self.floor))
        variance = (a * spread) ** 2 + (b * np.asarray(distance, np.float64)[:, None]) ** 2 + c**2
        return np.sqrt(variance).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        return {"spread": self.spread, "distance": self.distance, "floor": self.floor}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]] | None) -> DistanceUncertainty | None:
        return (
            None if data is None else cls(list(data["spread"]), list(data["distance"]), list(data["floor"]))
        )


def _fit_one(
    residual: np.ndarray, spread: np.ndarray, distance: np.ndarray, iterations: int = 100
) -> tuple[float, float, float]:
    """Maximum-likelihood ``(a, b, c)`` of one target by Fisher scoring.

    The variance ``v = theta . g`` is linear in ``theta = (a^2, b^2, c^2)`` with ``g = (spread^2,
    distance^2, 1)``, so the Gaussian negative log-likelihood ``mean(log v + r^2 / v)`` has the
    gradient ``mean(g (v - r^2) / v^2)`` and the Fisher information ``mean(g g^T / v^2)`` in closed
    form. Each step solves for the coordinates not held at 0 by the constraint ``theta >= 0``, then
    halves until the likelihood does not fall. numpy only: ``scipy.optimize`` costs 0.2 s of
    import in every ``train``.
    """
    r2 = residual.astype(np.float64) ** 2
    g = np.stack([spread.astype(np.float64) ** 2, distance.astype(np.float64) ** 2, np.ones_like(r2)])
    scale2 = float(r2.mean()) or 1.0

    def nll(theta: np.ndarray) -> float:
        variance = theta @ g + 1e-12
        return float(np.mean(np.log(variance) + r2 / variance))

    theta = np.array([1.0, scale2, scale2 / 4])
    current = nll(theta)
    for _ in range(iterations):
        variance = theta @ g + 1e-12
        gradient = (g * (variance - r2) / variance**2).mean(axis=1)
        free = (theta > 0) | (gradient < 0)  # a coordinate at 0 that would go negative stays there
        fisher = (g[:, None] * g[None] / variance**2).mean(axis=-1)[np.ix_(free, free)]
        step = np.zeros_like(theta)
        step[free] = np.linalg.lstsq(fisher, gradient[free], rcond=None)[0]
        size = 1.0
        while size > 1e-8:
            trial = np.maximum(theta - size * step, 0.0)
            value = nll(trial)
            if value <= current:
                break
            size /= 2
        else:
            break
        converged = np.abs(trial - theta).max() <= 1e-9 * max(theta.max(), 1e-12)
        theta, current = trial, value
        if converged:
            break
    a, b, c = np.sqrt(theta)
    return float(a), float(b), float(c)
