"""Diagnostic models: image and text classifiers, autoencoders, a conditional GAN, baselines."""

from biomodels.diagnostics.base import ESTIMATORS, load_estimator
from biomodels.diagnostics.image_classifier import CNNClassifier, ResNet18Classifier

__all__ = ["ESTIMATORS", "CNNClassifier", "ResNet18Classifier", "load_estimator"]
