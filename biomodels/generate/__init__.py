"""Generative chemistry: molecular language models, sampling, and the MOSES metrics.

- :mod:`~biomodels.generate.tokens`: SMILES / SELFIES tokenisers and the vocabulary;
- :mod:`~biomodels.generate.corpus`: training molecules streamed from a file;
- :mod:`~biomodels.generate.networks`, :mod:`~biomodels.generate.models`: ``charrnn`` and ``vae``
  behind the estimator protocol;
- :mod:`~biomodels.generate.training` (:func:`train`), :mod:`~biomodels.generate.sampling`
  (:func:`sample`), :mod:`~biomodels.generate.metrics` (:func:`evaluate`),
  :mod:`~biomodels.generate.optimize` (:func:`optimize`, scoring in
  :mod:`~biomodels.generate.scoring` and :mod:`~biomodels.generate.diversity`): the workflows
  behind ``biomodels generate train | sample | evaluate | optimize``.

The names below are imported on first use, so ``import biomodels.generate.tokens`` stays
torch-free.
"""

from __future__ import annotations

from biomodels.utils import lazy_exports

_EXPORTS = {
    "train": "biomodels.generate.training",
    "sample": "biomodels.generate.sampling",
    "evaluate": "biomodels.generate.metrics",
    "load_generator": "biomodels.generate.sampling",
    "optimize": "biomodels.generate.optimize",
    "load_objective": "biomodels.generate.scoring",
    "Objective": "biomodels.generate.scoring",
    "CharRNNModel": "biomodels.generate.models",
    "VAEModel": "biomodels.generate.models",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
