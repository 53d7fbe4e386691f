"""Small helpers every layer shares: atomic writes, strict JSON, an ordered bounded parallel map,
the clean-up of temporaries left by killed processes, and printable echoes of bad input.

A leaf module: it imports only the leaf :mod:`biomodels.exceptions`, so any layer may use it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from biomodels.exceptions import OutputError

logger = logging.getLogger(__name__)

__all__ = [
    "atomic_path",
    "ordered_map",
    "pid_gone",
    "printable",
    "read_json",
    "remove_stale",
    "to_jsonable",
    "write_json",
]

T = TypeVar("T")
R = TypeVar("R")


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose public names (``exports``: name -> module)
    are imported on first use (PEP 562), so that importing one light submodule does not import
    its heavy siblings (pandas, torch, matplotlib).

    Usage, in the package's ``__init__.py``: ``__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)``.
    """
    import importlib
    import sys

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__


def _process_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_process_umask()
"""The mode a plainly created file gets under this process's umask (mkstemp would give 0600)."""


def pid_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a process of another user still counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def remove_stale(folder: Path, prefix: str, suffix: str = "") -> list[Path]:
    """Remove the temporaries ``<prefix><pid>-<random><suffix>`` in ``folder`` whose process ended.

    Temporaries made with ``tempfile.mkstemp``/``mkdtemp`` and ``prefix=f"{prefix}{os.getpid()}-"``
    have such names; a name of any other shape is never touched (it may belong to another
    output whose name starts alike), nor one whose process still runs.

    Returns:
        The files and folders removed.
    """
    shape = re.compile(re.escape(prefix) + r"(\d+)-[a-z0-9_]+" + re.escape(suffix))
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = shape.fullmatch(entry.name)
        if match is None or not pid_gone(int(match.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        removed.append(entry)
    return removed


def temp_prefix(name: str) -> str:
    """The name prefix of this process's temporaries of the output ``name`` (see :func:`remove_stale`)."""
    return f".{name}.{os.getpid()}-"


@contextlib.contextmanager
def atomic_path(path: str | Path, clean_stale: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    The temporary file keeps ``path``'s suffix so writers that infer a format from the name
    (matplotlib, pandas) pick the right one, and is named ``.<name>.<pid>-<random><suffix>``. On
    error the temporary file is removed and ``path`` is left as it was. The file gets the mode of
    the process's umask, as ``open`` would give it.

    Args:
        clean_stale: first remove the temporaries of ``path`` that killed processes left (a
            SIGKILL leaves no chance to clean up); writers of large outputs pass True.

    Raises:
        OutputError: the folder cannot be written (full disk, read-only, no permission), one
            line naming ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if clean_stale:
            for stale in remove_stale(path.parent, f".{path.name}.", path.suffix):
                logger.info("removed %s, left by a killed writer of %s", stale.name, path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path.name), suffix=path.suffix)
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError) and exc.errno is not None:
            raise OutputError(path, exc.strerror or str(exc)) from None
        raise


def printable(text: str, limit: int | None = None) -> str:
    """``text`` with control and other non-printable characters escaped (``\\x00``, ``\\n``), cut
    to its first ``limit`` characters (``...`` and the full length follow) when it is longer.

    What error messages and output cells echo of bad input: never a control character, never
    the whole of a huge input.
    """
    cut = limit is not None and len(text) > limit
    shown = text[:limit] if cut else text
    if not shown.isprintable():
        shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in shown)
    return f"{shown}... ({len(text)} characters)" if cut else shown


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types: numpy and torch scalars and arrays, paths, dataclasses.

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
    if type(obj).__module__.startswith("torch") and hasattr(obj, "tolist"):  # a tensor
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


def read_json(path: str | Path) -> Any:
    """Parse the UTF-8 JSON file ``path``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def ordered_map(
    fn: Callable[[T], R], items: Iterable[T], executor: Executor | None = None, window: int = 1
) -> Iterator[R]:
    """``map(fn, items)`` in input order with at most ``window`` tasks pending (bounded memory).

    Without an executor the items are mapped lazily in this thread.
    """
    if executor is None:
        for item in items:
            yield fn(item)
        return
    pending = []
    for item in items:
        pending.append(executor.submit(fn, item))
        if len(pending) >= window:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()
