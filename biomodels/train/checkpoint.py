"""Checkpoints as safetensors weights plus a JSON config: nothing is pickled.

A checkpoint directory holds:

- ``model.safetensors``: the model's ``state_dict`` (tensors only, loaded without pickle).
- ``arrays.safetensors``: optional named numpy arrays saved beside the model (target scalers,
  class weights, vocabularies as integer codes).
- ``config.json``: ``{"format_version", "biomodels_version", "torch_version", "files", "config"}``
  where ``files`` records each weights file's size and sha256 and ``config`` is the caller's
  JSON-serialisable dict, handed back unchanged to ``build_model`` on load.

Every file is written to a temporary name in the same folder and moved into place with
:func:`os.replace`, so a reader never sees half a file. The weights are written before the config,
so an interrupted save leaves the old config pointing at checksums that no longer match: the load
fails loudly instead of loading a mix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
import safetensors.torch
import torch
from torch import nn

from biomodels import __version__
from biomodels.exceptions import CheckpointError
from biomodels.io.atomic import atomic_path

logger = logging.getLogger(__name__)

__all__ = [
    "ARRAYS_FILE",
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "WEIGHTS_FILE",
    "atomic_path",
    "load_checkpoint",
    "load_extra_arrays",
    "read_config",
    "save_checkpoint",
    "to_jsonable",
    "write_json",
]

FORMAT_VERSION = 1
"""Layout version of ``config.json``; bumped when a reader of the old layout would misread it."""
WEIGHTS_FILE = "model.safetensors"
ARRAYS_FILE = "arrays.safetensors"
CONFIG_FILE = "config.json"


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types: numpy scalars and arrays, paths, dataclasses, tuples.

    Non-finite floats (NaN, inf) become ``None`` so the output is strict JSON that any reader
    accepts (Python's ``json`` would otherwise write the non-standard ``NaN``).
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, torch.Tensor):
        return to_jsonable(obj.detach().cpu().tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` (after :func:`to_jsonable`) as indented strict JSON, atomically."""
    path = Path(path)
    text = json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def save_checkpoint(
    directory: str | Path,
    model: nn.Module,
    config: Mapping[str, Any],
    extra_arrays: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Save ``model``'s weights and ``config`` into ``directory`` (created if needed).

    Args:
        directory: checkpoint folder; existing checkpoint files in it are replaced.
        model: the module whose ``state_dict`` is saved. Tied (shared) parameters are saved as
            separate copies and re-tied by ``load_state_dict`` on load.
        config: JSON-serialisable dict from which ``build_model`` rebuilds the architecture.
        extra_arrays: named numpy arrays (numeric or bool) to keep with the model; read back
            with :func:`load_extra_arrays`.

    Returns:
        The checkpoint directory.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # Clone so tensors that share storage (tied weights, views) become separate, contiguous
    # CPU tensors: safetensors refuses shared storage.
    state = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}
    files = {WEIGHTS_FILE: _write_bytes(directory / WEIGHTS_FILE, safetensors.torch.save(state))}
    if extra_arrays:
        arrays = {k: np.ascontiguousarray(v) for k, v in extra_arrays.items()}
        files[ARRAYS_FILE] = _write_bytes(directory / ARRAYS_FILE, safetensors.numpy.save(arrays))
    else:
        with contextlib.suppress(FileNotFoundError):
            (directory / ARRAYS_FILE).unlink()
    write_json(
        directory / CONFIG_FILE,
        {
            "format_version": FORMAT_VERSION,
            "biomodels_version": __version__,
            "torch_version": torch.__version__,
            "files": files,
            "config": dict(config),
        },
    )
    logger.info("saved checkpoint to %s", directory)
    return directory


def read_config(directory: str | Path) -> dict[str, Any]:
    """Return the caller's config stored in ``directory``'s ``config.json``.

    Raises:
        CheckpointError: the file is missing, unreadable, or not a biomodels checkpoint config
            of a format this version can read.
    """
    return _read_meta(Path(directory))["config"]


def load_checkpoint(
    directory: str | Path, build_model: Callable[[dict[str, Any]], nn.Module]
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a model from ``directory``: ``build_model(config)``, then load and verify weights.

    Args:
        directory: a folder written by :func:`save_checkpoint`.
        build_model: factory building the (untrained) architecture from the saved config.

    Returns:
        ``(model, config)``: the model with its weights loaded (on CPU) and the saved config.

    Raises:
        CheckpointError: with a one-line reason when the config is missing or unreadable, the
            weights file is missing, truncated, corrupt or not safetensors, or its tensors do
            not match the model ``build_model`` returns (missing/unexpected keys, shapes).
    """
    directory = Path(directory)
    meta = _read_meta(directory)
    data = _read_verified(directory, WEIGHTS_FILE, meta)
    state = _parse(directory / WEIGHTS_FILE, data, safetensors.torch.load)
    model = build_model(meta["config"])
    _check_state_matches(directory / WEIGHTS_FILE, model, state)
    model.load_state_dict(state, strict=True)
    return model, meta["config"]


def load_extra_arrays(directory: str | Path) -> dict[str, np.ndarray]:
    """Return the ``extra_arrays`` saved with the checkpoint in ``directory`` (empty if none).

    Raises:
        CheckpointError: the arrays file is missing although recorded, truncated or corrupt.
    """
    directory = Path(directory)
    meta = _read_meta(directory)
    if ARRAYS_FILE not in meta["files"]:
        return {}
    data = _read_verified(directory, ARRAYS_FILE, meta)
    return _parse(directory / ARRAYS_FILE, data, safetensors.numpy.load)


def _write_bytes(path: Path, data: bytes) -> dict[str, Any]:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _read_meta(directory: Path) -> dict[str, Any]:
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(directory, f"no {CONFIG_FILE}; not a biomodels run directory")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(path, f"unreadable ({_one_line(exc)})") from None
    if not isinstance(meta, dict) or "format_version" not in meta or "config" not in meta:
        raise CheckpointError(path, "not a biomodels checkpoint config (no format_version)")
    version = meta["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            path,
            f"checkpoint format {version!r} is newer than this biomodels {__version__} reads "
            f"(up to {FORMAT_VERSION}); upgrade biomodels",
        )
    if meta.get("biomodels_version") != __version__:
        logger.info(
            "%s was written by biomodels %s; this is %s",
            directory,
            meta.get("biomodels_version"),
            __version__,
        )
    return meta


def _read_verified(directory: Path, name: str, meta: Mapping[str, Any]) -> bytes:
    """Read ``name`` and check its size and sha256 against the config's record."""
    path = directory / name
    what = "weights file" if name == WEIGHTS_FILE else "arrays file"
    record = meta.get("files", {}).get(name)
    if not isinstance(record, dict) or not {"bytes", "sha256"} <= record.keys():
        raise CheckpointError(directory / CONFIG_FILE, f"has no size and checksum for {name}")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(path, f"{what} is missing") from None
    except OSError as exc:
        raise CheckpointError(path, f"{what} is unreadable ({_one_line(exc)})") from None
    if len(data) != record["bytes"]:
        raise CheckpointError(
            path, f"{what} is truncated or altered ({len(data)} bytes, expected {record['bytes']})"
        )
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise CheckpointError(path, f"{what} is corrupt (checksum mismatch)")
    return data


def _parse(path: Path, data: bytes, load: Callable[[bytes], dict[str, Any]]) -> dict[str, Any]:
    """Parse safetensors ``data`` with ``load``; a malformed file becomes a CheckpointError."""
    try:
        return load(data)
    except Exception as exc:  # safetensors raises its own SafetensorError or OSError
        raise CheckpointError(path, f"not a valid safetensors file ({_one_line(exc)})") from None


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
