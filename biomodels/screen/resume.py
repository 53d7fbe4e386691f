"""Resumable screening output: one Parquet part per committed chunk, assembled at the end.

While a run screens ``OUT``, finished chunks are committed to ``OUT.parts/`` (``OUT`` being the
output file's full name, e.g. ``hits.parquet.parts/``)::

    manifest.json            library and model fingerprints and the output options
    part-000000.parquet      chunk 0's rows: written to a temporary name, then renamed
    part-000001.parquet      ...

A rename is atomic, so a part is either whole or absent, whenever the run is killed. A run
started again with ``resume=True`` checks the manifest against the library, models and options
it was given (any difference is an error that touches nothing) and screens only the chunks
without a part. The output is assembled from the parts in chunk order, made visible under its
name by a rename, and the folder is then removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

import biomodels
from biomodels.exceptions import InputError
from biomodels.screen.writer import ChunkedTableWriter
from biomodels.utils import atomic_path, write_json

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_PART = re.compile(r"part-(\d{6,})\.parquet")
_BLOCK_BYTES = 1 << 22


def parts_dir(out: str | Path) -> Path:
    """The folder of committed chunks of output ``out``: ``<out>.parts``."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """Identify a library file by its whole content: absolute path, size and a BLAKE2b hash.

    BLAKE2b streams at about 1 GB/s (MOSES train, 70 MB gzipped, in well under a second), so
    an edit anywhere in the file, even one that keeps the size and the modification time, is
    caught; the modification time is not part of the fingerprint (a copy resumes).
    """
    path = Path(path).resolve()
    digest = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK_BYTES), b""):
            digest.update(block)
    return {"path": str(path), "size": path.stat().st_size, "blake2b": digest.hexdigest()}


def model_fingerprint(run_dir: str | Path) -> dict[str, str]:
    """Identify a trained model by a hash of every file of its ``model/`` folder."""
    model = Path(run_dir).resolve() / "model"
    digest = hashlib.sha256()
    for file in sorted(p for p in model.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(model)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda h=handle: h.read(_BLOCK_BYTES), b""):
                digest.update(block)
    return {"run_dir": str(model.parent), "sha256": digest.hexdigest()}


class PartStore:
    """The committed chunks of one output file (see the module docstring).

    Use :meth:`open`; then :meth:`commit` each chunk, :meth:`assemble` the output and
    :meth:`remove` the folder.
    """

    def __init__(self, folder: Path, manifest: dict[str, Any]):
        self.folder = folder
        self.manifest = manifest

    @classmethod
    def open(cls, out: str | Path, manifest: dict[str, Any], resume: bool) -> PartStore:
        """Start the parts folder of ``out``, or reopen it to resume.

        Args:
            out: the output file.
            manifest: what identifies the run: ``library``, ``models`` and ``options``
                entries (JSON-serialisable), compared key by key on resume.
            resume: continue an interrupted run if its folder exists.

        Raises:
            InputError: the folder holds committed chunks and ``resume`` is False (suggesting
                ``--resume`` or removing it), or they belong to a run with another library,
                models or options.
        """
        folder = parts_dir(out)
        manifest = {**manifest, "biomodels": biomodels.__version__}
        store = cls(folder, manifest)
        if folder.is_dir() and store.has_progress():
            if not resume:
                raise InputError(
                    folder,
                    "holds the chunks of an interrupted run of this output; pass "
                    "--resume to continue it, or remove the folder to start over",
                )
            if not (folder / MANIFEST).exists():
                raise InputError(folder, f"holds chunks but no {MANIFEST}; remove the folder to start over")
            store._check(json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
            logger.info("resuming %s: %d chunks already done", out, len(store.committed()))
        else:  # nothing committed yet (or a start that failed early): begin afresh
            folder.mkdir(parents=True, exist_ok=True)
            write_json(folder / MANIFEST, manifest)
        for stale in folder.glob(".part-*"):  # temporary files of a killed commit
            stale.unlink()
        return store

    def _check(self, previous: dict[str, Any]) -> None:
        for key, what in (("library", "library"), ("models", "models"), ("options", "options")):
            if previous.get(key) != self.manifest.get(key):
                raise InputError(
                    self.folder,
                    f"cannot resume: the {what} differ from the interrupted run's "
                    f"(was {json.dumps(previous.get(key), sort_keys=True)}, now "
                    f"{json.dumps(self.manifest.get(key), sort_keys=True)}); rerun with the same "
                    "ones, or remove the folder to start over",
                )

    def has_progress(self) -> bool:
        """Whether anything was committed: a chunk, or a phase's folder (a cascade's)."""
        return bool(self.committed()) or any(p.is_dir() for p in self.folder.iterdir())

    def committed(self) -> dict[int, int]:
        """``{chunk index: rows}`` of the chunks committed so far."""
        return {
            int(match.group(1)): pq.ParquetFile(path).metadata.num_rows
            for path in self.folder.iterdir()
            if (match := _PART.fullmatch(path.name))
        }

    def part_path(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}.parquet"

    def commit(self, index: int, frame: pd.DataFrame) -> None:
        """Write chunk ``index`` atomically (temporary file, then rename)."""
        with atomic_path(self.part_path(index)) as tmp:
            frame.to_parquet(tmp, index=False)

    def iter_parts(self) -> Iterator[pd.DataFrame]:
        """The committed chunks in order, checked to tile the rows ``0..n-1`` without a gap."""
        indices = sorted(self.committed())
        if indices != list(range(len(indices))):
            missing = sorted(set(range(max(indices, default=-1) + 1)) - set(indices))
            raise InputError(self.folder, f"chunks {missing[:10]} are missing; rerun with --resume")
        next_row = 0
        for index in indices:
            frame = pd.read_parquet(self.part_path(index))
            rows = frame["row"].to_numpy()
            if (rows != next_row + np.arange(len(rows))).any():
                raise InputError(self.part_path(index), f"rows do not follow on from row {next_row - 1}")
            next_row += len(rows)
            yield frame

    def assemble(self, out: str | Path) -> int:
        """Write the parts, in order, as ``out`` (made visible atomically); returns the rows."""
        with ChunkedTableWriter(out) as writer:
            for frame in self.iter_parts():
                writer.write(frame)
        return writer.rows

    def remove(self) -> None:
        """Delete the parts folder (after the output is assembled)."""
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder)


def run_manifest(library: str | Path, run_dirs: list[Path], options: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest entries that a resumed run must match."""
    return {
        "library": file_fingerprint(library),
        "models": [model_fingerprint(d) for d in run_dirs],
        "options": json.loads(json.dumps(options, default=str)),
    }
