"""Inference engines: what runs a loaded run's networks (:data:`~biomodels.registry.ENGINES`).

``torch`` keeps the networks as trained. ``onnxruntime`` puts ONNX Runtime sessions in their
place (:mod:`biomodels.train.onnx`): the run's ``model.onnx`` (written by ``biomodels export``)
when there is one, else the networks are exported to a temporary file on loading (a few
seconds per network). Everything around the networks (featurisation, scaling, ensembling,
the prediction table) is the estimator's own code, so both engines give the same columns.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from biomodels.train.onnx import export_onnx, onnx_modules
from biomodels.train.run import Run

logger = logging.getLogger(__name__)

__all__ = ["ONNX_FILE", "use_onnxruntime", "use_torch"]

ONNX_FILE = "model.onnx"
"""Where ``biomodels export RUN_DIR`` writes by default and where the onnxruntime engine looks."""


def use_torch(run: Run) -> Run:
    """The run as loaded: its networks run in torch."""
    run.engine = "torch"
    return run


def use_onnxruntime(run: Run) -> Run:
    """The run with ONNX Runtime in place of its networks (see the module docstring).

    Raises:
        InputError: the model has no network ONNX can take (a random forest, a GAN...).
        CheckpointError: ``RUN_DIR/model.onnx`` was exported from another model.
    """
    model_dir = run.path / "model"
    exported = run.path / ONNX_FILE
    if exported.is_file():
        modules = onnx_modules(run.model, exported, model_dir)
    else:
        logger.info("exporting %s to ONNX for this process (`biomodels export` once skips this)", run.path)
        with tempfile.TemporaryDirectory(prefix="biomodels-onnx-") as scratch:
            path = export_onnx(run.model, Path(scratch) / ONNX_FILE, model_dir)
            modules = onnx_modules(run.model, path, model_dir)
    run.model._set_modules(modules)
    run.engine = "onnxruntime"
    return run
