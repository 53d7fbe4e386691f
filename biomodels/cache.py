"""The on-disk cache of computed arrays: where it lives, how an entry is read and written.

Entries are ``.npz`` files (no pickled objects) named by a content key; a damaged entry is
rebuilt, never trusted, and an entry is written to a temporary file first and then moved into
place, so a killed writer never leaves half an entry.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["default_cache_dir", "load_cache_entry", "save_npz"]


def default_cache_dir() -> Path:
    """``$BIOMODELS_CACHE_DIR``, else ``~/.cache/biomodels``."""
    env = os.environ.get("BIOMODELS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "biomodels"


def load_cache_entry(file: Path, load: Callable[[Path], Any]) -> Any:
    """``load(file)``, or None when the entry is absent or unreadable (logged: rebuilt, never trusted)."""
    if not file.exists():
        return None
    try:
        return load(file)
    except Exception as exc:  # numpy and zipfile raise several types for a damaged file
        logger.warning("ignoring unreadable cache entry %s (%s)", file, exc)
        return None


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` (``.npz``) atomically, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
