"""Diagnostic models: image and text classifiers, autoencoders, a conditional GAN, baselines.

Every model is a scikit-learn style estimator registered in :data:`ESTIMATORS` under its CLI
name, trained by the shared :class:`~biomodels.train.Trainer` and saved in the shared checkpoint
format (:func:`load_estimator` rebuilds any of them). :mod:`biomodels.diagnostics.runner` runs
whole train / evaluate / predict jobs into run directories.
"""

from biomodels.diagnostics.anomaly import DenseAutoencoderEstimator, ImageAutoencoder
from biomodels.diagnostics.base import ESTIMATORS, DiagnosticEstimator, load_estimator
from biomodels.diagnostics.baselines import BagOfWordsClassifier, PixelClassifier, RidgeRegressor
from biomodels.diagnostics.data import DiagnosticData, load_data
from biomodels.diagnostics.evaluate import (
    anomaly_metrics,
    class_consistency,
    classification_metrics,
    frechet_distance,
    gan_metrics,
)
from biomodels.diagnostics.generative import ConditionalGANEstimator
from biomodels.diagnostics.image_classifier import CNNClassifier, ResNet18Classifier
from biomodels.diagnostics.runner import predict_run, sample_run, train_run
from biomodels.diagnostics.text_classifier import RNNClassifier, TransformerClassifier

__all__ = [
    "ESTIMATORS",
    "BagOfWordsClassifier",
    "CNNClassifier",
    "ConditionalGANEstimator",
    "DenseAutoencoderEstimator",
    "DiagnosticData",
    "DiagnosticEstimator",
    "ImageAutoencoder",
    "PixelClassifier",
    "RNNClassifier",
    "ResNet18Classifier",
    "RidgeRegressor",
    "TransformerClassifier",
    "anomaly_metrics",
    "class_consistency",
    "classification_metrics",
    "frechet_distance",
    "gan_metrics",
    "load_data",
    "load_estimator",
    "predict_run",
    "sample_run",
    "train_run",
]
