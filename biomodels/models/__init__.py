"""Models composed from :mod:`biomodels.nn` blocks, plus non-neural baselines."""

from biomodels.models.baseline import RandomForestBaseline
from biomodels.models.property import ModelConfig, PropertyModel

__all__ = ["ModelConfig", "PropertyModel", "RandomForestBaseline"]
