"""biomodels: drug discovery and computational biology toolkit.

Data flows one way, and so do the imports (``tests/test_layers.py`` checks them):
chem -> io -> featurize -> data -> kernels -> nn -> models -> train
-> screen | diagnostics | generate | dta -> report -> cli.
The top level stays light (no torch) so that the command line starts fast; ``load_run``,
``train_run`` and ``TrainRunConfig`` are imported from :mod:`biomodels.train.run` on first use.
"""

import logging
from typing import Any

__version__ = "0.2.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {"load_run", "train_run", "TrainRunConfig"}
__all__ = ["TrainRunConfig", "__version__", "load_run", "train_run"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from biomodels.train import run

        return getattr(run, name)
    raise AttributeError(f"module 'biomodels' has no attribute {name!r}")
