"""Classical scikit-learn baselines with the same API as the neural estimators.

- ``bow-logreg``: bag of words (``CountVectorizer``, or TF-IDF) + ``LogisticRegression`` on texts;
- ``pixel-logreg``: logistic regression (or, with ``model="random_forest"``, a random forest) on
  raw pixel intensities;
- ``ridge``: ``Ridge`` (``alpha=0``: ``LinearRegression``) on feature vectors, for regression targets.

Checkpoints use the shared format without pickle: the learned numbers are rebuilt into the
scikit-learn objects on load (logistic-regression ``coef_``/``intercept_``, vectoriser
``vocabulary_`` and ``idf_``, ridge coefficients), stored in ``config.json`` (classes, vocabulary)
and ``arrays.safetensors`` (coefficients); the weights file holds no tensors. A fitted random
forest is not saved: ``save`` raises, pointing to ``pixel-logreg`` (forests as arrays exist for
molecules in :mod:`biomodels.models.baseline`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from torch import nn

from biomodels.diagnostics.anomaly import prepare_vectors
from biomodels.diagnostics.base import ESTIMATORS, ClassifierMixin, DiagnosticEstimator, Prepared
from biomodels.diagnostics.image_classifier import ImageInputMixin, class_names_for
from biomodels.diagnostics.text_classifier import encode_labels, prepare_texts

__all__ = ["BagOfWordsClassifier", "PixelClassifier", "RidgeRegressor"]


class _SklearnEstimator(DiagnosticEstimator):
    """scikit-learn model kept in ``model_``; the checkpoint's module is empty."""

    def _build_module(self) -> nn.Module:
        return nn.Module()

    def _mark_fitted(self) -> None:
        self.module_ = nn.Module()


def _logreg_arrays(model: LogisticRegression) -> dict[str, np.ndarray]:
    return {"coef": model.coef_, "intercept": model.intercept_}


def _rebuild_logreg(arrays: dict[str, np.ndarray], n_classes: int, C: float) -> LogisticRegression:
    """A ``LogisticRegression`` predicting exactly as the saved one (``classes_`` = ``0..C-1``)."""
    model = LogisticRegression(C=C)
    model.coef_, model.intercept_ = arrays["coef"], arrays["intercept"]
    model.classes_ = np.arange(n_classes)
    model.n_features_in_ = arrays["coef"].shape[1]
    return model


@ESTIMATORS.register("bow-logreg")
class BagOfWordsClassifier(ClassifierMixin, _SklearnEstimator):
    """Word counts (or TF-IDF) + multinomial logistic regression.

    Args:
        tfidf: TF-IDF weights instead of raw counts.
        ngram_max: longest word n-gram (1: words only).
        min_df: minimum number of training texts a term must appear in.
        C: inverse L2 regularisation strength.
        max_iter: solver iterations.
    """

    name = "bow-logreg"
    input_kind = "text"

    def __init__(
        self, tfidf: bool = False, ngram_max: int = 1, min_df: int = 1, C: float = 1.0, max_iter: int = 2000
    ):
        self.tfidf = tfidf
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.C = C
        self.max_iter = max_iter

    def fit(self, texts: Sequence[str], labels: Sequence[Any]) -> BagOfWordsClassifier:
        """Fit on clean texts and their string labels (classes: the sorted distinct labels)."""
        self.classes_ = sorted({str(label) for label in labels})
        self.vectorizer_ = self._vectorizer()
        features = self.vectorizer_.fit_transform(list(texts))
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.model_.fit(features, encode_labels(labels, self.classes_))
        self._mark_fitted()
        return self

    def _vectorizer(self, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
        kind = TfidfVectorizer if self.tfidf else CountVectorizer
        return kind(ngram_range=(1, self.ngram_max), min_df=self.min_df, vocabulary=vocabulary)

    def _prepare(self, X: Any) -> Prepared:
        return prepare_texts(X)

    def _proba(self, data: list[str]) -> np.ndarray:
        return self.model_.predict_proba(self.vectorizer_.transform(data))

    def _get_state(self) -> dict[str, Any]:
        vocabulary = sorted(self.vectorizer_.vocabulary_, key=self.vectorizer_.vocabulary_.get)
        return {"classes": self.classes_, "vocabulary": vocabulary}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        arrays = _logreg_arrays(self.model_)
        if self.tfidf:
            arrays["idf"] = self.vectorizer_.idf_
        return arrays

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.classes_ = list(state["classes"])
        self.vectorizer_ = self._vectorizer({term: i for i, term in enumerate(state["vocabulary"])})
        if self.tfidf:
            self.vectorizer_.idf_ = arrays["idf"]
        self.model_ = _rebuild_logreg(arrays, len(self.classes_), self.C)


@ESTIMATORS.register("pixel-logreg")
class PixelClassifier(ImageInputMixin, ClassifierMixin, _SklearnEstimator):
    """Logistic regression or random forest on the flattened pixel intensities (``[0, 1]``).

    Args:
        model: ``"logreg"`` or ``"random_forest"`` (the latter is not saved, see the module doc).
        C: inverse L2 strength of the logistic regression.
        n_estimators: trees of the forest.
        max_iter: solver iterations of the logistic regression.
        seed: random state of the forest.
        n_jobs: forest worker processes.
    """

    name = "pixel-logreg"
    input_kind = "image"

    def __init__(
        self,
        model: str = "logreg",
        C: float = 1.0,
        n_estimators: int = 300,
        max_iter: int = 2000,
        seed: int = 0,
        n_jobs: int | None = None,
    ):
        self.model = model
        self.C = C
        self.n_estimators = n_estimators
        self.max_iter = max_iter
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(
        self, images: np.ndarray, labels: np.ndarray, classes: Sequence[str] | None = None
    ) -> PixelClassifier:
        """Fit on ``n x H x W`` images in ``[0, 1]`` and integer labels ``0 .. C-1``."""
        images = np.asarray(images, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.int64)
        if self.model == "logreg":
            self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        elif self.model == "random_forest":
            self.model_ = RandomForestClassifier(
                self.n_estimators, random_state=self.seed, n_jobs=self.n_jobs
            )
        else:
            raise ValueError(f"unknown model {self.model!r}; choose one of: logreg, random_forest")
        self.classes_ = class_names_for(labels, classes)
        self.image_size_ = (int(images.shape[1]), int(images.shape[2]))
        self.model_.fit(images.reshape(len(images), -1), labels)
        self._mark_fitted()
        return self

    def _proba(self, data: np.ndarray) -> np.ndarray:
        proba = self.model_.predict_proba(data.reshape(len(data), -1))
        full = np.zeros((len(data), len(self.classes_)))
        full[:, self.model_.classes_] = proba  # classes absent from training keep probability 0
        return full

    def _get_state(self) -> dict[str, Any]:
        return {"classes": self.classes_, "image_size": list(self.image_size_)}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        if self.model != "logreg":
            raise NotImplementedError(
                "a random-forest pixel baseline is not saved; use model='logreg' to get a checkpoint"
            )
        return {**_logreg_arrays(self.model_), "classes": self.model_.classes_}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.classes_ = list(state["classes"])
        self.image_size_ = tuple(state["image_size"])
        self.model_ = _rebuild_logreg(arrays, len(arrays["classes"]), self.C)
        self.model_.classes_ = arrays["classes"]


@ESTIMATORS.register("ridge")
class RidgeRegressor(_SklearnEstimator):
    """Ridge regression (``alpha=0``: ordinary least squares) on feature vectors.

    Args:
        alpha: L2 strength.
    """

    name = "ridge"
    input_kind = "vector"

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X: np.ndarray, y: np.ndarray) -> RidgeRegressor:
        """Fit on an ``n x d`` matrix and ``n`` (or ``n x T``) targets."""
        X = np.asarray(X, dtype=np.float64)
        self.n_features_ = int(X.shape[1])
        self.model_ = LinearRegression() if self.alpha == 0 else Ridge(alpha=self.alpha)
        self.model_.fit(X, np.asarray(y, dtype=np.float64))
        self._mark_fitted()
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``n`` (or ``n x T``); NaN for rows that are not vectors of the right width."""
        self._check_fitted()
        prepared = prepare_vectors(X, self.n_features_)
        width = np.atleast_2d(self.model_.coef_).shape[0]
        out = np.full((len(prepared.ids), width), np.nan)
        if len(prepared.data):
            out[prepared.valid] = self.model_.predict(prepared.data).reshape(len(prepared.data), width)
        return out[:, 0] if np.ndim(self.model_.coef_) == 1 else out

    def _get_state(self) -> dict[str, Any]:
        return {"n_features": self.n_features_}

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"coef": np.asarray(self.model_.coef_), "intercept": np.atleast_1d(self.model_.intercept_)}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.n_features_ = int(state["n_features"])
        self.model_ = LinearRegression() if self.alpha == 0 else Ridge(alpha=self.alpha)
        coef, intercept = arrays["coef"], arrays["intercept"]
        self.model_.coef_ = coef
        self.model_.intercept_ = intercept if coef.ndim > 1 else float(intercept[0])
        self.model_.n_features_in_ = self.n_features_
