"""The one save format of every model: safetensors weights plus one versioned JSON config.

A model folder (a run directory's ``model/``) holds::

    model/
      model.json                    format_version, model (the MODELS key), params, state,
                                    versions, files (size + sha256 of each weights file), sha256
      member_0/weights.safetensors  one ``state_dict`` per network (ensemble member)
      member_1/weights.safetensors  ...
      arrays.safetensors            named numpy arrays (tree arrays, coefficients, a molecule
                                    model's packed training fingerprints), if any
      domain.json                   a molecule model's training ids and SMILES (its domain)

``params`` are the estimator's constructor arguments (its hyperparameters) and ``state`` what
``fit`` learned that is not a tensor (target names, classes, scalers, vocabularies). Nothing is
pickled: weights load through safetensors and the config through ``json``. ``sha256`` covers
the rest of ``model.json`` and ``files`` covers every other file (further files a family saves,
such as a GAN's sample grids or a molecule model's ``domain.json``, included), so an edit anywhere in the
folder (a scaler's mean, a weight) is a one-line :class:`~biomodels.exceptions.CheckpointError`
naming the file. Files are written atomically, weights before ``model.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
import safetensors.torch
import torch
from torch import nn

from biomodels import __version__
from biomodels.exceptions import CheckpointError
from biomodels.utils import atomic_path, to_jsonable, write_json

logger = logging.getLogger(__name__)

__all__ = [
    "ARRAYS_FILE",
    "FORMAT_VERSION",
    "MODEL_FILE",
    "ModelFolder",
    "read_model_folder",
    "write_model_folder",
]

FORMAT_VERSION = 2
"""Layout version of ``model.json``; bumped when a reader of the old layout would misread it.

Version 1 was biomodels 0.1.0's (``predictor.json`` or a checkpoint ``config.json``); it is
refused with a message saying to retrain (see :func:`read_model_folder`)."""
MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.safetensors"
_OLD_FILES = ("predictor.json", "config.json")


def member_file(index: int) -> str:
    """Weights file of network ``index`` inside the model folder."""
    return f"member_{index}/weights.safetensors"


def write_model_folder(
    directory: str | Path,
    model: str,
    params: Mapping[str, Any],
    state: Mapping[str, Any],
    modules: list[nn.Module],
    arrays: Mapping[str, np.ndarray] | None = None,
    versions: Mapping[str, Any] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
) -> Path:
    """Save a model into ``directory`` (created; see the module docstring for the layout).

    Args:
        directory: the model folder.
        model: the estimator's :data:`~biomodels.registry.MODELS` key.
        params: JSON-serialisable constructor arguments.
        state: JSON-serialisable learned state.
        modules: networks whose ``state_dict`` is saved, one ``member_i`` folder each.
        arrays: named numeric arrays kept beside the weights.
        versions: library versions to record (the run's environment).
        extra_files: further files by relative name (e.g. a GAN's sample grids), recorded and
            checked like the weights.
    """
    directory = Path(directory)
    files = {}
    for index, module in enumerate(modules):
        # Clone so tensors that share storage (tied weights, views) become separate, contiguous
        # CPU tensors: safetensors refuses shared storage.
        tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in module.state_dict().items()}
        files[member_file(index)] = _write_bytes(
            directory / member_file(index), safetensors.torch.save(tensors)
        )
    if arrays:
        data = safetensors.numpy.save({k: np.ascontiguousarray(v) for k, v in arrays.items()})
        files[ARRAYS_FILE] = _write_bytes(directory / ARRAYS_FILE, data)
    for name, data in (extra_files or {}).items():
        files[name] = _write_bytes(directory / name, data)
    meta = to_jsonable(
        {
            "format_version": FORMAT_VERSION,
            "model": model,
            "params": dict(params),
            "state": dict(state),
            "versions": {"biomodels": __version__, "torch": torch.__version__, **(versions or {})},
            "files": files,
        }
    )
    meta["sha256"] = _digest(meta)
    write_json(directory / MODEL_FILE, meta)
    logger.info("saved model %s to %s", model, directory)
    return directory


@dataclass
class ModelFolder:
    """A verified ``model.json`` and access to the verified weights beside it."""

    path: Path
    model: str
    params: dict[str, Any]
    state: dict[str, Any]
    versions: dict[str, Any]
    files: dict[str, Any]
    extra: dict[str, bytes] = field(default_factory=dict, repr=False)
    """The verified content of the further files (all but the weights and arrays), by name."""

    @property
    def n_members(self) -> int:
        return sum(1 for name in self.files if name.startswith("member_"))

    def arrays(self) -> dict[str, np.ndarray]:
        """The named arrays saved with the model (empty when none)."""
        if ARRAYS_FILE not in self.files:
            return {}
        return self._load(ARRAYS_FILE, safetensors.numpy.load)

    def load_member(self, index: int, module: nn.Module) -> nn.Module:
        """Load member ``index``'s weights into ``module`` (strict) and return it in eval mode.

        Raises:
            CheckpointError: missing, corrupt or truncated file, or weights that do not fit.
        """
        name = member_file(index)
        if name not in self.files:
            raise CheckpointError(self.path / MODEL_FILE, f"records no {name}")
        state = self._load(name, safetensors.torch.load)
        _check_state_matches(self.path / name, module, state)
        module.load_state_dict(state, strict=True)
        return module.eval()

    def verified_bytes(self, name: str) -> bytes:
        """The content of the recorded file ``name``, checked against its size and sha256."""
        path = self.path / name
        record = self.files[name]
        what = "weights file" if name.endswith(".safetensors") else "file"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CheckpointError(path, f"{what} is missing") from None
        except OSError as exc:
            raise CheckpointError(path, f"{what} is unreadable ({_one_line(exc)})") from None
        if len(data) != record.get("bytes") or hashlib.sha256(data).hexdigest() != record.get("sha256"):
            raise CheckpointError(path, f"{what} is corrupt or altered (size or checksum mismatch)")
        return data

    def _load(self, name: str, parse: Callable[[bytes], dict[str, Any]]) -> dict[str, Any]:
        path = self.path / name
        data = self.verified_bytes(name)
        try:
            return parse(data)
        except Exception as exc:  # safetensors raises its own SafetensorError or OSError
            raise CheckpointError(path, f"not a valid safetensors file ({_one_line(exc)})") from None


def read_model_folder(directory: str | Path) -> ModelFolder:
    """Read and verify ``directory/model.json``.

    Raises:
        CheckpointError: one line naming the file: missing, unreadable, altered (checksum), a
            format newer than this biomodels reads, or biomodels 0.1.0's format (retrain).
    """
    directory = Path(directory)
    path = directory / MODEL_FILE
    if not path.is_file():
        old = next((name for name in _OLD_FILES if (directory / name).is_file()), None)
        if old is not None:
            raise CheckpointError(
                directory,
                f"written by biomodels 0.1.0 ({old}), whose model format this biomodels {__version__} "
                "no longer reads; retrain it with the same command (the run's settings are in its "
                "config.json)",
            )
        raise CheckpointError(directory, f"no {MODEL_FILE}; not a biomodels model folder")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(path, f"unreadable ({_one_line(exc)})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format_version"), int):
        raise CheckpointError(path, "not a biomodels model config (no format_version)")
    if meta["format_version"] > FORMAT_VERSION:
        raise CheckpointError(
            path,
            f"model format {meta['format_version']} is newer than this biomodels {__version__} reads "
            f"(up to {FORMAT_VERSION}); upgrade biomodels",
        )
    expected = meta.pop("sha256", None)
    if expected != _digest(meta):
        raise CheckpointError(
            path, "was altered after it was saved (checksum mismatch); retrain or restore it"
        )
    keys = ("model", "params", "state", "versions", "files")
    if not all(isinstance(meta.get(k), str if k == "model" else dict) for k in keys):
        raise CheckpointError(path, f"not a biomodels model config (needs {', '.join(keys)})")
    folder = ModelFolder(directory, *(meta[k] for k in keys))
    for name in meta["files"]:
        if not name.startswith("member_") and name != ARRAYS_FILE:
            folder.extra[name] = folder.verified_bytes(name)  # weights and arrays: as they load
    if meta["versions"].get("biomodels") != __version__:
        logger.info(
            "%s was written by biomodels %s; this is %s", path, meta["versions"].get("biomodels"), __version__
        )
    return folder


def _digest(meta: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(meta, sort_keys=True, allow_nan=False).encode()).hexdigest()


def _write_bytes(path: Path, data: bytes) -> dict[str, Any]:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _check_state_matches(path: Path, model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Raise a short :class:`CheckpointError` when ``state`` does not fit ``model`` exactly."""
    expected = model.state_dict()
    problems = []
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing:
        problems.append(f"missing keys {_head(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_head(unexpected)}")
    if shapes:
        problems.append(f"shape mismatch {_head(shapes)}")
    if problems:
        raise CheckpointError(path, "weights do not match the model: " + "; ".join(problems))


def _head(items: list[str], n: int = 3) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" (+{len(items) - n} more)" if len(items) > n else "")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
