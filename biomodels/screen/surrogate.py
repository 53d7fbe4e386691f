"""The cascade's surrogate: a cheap model distilled from a trained model's screening scores.

:class:`SurrogateRidge` is a model family under the one contract
(:class:`~biomodels.train.estimator.Estimator`, :data:`~biomodels.registry.MODELS` key
``surrogate-ridge``): ridge regression on hashed count features of a molecule
(:mod:`biomodels.screen.counts`: SMILES character n-grams or Morgan counts), fitted to the scores
the full model gave a sample of the library, with the L2 strength chosen by exact leave-one-out
error. It saves as ``model.json`` plus ``arrays.safetensors`` (the coefficients), like every
model; :meth:`SurrogateRidge.scorer` is its torch-free scoring part that worker processes run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from biomodels.exceptions import InputError
from biomodels.screen.counts import FEATURES, SCORE, LinearScorer, featurize
from biomodels.train.estimator import Estimator
from biomodels.types import MoleculeRecord

ALPHAS = tuple(10.0**k for k in range(-2, 5))
"""The L2 strengths tried; the one with the smallest leave-one-out error is kept."""


class SurrogateRidge(Estimator):
    """Ridge regression on hashed molecule counts, fitted to a full model's screening scores.

    ``fit`` takes parsed records of valid molecules and their scores; ``predict_records`` scores
    a chunk of parsed records (NaN for the invalid ones) and is what a cascade runs on every row.

    Args:
        features: ``ngrams`` or ``morgan`` (see the module docstring).
        bits: width of the hashed count vector.

    Learned attributes: ``alpha_`` (the chosen L2 strength), ``coef_`` (``bits``), ``intercept_``,
    ``loo_rmse_`` (leave-one-out RMSE at ``alpha_``).
    """

    input_kind: ClassVar[str] = "surrogate"

    def __init__(self, features: str = "ngrams", bits: int = 2048):
        self.features = features
        self.bits = bits

    def check_params(self) -> None:
        if self.features not in FEATURES:
            raise InputError(
                None, f"surrogate features must be one of {', '.join(FEATURES)}, got {self.features!r}"
            )
        if isinstance(self.bits, bool) or not isinstance(self.bits, int) or self.bits < 16:
            raise InputError(None, f"surrogate bits must be an integer >= 16, got {self.bits!r}")

    def scorer(self) -> LinearScorer:
        """The fitted model's torch-free scoring part (what a cascade's workers run)."""
        self._check_fitted()
        return LinearScorer(self.features, self.bits, self.coef_, self.intercept_)

    def fit(
        self, data: tuple[Sequence[MoleculeRecord], np.ndarray], val: Any | None = None
    ) -> SurrogateRidge:
        """Fit to ``data = (records, scores)``: valid parsed molecules and their ``n`` scores.

        The ridge is solved through the eigendecomposition of the centred ``X^T X``, which gives
        the exact leave-one-out residuals of every L2 strength in :data:`ALPHAS` at once.
        """
        self.check_params()
        records, y = data
        y = np.asarray(y, np.float64)
        if len(records) != len(y) or len(y) < 3 or not np.isfinite(y).all():
            raise InputError(None, f"the surrogate needs >= 3 finite scores, one per molecule; got {len(y)}")
        x = featurize(records, self.features, self.bits).astype(np.float64)
        mean, y_mean = x.mean(axis=0), y.mean()
        x -= mean
        eigenvalues, vectors = np.linalg.eigh(x.T @ x)
        eigenvalues = np.clip(eigenvalues, 0.0, None)
        z = x @ vectors
        del x  # the peak memory of a cascade's fit: keep one n x bits array at a time
        zy = z.T @ (y - y_mean)
        z_squared = np.square(z, dtype=np.float32)  # for the leverages: float32 is plenty
        best = None
        for alpha in ALPHAS:
            inverse = 1.0 / (eigenvalues + alpha)
            fitted = z @ (inverse * zy)
            leverage = z_squared @ inverse.astype(np.float32) + 1.0 / len(y)  # + the intercept's share
            loo = (y - y_mean - fitted) / (1.0 - leverage)
            rmse = float(np.sqrt(np.mean(loo**2)))
            if best is None or rmse < best[0]:
                best = rmse, alpha, vectors @ (inverse * zy)
        self.loo_rmse_, self.alpha_, coef = best
        self.coef_ = coef.astype(np.float32)
        self.intercept_ = float(y_mean - mean @ coef)
        self.fitted_ = True
        return self

    def predict_records(self, records: Sequence[MoleculeRecord]) -> np.ndarray:
        """Scores of a chunk of parsed records (``n``, float64); NaN where a record is invalid."""
        return self.scorer().score_records(records)

    def predict(self, data: Any) -> pd.DataFrame:
        """``row, smiles, surrogate_score, error`` for SMILES (a list) or parsed records."""
        from biomodels.io.molecules import MoleculeParser, RawRecord

        records = data
        if len(data) and isinstance(data[0], str):
            records = MoleculeParser().parse_chunk([RawRecord(i, None, s) for i, s in enumerate(data)])
        return pd.DataFrame(
            {
                "row": [r.row for r in records],
                "smiles": [r.smiles for r in records],
                SCORE: self.predict_records(records),
                "error": pd.Series([r.error for r in records], dtype=object),
            }
        )

    def evaluate(self, data: tuple[Sequence[MoleculeRecord], np.ndarray]) -> dict[str, Any]:
        """Spearman correlation and RMSE of the predictions against the scores of ``data``."""
        from biomodels.train.metrics import spearman

        records, y = data
        predicted = self.predict_records(records)
        return {
            "spearman": spearman(predicted, y),
            "rmse": float(np.sqrt(np.mean((predicted - np.asarray(y)) ** 2))),
        }

    def _get_state(self) -> dict[str, Any]:
        return {"alpha": self.alpha_, "intercept": self.intercept_, "loo_rmse": self.loo_rmse_}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.alpha_, self.intercept_, self.loo_rmse_ = state["alpha"], state["intercept"], state["loo_rmse"]
        self.coef_ = arrays["coef"]
        if self.coef_.shape != (self.bits,):
            raise ValueError(f"coefficients of shape {self.coef_.shape}, expected ({self.bits},)")
