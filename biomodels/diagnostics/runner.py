"""Whole runs of the diagnostic models: train + evaluate into a run directory, predict, sample.

These are what the ``biomodels diagnostics`` commands, the report pipeline and the benchmark
call. A training run directory holds::

    run/
      config.json, model.safetensors[, arrays.safetensors]   the checkpoint (load_estimator)
      run.json            data, model, seed, split, sizes, skipped rows, timings
      metrics.json        test-set metrics (see biomodels.diagnostics.evaluate)
      history.json        per-epoch training history (neural models)
      predictions_test.csv  one row per test item with probabilities and errors
      roc_pr.png, confusion_matrix.png, training_curves.png   (classifiers)
      anomaly_roc_pr.png, anomaly_scores.png                  (autoencoder)
      samples/epoch_*.png, samples.png, judge/                (GAN)
      environment.json, run.log
"""

from __future__ import annotations

import inspect
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomodels.diagnostics.anomaly import ImageAutoencoder
from biomodels.diagnostics.base import (
    ESTIMATORS,
    ClassifierMixin,
    DiagnosticEstimator,
    NeuralEstimator,
    load_estimator,
)
from biomodels.diagnostics.baselines import BagOfWordsClassifier, PixelClassifier
from biomodels.diagnostics.data import DiagnosticData, data_kind, label_indices, load_data
from biomodels.diagnostics.evaluate import (
    anomaly_metrics,
    classification_metrics,
    gan_metrics,
    write_classification_plots,
)
from biomodels.diagnostics.generative import ConditionalGANEstimator
from biomodels.diagnostics.image_classifier import CNNClassifier
from biomodels.exceptions import InputError
from biomodels.io.images import ImageSet, read_images
from biomodels.io.text import TextSet, read_text_table
from biomodels.report.plots import plot_histogram, plot_roc_pr, plot_training_curves
from biomodels.train.rundir import RunDirectory
from biomodels.utils import atomic_path

logger = logging.getLogger(__name__)

__all__ = ["evaluate_on", "fit_on", "make_estimator", "predict_run", "sample_run", "train_run"]


def make_estimator(
    name: str, seed: int = 0, epochs: int | None = None, progress: bool = False, **params: Any
) -> DiagnosticEstimator:
    """Build the registered estimator ``name`` with ``params``, the seed, and (neural models)
    ``epochs`` and a progress bar; settings a model does not have are ignored."""
    cls = ESTIMATORS.get(name)
    accepted = inspect.signature(cls.__init__).parameters
    if "seed" in accepted:
        params.setdefault("seed", seed)
    if epochs is not None and "epochs" in accepted:
        params["epochs"] = epochs
    if progress and "trainer_options" in accepted:
        params["trainer_options"] = {**(params.get("trainer_options") or {}), "progress": True}
    return cls(**params)


def fit_on(
    estimator: DiagnosticEstimator,
    data: DiagnosticData,
    sample_dir: str | Path | None = None,
    normal_class: int = 0,
) -> DiagnosticEstimator:
    """Fit ``estimator`` on ``data``'s training partition (validation for the best epoch).

    scikit-learn baselines, which pick no epoch, are fitted on training + validation rows.
    The autoencoder learns class ``normal_class`` only.
    """
    train, val = data.train, data.val
    if data.kind != estimator.input_kind:
        raise InputError(
            None,
            f"model {estimator.name!r} takes {estimator.input_kind} data, "
            f"but the data set holds {data.kind}s",
        )
    if isinstance(estimator, BagOfWordsClassifier):
        return estimator.fit(train.texts + val.texts, train.labels + val.labels)
    if isinstance(estimator, PixelClassifier):
        return estimator.fit(
            np.concatenate([train.images, val.images]),
            np.concatenate([train.labels, val.labels]),
            classes=data.classes,
        )
    if isinstance(estimator, ImageAutoencoder):
        return estimator.fit(train.images, train.labels, normal_class, val.images, val.labels)
    if isinstance(estimator, ConditionalGANEstimator):
        return estimator.fit(train.images, train.labels, classes=data.classes, sample_dir=sample_dir)
    if data.kind == "image":
        return estimator.fit(train.images, train.labels, val.images, val.labels, classes=data.classes)
    return estimator.fit(train.texts, train.labels, val.texts, val.labels)


def evaluate_on(
    estimator: DiagnosticEstimator,
    data: DiagnosticData,
    folder: str | Path | None = None,
    judge: DiagnosticEstimator | None = None,
    normal_class: int = 0,
) -> dict[str, Any]:
    """Test-set metrics of a fitted estimator; with ``folder``, also its plots and predictions.

    Args:
        estimator: fitted on ``data``.
        data: the data set.
        folder: where to write PNG plots and ``predictions_test.csv`` (nothing written if None).
        judge: for the GAN, a fitted image classifier over the same classes.
        normal_class: for the autoencoder, the class index treated as normal.
    """
    test = data.test
    folder = None if folder is None else Path(folder)
    if isinstance(estimator, ClassifierMixin):
        y = label_indices(test, data.classes)
        probs = estimator.predict_proba(test)
        metrics = classification_metrics(y, probs, estimator.classes_)
        if folder is not None:
            write_classification_plots(
                folder,
                y,
                probs,
                estimator.classes_,
                getattr(estimator, "history_", None),
                title=f"{estimator.name} on the test set",
            )
            table = estimator.predict_table(test, labels=_label_names(test, data.classes))
            RunDirectory(folder).write_table("predictions_test.csv", table)
        return metrics
    if isinstance(estimator, ImageAutoencoder):
        scores = estimator.anomaly_score(test)
        is_anomaly = test.labels != normal_class
        metrics = anomaly_metrics(estimator.reconstruction_mse(test), is_anomaly, scores)
        if folder is not None:
            plot_roc_pr(
                is_anomaly.astype(float),
                scores,
                folder / "anomaly_roc_pr.png",
                title=f"anomaly score ({estimator.score} reconstruction error) on the test set",
            )
            plot_histogram(
                {data.classes[c]: scores[test.labels == c] for c in range(len(data.classes))},
                folder / "anomaly_scores.png",
                title="anomaly score by class",
                xlabel=f"{estimator.score} reconstruction error",
                density=True,
            )
            plot_training_curves(estimator.history_, folder / "training_curves.png")
            table = estimator.predict_table(test, labels=_label_names(test, data.classes))
            RunDirectory(folder).write_table("predictions_test.csv", table)
        return metrics
    if isinstance(estimator, ConditionalGANEstimator):
        if judge is None:
            raise ValueError("evaluating a GAN needs a fitted image classifier as judge")
        metrics = gan_metrics(estimator, judge, test.images, data.train.images, seed=estimator.seed)
        if folder is not None:
            estimator.sample_grid(folder / "samples.png", n_per_class=16)
            plot_training_curves(estimator.history_, folder / "training_curves.png")
        return metrics
    raise TypeError(f"no evaluation for {type(estimator).__name__}")


def train_run(
    data_path: str | Path,
    model: str,
    out: str | Path,
    seed: int = 0,
    epochs: int | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    class_names: list[str] | None = None,
    judge: str | Path | None = None,
    normal_class: str | None = None,
    progress: bool = False,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``model`` on ``data_path``, evaluate it on the test partition, write ``out``.

    Args:
        data_path: ``.npz``, image folder or text table.
        model: a name in :data:`~biomodels.diagnostics.ESTIMATORS`.
        out: the run directory (created).
        seed: seed of the split and the training.
        epochs: training epochs (model default when None).
        text_col, label_col: text table columns (detected when None).
        class_names: names of an ``.npz`` file's integer classes.
        judge: for ``gan``: run directory of a trained image classifier; when None a ``cnn`` is
            trained on the same data and saved in ``out/judge``.
        normal_class: for ``autoencoder``: the normal class (name or index; default the first).
        progress: show a progress bar over epochs.
        params: further constructor arguments of the model.

    Returns:
        The run record (also ``run.json``) with the test metrics under ``"metrics"``.
    """
    run = RunDirectory(out)
    with run.log_to():
        run.record_environment()
        data = load_data(data_path, seed, text_col, label_col, class_names)
        estimator = make_estimator(model, seed, epochs, progress, **(params or {}))
        normal = _class_index(normal_class, data.classes)
        started, cpu = time.perf_counter(), time.process_time()
        fit_on(estimator, data, sample_dir=run.file("samples"), normal_class=normal)
        timing = {"fit_seconds": time.perf_counter() - started, "fit_cpu_seconds": time.process_time() - cpu}
        estimator.save(run.path)
        judge_model = None
        if isinstance(estimator, ConditionalGANEstimator):
            judge_model = _judge(judge, data, run, seed)
        metrics = evaluate_on(estimator, data, run.path, judge=judge_model, normal_class=normal)
        run.write_json("metrics.json", metrics)
        if isinstance(estimator, NeuralEstimator):
            run.write_json("history.json", estimator.history_.to_dict())
        record = {
            "model": model,
            "data": str(data_path),
            "kind": data.kind,
            "seed": seed,
            "params": estimator.get_params(),
            "classes": data.classes,
            "split": data.split,
            "sizes": data.sizes(),
            "skipped_rows": data.skipped,
            **timing,
            "metrics": metrics,
        }
        run.write_json("run.json", record)
        logger.info("trained %s on %s in %.1f s -> %s", model, data_path, timing["fit_seconds"], run.path)
    return record


def predict_run(
    run_dir: str | Path,
    input_path: str | Path,
    out: str | Path | None = None,
    top_tokens: int = 0,
    text_col: str | None = None,
    label_col: str | None = None,
) -> pd.DataFrame:
    """Predict every row of ``input_path`` with the model saved in ``run_dir``; write CSV ``out``.

    Image models read an ``.npz`` (``test_images`` or ``images``, with labels when present) or an
    image folder; text models read a table (the label column, when present or named, is carried
    into the output and checked against the model's classes). Each input row gives one output
    row, in order, with an ``error`` column saying why a row could not be predicted.

    Raises:
        CheckpointError: ``run_dir`` holds no valid model.
        InputError: unreadable input file, or an input of the wrong kind for the model.
    """
    estimator = load_estimator(run_dir)
    if isinstance(estimator, ConditionalGANEstimator):
        raise InputError(run_dir, "a GAN does not predict; use `biomodels diagnostics sample`")
    if data_kind(input_path) != estimator.input_kind:
        raise InputError(input_path, f"the model in {run_dir} takes {estimator.input_kind} input")
    options = {"top_tokens": top_tokens} if top_tokens and estimator.name in ("rnn", "transformer") else {}
    if estimator.input_kind == "image":
        classes = getattr(estimator, "classes_", None)
        images = read_images(input_path, class_names=classes)
        labels = None if images.labels is None else _label_names(images, images.classes)
        table = estimator.predict_table(images, labels=labels, **options)
    else:
        texts = read_text_table(input_path, text_col, label_col)
        table = estimator.predict_table(texts, labels=texts.labels, **options)
    if out is not None:
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
    return table


def sample_run(run_dir: str | Path, n: int, label: str | None, out: str | Path, seed: int = 0) -> Path:
    """Save a grid of ``n`` generated images of class ``label`` (every class when None) to ``out``."""
    estimator = load_estimator(run_dir)
    if not isinstance(estimator, ConditionalGANEstimator):
        raise InputError(run_dir, f"holds a {estimator.name!r} model; sampling needs a 'gan' run")
    return estimator.sample_grid(out, n_per_class=n, label=label, seed=seed)


def _label_names(data: ImageSet | TextSet, classes: list[str]) -> list[str | None]:
    """Partition labels as class names (image indices mapped through ``classes``)."""
    if isinstance(data, TextSet):
        return list(data.labels)
    return [classes[i] if 0 <= i < len(classes) else None for i in data.labels]


def _class_index(name: str | None, classes: list[str]) -> int:
    if name is None:
        return 0
    if name in classes:
        return classes.index(name)
    if name.isdigit() and int(name) < len(classes):
        return int(name)
    raise InputError(None, f"unknown normal class {name!r}; classes are: {', '.join(classes)}")


def _judge(
    path: str | Path | None, data: DiagnosticData, run: RunDirectory, seed: int
) -> DiagnosticEstimator:
    """The classifier that judges generated images: loaded from ``path`` or trained now."""
    if path is not None:
        return load_estimator(path)
    logger.info("no judge classifier given: training a cnn on the same data")
    judge = fit_on(CNNClassifier(seed=seed), data)
    judge.save(run.file("judge"))
    return judge
