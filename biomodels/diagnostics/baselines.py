"""Classical scikit-learn baselines with the same API as the neural estimators.

- ``bow-logreg``: bag of words (``CountVectorizer``, or TF-IDF) + ``LogisticRegression`` on texts;
- ``pixel-logreg``: logistic regression (or, with ``model="random_forest"``, a random forest) on
  raw pixel intensities;
- ``ridge``: ``Ridge`` (``alpha=0``: ``LinearRegression``) on feature vectors, for regression targets.

They follow the estimator protocol of the neural models: ``fit(data, val=None)`` on the labelled
set of the family (``val`` is not used: these models choose no epoch), ``predict`` returns the
same prediction table, ``evaluate`` the same metrics. Saved models hold no pickle: the learned
numbers are rebuilt into the scikit-learn objects on load (logistic-regression ``coef_``/
``intercept_``, vectoriser ``vocabulary_`` and ``idf_``, ridge coefficients), kept in the model's
JSON state (classes, vocabulary) and ``arrays.safetensors`` (coefficients). A fitted random
forest is not saved: ``save`` raises, pointing to ``pixel-logreg`` (forests as arrays exist for
molecules in :mod:`biomodels.models.baseline`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from biomodels.diagnostics.base import ClassifierMixin
from biomodels.diagnostics.image_classifier import ImageInputMixin, training_classes
from biomodels.diagnostics.text_classifier import TextInputMixin
from biomodels.diagnostics.vectors import VectorInputMixin
from biomodels.io.images import ImageSet
from biomodels.io.text import TextSet
from biomodels.io.vectors import VectorSet
from biomodels.train.estimator import Estimator
from biomodels.train.metrics import compute_metrics

__all__ = ["BagOfWordsClassifier", "PixelClassifier", "RidgeRegressor"]


def _logreg_arrays(model: LogisticRegression) -> dict[str, np.ndarray]:
    return {"coef": model.coef_, "intercept": model.intercept_}


def _rebuild_logreg(arrays: dict[str, np.ndarray], n_classes: int, C: float) -> LogisticRegression:
    """A ``LogisticRegression`` predicting exactly as the saved one (``classes_`` = ``0..C-1``)."""
    model = LogisticRegression(C=C)
    model.coef_, model.intercept_ = arrays["coef"], arrays["intercept"]
    model.classes_ = np.arange(n_classes)
    model.n_features_in_ = arrays["coef"].shape[1]
    return model


class BagOfWordsClassifier(TextInputMixin, ClassifierMixin, Estimator):
    """Word counts (or TF-IDF) + multinomial logistic regression.

    Args:
        tfidf: TF-IDF weights instead of raw counts.
        ngram_max: longest word n-gram (1: words only).
        min_df: minimum number of training texts a term must appear in.
        C: inverse L2 regularisation strength.
        max_iter: solver iterations.
    """

    def __init__(
        self, tfidf: bool = False, ngram_max: int = 1, min_df: int = 1, C: float = 1.0, max_iter: int = 2000
    ):
        self.tfidf = tfidf
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.C = C
        self.max_iter = max_iter

    def fit(self, data: TextSet, val: TextSet | None = None) -> BagOfWordsClassifier:
        """Fit on a clean labelled ``TextSet`` (classes: the sorted distinct labels).

        There is no epoch to choose, so labelled ``val`` rows are trained on too."""
        texts, labels, self.classes_ = self._labelled_texts(data, None, "training")
        if val is not None and len(val):
            val_texts, val_labels, _ = self._labelled_texts(val, self.classes_, "validation")
            texts, labels = [*texts, *val_texts], np.concatenate([labels, val_labels])
        self.vectorizer_ = self._vectorizer()
        features = self.vectorizer_.fit_transform(texts)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.model_.fit(features, labels)
        self.fitted_ = True
        return self

    def _vectorizer(self, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
        kind = TfidfVectorizer if self.tfidf else CountVectorizer
        return kind(ngram_range=(1, self.ngram_max), min_df=self.min_df, vocabulary=vocabulary)

    def _proba(self, data: list[str]) -> np.ndarray:
        return self.model_.predict_proba(self.vectorizer_.transform(data))

    def _known_tokens(self, text: str) -> list[bool]:
        """Per word of ``text`` (the vectoriser's own tokens), whether it is a learned term."""
        vocabulary = getattr(self.vectorizer_, "vocabulary_", None) or self.vectorizer_.vocabulary
        words = self.vectorizer_.build_tokenizer()(self.vectorizer_.build_preprocessor()(text))
        return [word in vocabulary for word in words]

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


class PixelClassifier(ImageInputMixin, ClassifierMixin, Estimator):
    """Logistic regression or random forest on the flattened pixel intensities (``[0, 1]``).

    Args:
        model: ``"logreg"`` or ``"random_forest"`` (the latter is not saved, see the module doc).
        C: inverse L2 strength of the logistic regression.
        n_estimators: trees of the forest.
        max_iter: solver iterations of the logistic regression.
        seed: random state of the forest.
        n_jobs: forest worker processes.
    """

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

    def fit(self, data: ImageSet, val: ImageSet | None = None) -> PixelClassifier:
        """Fit on a clean labelled ``ImageSet`` (intensities in ``[0, 1]``).

        There is no epoch to choose, so labelled ``val`` images are trained on too."""
        classes = training_classes(data)
        images, labels = self._labelled_images(data, classes, None, "training")
        if val is not None and len(val):
            size = (int(images.shape[1]), int(images.shape[2]))
            val_images, val_labels = self._labelled_images(val, classes, size, "validation")
            images, labels = np.concatenate([images, val_images]), np.concatenate([labels, val_labels])
        if self.model == "logreg":
            self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        elif self.model == "random_forest":
            self.model_ = RandomForestClassifier(
                self.n_estimators, random_state=self.seed, n_jobs=self.n_jobs
            )
        else:
            raise ValueError(f"unknown model {self.model!r}; choose one of: logreg, random_forest")
        self.classes_ = classes
        self.image_size_ = (int(images.shape[1]), int(images.shape[2]))
        self.model_.fit(images.reshape(len(images), -1), labels)
        self.fitted_ = True
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


class RidgeRegressor(VectorInputMixin, Estimator):
    """Ridge regression (``alpha=0``: ordinary least squares) on feature vectors.

    Fits on a :class:`~biomodels.io.vectors.VectorSet` with targets; ``predict`` gives ``row,
    id, [<target>_true...], <target>..., error``; ``evaluate`` the regression metrics of
    :func:`~biomodels.train.metrics.compute_metrics` (``per_task``, ``mean``).

    Args:
        alpha: L2 strength.
    """

    needs_targets = True

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, data: VectorSet, val: VectorSet | None = None) -> RidgeRegressor:
        """Fit on the features and targets of a clean ``VectorSet``."""
        vectors, X = self._clean_vectors(data, "training")
        if vectors.targets is None:
            raise ValueError("training data for ridge regression needs targets")
        if not np.isfinite(vectors.targets).all():
            bad = np.flatnonzero(~np.isfinite(vectors.targets).all(1))
            raise ValueError(f"training rows {bad[:5].tolist()} have missing or non-finite targets")
        self.n_features_ = int(X.shape[1])
        self.feature_names_ = list(vectors.feature_names)
        self.target_names_ = list(vectors.target_names)
        self.model_ = LinearRegression() if self.alpha == 0 else Ridge(alpha=self.alpha)
        self.model_.fit(X.astype(np.float64), vectors.targets)
        self.fitted_ = True
        return self

    def predict_values(self, data: Any) -> np.ndarray:
        """Predictions ``n x T``; NaN for rows that are not vectors of the right width."""
        self._check_fitted()
        prepared = self._prepare(data)
        out = np.full((len(prepared.ids), len(self.target_names_)), np.nan)
        if len(prepared.data):
            out[prepared.valid] = self.model_.predict(prepared.data.astype(np.float64)).reshape(
                len(prepared.data), -1
            )
        return out

    def predict(self, data: Any) -> pd.DataFrame:
        """One row per input row, in order: ``row, id, [<target>_true...], <target>..., error``."""
        self._check_fitted()
        prepared = self._prepare(data)
        vectors = self._as_vector_set(data)
        values = self.predict_values(data)
        table = pd.DataFrame({"row": np.arange(len(prepared.ids)), "id": prepared.ids})
        if vectors is not None and vectors.targets is not None:
            for t, name in enumerate(self.target_names_):
                table[f"{name}_true"] = vectors.targets[:, t]
        for t, name in enumerate(self.target_names_):
            table[name] = values[:, t]
        table["error"] = pd.Series(prepared.errors, dtype=object)
        return table

    def evaluate(self, data: VectorSet) -> dict[str, Any]:
        """RMSE, MAE, R2... per target and averaged (rows with missing targets skipped)."""
        if not isinstance(data, VectorSet) or data.targets is None:
            raise ValueError("evaluating ridge regression needs a VectorSet with targets")
        values = self.predict_values(data)
        keep = np.isfinite(values).all(1)
        return compute_metrics("regression", data.targets[keep], values[keep], task_names=self.target_names_)

    def _get_state(self) -> dict[str, Any]:
        return {
            "n_features": self.n_features_,
            "feature_names": self.feature_names_,
            "target_names": self.target_names_,
        }

    def _get_arrays(self) -> dict[str, np.ndarray]:
        return {"coef": np.atleast_2d(self.model_.coef_), "intercept": np.atleast_1d(self.model_.intercept_)}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.n_features_ = int(state["n_features"])
        self.feature_names_ = list(state["feature_names"])
        self.target_names_ = list(state["target_names"])
        self.model_ = LinearRegression() if self.alpha == 0 else Ridge(alpha=self.alpha)
        self.model_.coef_, self.model_.intercept_ = arrays["coef"], arrays["intercept"]
        self.model_.n_features_in_ = self.n_features_
