"""Writing a run directory: atomic JSON and CSV files, the run's log, its environment.

The layout of a run directory is documented in one place, :mod:`biomodels.train.run`. Every
write is atomic (temporary file + :func:`os.replace`).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import os
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from biomodels import __version__
from biomodels.utils import atomic_path, write_json

__all__ = ["LOG_FORMAT", "RunDirectory", "environment_info", "log_to"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Distribution names, as pip knows them, of the packages whose versions a run records.
_PACKAGES = {
    "torch": "torch",
    "torch_geometric": "torch-geometric",
    "numpy": "numpy",
    "pandas": "pandas",
    "scikit-learn": "scikit-learn",
    "rdkit": "rdkit",
    "safetensors": "safetensors",
    "distributed": "distributed",
}


@contextlib.contextmanager
def log_to(path: str | Path, level: int = logging.INFO) -> Iterator[logging.Handler]:
    """Copy records of the ``biomodels`` loggers at ``level`` and above into the file ``path``.

    The ``biomodels`` logger's level is lowered to ``level`` for the duration if needed (and
    restored afterwards) so INFO lines reach the file even when logging is otherwise unset; other
    handlers keep their own levels, so nothing new appears on the console.

    Yields:
        The attached :class:`logging.FileHandler` (appending, UTF-8).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger("biomodels")
    old_level = root.level
    if root.getEffectiveLevel() > level:
        root.setLevel(level)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def environment_info() -> dict[str, Any]:
    """Versions and hardware of this process: Python, packages, platform, CPUs, CUDA devices.

    A package that is not installed is recorded as None.
    """
    packages = {"biomodels": __version__}
    for name, dist in _PACKAGES.items():
        try:
            packages[name] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    if packages["rdkit"] is None:  # conda builds of RDKit install no pip metadata
        with contextlib.suppress(ImportError):
            import rdkit

            packages["rdkit"] = rdkit.__version__
    cuda_available = torch.cuda.is_available()
    return {
        "python": sys.version.split()[0],
        "packages": packages,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cuda": {
            "available": cuda_available,
            "version": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if cuda_available else None,
            "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if cuda_available
            else [],
        },
    }


class RunDirectory:
    """A folder for one run's outputs, created on construction (parents included).

    Args:
        path: the folder; an existing one is reused and its files overwritten as written.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r})"

    def file(self, name: str) -> Path:
        """Path of ``name`` inside the run directory (not created)."""
        return self.path / name

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as strict JSON (NaN -> null; numpy, dataclasses converted) atomically."""
        return write_json(self.file(name), obj)

    def read_json(self, name: str) -> Any:
        """Parse the JSON file ``name``."""
        return json.loads(self.file(name).read_text(encoding="utf-8"))

    def write_table(self, name: str, table: pd.DataFrame, index: bool = False) -> Path:
        """Write ``table`` as CSV atomically; the index is dropped unless ``index``."""
        path = self.file(name)
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=index)
        return path

    def log_to(
        self, name: str = "run.log", level: int = logging.INFO
    ) -> contextlib.AbstractContextManager[logging.Handler]:
        """Context manager copying ``biomodels`` log records into ``name``; see :func:`log_to`."""
        return log_to(self.file(name), level)

    def record_environment(self) -> dict[str, Any]:
        """Write :func:`environment_info` to ``environment.json`` and return it."""
        info = environment_info()
        self.write_json("environment.json", info)
        return info
