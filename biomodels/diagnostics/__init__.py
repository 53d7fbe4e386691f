"""Diagnostic models: image and text classifiers, autoencoders, a conditional GAN, baselines.

Every model is an :class:`~biomodels.train.estimator.Estimator` registered in
:data:`~biomodels.registry.MODELS` (``MODELS.names(input="image")``, ``"text"``, ``"vector"``),
trained by the shared :class:`~biomodels.train.Trainer` and saved in the one model-folder format;
:func:`biomodels.train.run.train_run` runs a whole training into a run directory and
:func:`biomodels.train.run.load_run` gives it back. :mod:`biomodels.diagnostics.base` says what
each family reads.
"""

from biomodels.diagnostics.anomaly import DenseAutoencoderEstimator, ImageAutoencoder
from biomodels.diagnostics.base import ClassifierMixin, NeuralEstimator, Prepared
from biomodels.diagnostics.baselines import BagOfWordsClassifier, PixelClassifier, RidgeRegressor
from biomodels.diagnostics.data import (
    IMAGE_SIZES,
    TEXT_SIZES,
    data_kind,
    image_training_data,
    text_training_data,
    vector_training_data,
)
from biomodels.diagnostics.evaluate import (
    anomaly_metrics,
    class_consistency,
    classification_metrics,
    frechet_distance,
    gan_metrics,
)
from biomodels.diagnostics.generative import ConditionalGANEstimator
from biomodels.diagnostics.image_classifier import CNNClassifier, ResNet18Classifier
from biomodels.diagnostics.text_classifier import RNNClassifier, TransformerClassifier

__all__ = [
    "IMAGE_SIZES",
    "TEXT_SIZES",
    "BagOfWordsClassifier",
    "CNNClassifier",
    "ClassifierMixin",
    "ConditionalGANEstimator",
    "DenseAutoencoderEstimator",
    "ImageAutoencoder",
    "NeuralEstimator",
    "PixelClassifier",
    "Prepared",
    "RNNClassifier",
    "ResNet18Classifier",
    "RidgeRegressor",
    "TransformerClassifier",
    "anomaly_metrics",
    "class_consistency",
    "classification_metrics",
    "data_kind",
    "frechet_distance",
    "gan_metrics",
    "image_training_data",
    "text_training_data",
    "vector_training_data",
]
