"""Featurise whole files: chunked, on all cores, cached on disk, every row accounted for.

Workers receive raw text chunks (no RDKit objects cross process boundaries), parse and
featurise them, and return features plus a per-row table of ``row, id, smiles, error``.
Results come back in input order with at most ``2 * workers`` chunks in flight, so memory
stays bounded for libraries of any size.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import biomodels
from biomodels.featurize.base import Featurizer, get_featurizer
from biomodels.featurize.graph import GraphArrays
from biomodels.io.molecules import MoleculeParser, RawRecord, iter_raw_chunks
from biomodels.utils import ordered_map

logger = logging.getLogger(__name__)

META_COLUMNS = ("row", "id", "smiles", "error")


@dataclass
class FeaturizedChunk:
    """Features of the valid rows of one chunk and the metadata of all its rows.

    Attributes:
        meta: one row per input record: ``row, id, smiles, error`` (error NaN when valid).
        valid: boolean mask over ``meta`` rows that were featurised.
        features: features of the valid rows only, in order (array or GraphArrays).
    """

    meta: pd.DataFrame
    valid: np.ndarray
    features: Any


def featurize_raw_chunk(
    raws: list[RawRecord], featurizer: Featurizer, parser: MoleculeParser
) -> FeaturizedChunk:
    """Parse and featurise one raw chunk (runs inside worker processes)."""
    records = parser.parse_chunk(raws)
    good = [r for r in records if r.ok]
    features = featurizer.featurize_chunk([r.mol for r in good], [r.smiles for r in good])
    meta = pd.DataFrame(
        {
            "row": [r.row for r in records],
            "id": [r.id for r in records],
            "smiles": [r.smiles for r in records],
            "error": [r.error for r in records],
        }
    )
    return FeaturizedChunk(meta, np.array([r.ok for r in records], bool), features)


class _ChunkJob:
    """Picklable callable for worker processes."""

    def __init__(self, featurizer: Featurizer, parser: MoleculeParser):
        self.featurizer, self.parser = featurizer, parser

    def __call__(self, raws: list[RawRecord]) -> FeaturizedChunk:
        return featurize_raw_chunk(raws, self.featurizer, self.parser)


def iter_featurized_chunks(
    path: str | Path,
    featurizer: Featurizer | str,
    smiles_col: str | None = None,
    id_col: str | None = None,
    standardize: bool = False,
    workers: int = 1,
    chunk_size: int = 2000,
) -> Iterator[FeaturizedChunk]:
    """Stream featurised chunks of a molecule file in input order.

    Args:
        path: any file :func:`~biomodels.io.read_molecules` reads.
        featurizer: a featurizer or its registry name.
        workers: processes to use; ``1`` runs in this process, ``0`` uses every core.
        chunk_size: records per task.
    """
    if isinstance(featurizer, str):
        featurizer = get_featurizer(featurizer)
    parser = MoleculeParser(standardize=standardize)
    if workers == 0:
        workers = os.cpu_count() or 1
    raw_chunks = iter_raw_chunks(path, smiles_col, id_col, chunk_size)
    job = _ChunkJob(featurizer, parser)
    if workers <= 1:
        yield from ordered_map(job, raw_chunks, None, 1)
        return
    with ProcessPoolExecutor(max_workers=workers) as executor:
        yield from ordered_map(job, raw_chunks, executor, 2 * workers)


@dataclass
class FeaturizedTable:
    """A whole featurised file: metadata of every row and features of the valid ones."""

    meta: pd.DataFrame
    valid: np.ndarray
    features: Any

    @property
    def errors(self) -> pd.DataFrame:
        """Rows that could not be featurised, with their reason."""
        return self.meta.loc[~self.valid, ["row", "id", "error"]].rename(columns={"error": "reason"})


def join_chunks(chunks: list[FeaturizedChunk]) -> FeaturizedTable:
    """Concatenate featurised chunks (in input order) into one table."""
    meta = pd.concat([c.meta for c in chunks], ignore_index=True)
    valid = np.concatenate([c.valid for c in chunks])
    if isinstance(chunks[0].features, GraphArrays):
        features = GraphArrays.concat([c.features for c in chunks])
    else:
        features = np.concatenate([c.features for c in chunks])
    return FeaturizedTable(meta, valid, features)


def featurize_sequence_file(
    path: str | Path, featurizer: Featurizer | str, format: str | None = None
) -> FeaturizedTable:
    """Featurise every record of a FASTA/FASTQ/GenBank file (a sequence featurizer)."""
    from biomodels.io.sequences import read_sequences

    if isinstance(featurizer, str):
        featurizer = get_featurizer(featurizer)
    records = list(read_sequences(path, format=format))
    meta = pd.DataFrame(
        {
            "row": [r.index for r in records],
            "id": [r.id for r in records],
            "sequence": [r.sequence for r in records],
            "error": [None] * len(records),
        }
    )
    features = featurizer.featurize_chunk([r.sequence for r in records])
    return FeaturizedTable(meta, np.ones(len(records), bool), features)


def default_cache_dir() -> Path:
    """``$BIOMODELS_CACHE_DIR``, else ``~/.cache/biomodels``."""
    env = os.environ.get("BIOMODELS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "biomodels"


def cache_key(path: str | Path, featurizer: Featurizer, **options: Any) -> str:
    """Content hash of the input file plus the featurizer config and read options."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(
        json.dumps(
            [featurizer.config(), options, biomodels.__version__], sort_keys=True, default=str
        ).encode()
    )
    return digest.hexdigest()[:32]


def featurize_file(
    path: str | Path,
    featurizer: Featurizer | str,
    smiles_col: str | None = None,
    id_col: str | None = None,
    standardize: bool = False,
    workers: int = 1,
    chunk_size: int = 2000,
    cache_dir: str | Path | None = None,
    use_cache: bool = False,
) -> FeaturizedTable:
    """Featurise a whole file into memory, optionally through the on-disk cache.

    The cache is keyed by the file's content, the featurizer config and the read options, so
    training runs and ensemble members featurise a data set once.
    """
    if isinstance(featurizer, str):
        featurizer = get_featurizer(featurizer)
    cache_file = None
    if use_cache:
        key = cache_key(path, featurizer, smiles_col=smiles_col, id_col=id_col, standardize=standardize)
        cache_file = Path(cache_dir or default_cache_dir()) / f"{featurizer.name}-{key}.npz"
        if cache_file.exists():
            try:
                return _load_table(cache_file)
            except Exception as exc:  # a damaged cache entry is rebuilt, never trusted
                logger.warning("ignoring unreadable cache entry %s (%s)", cache_file, exc)
    chunks = list(
        iter_featurized_chunks(path, featurizer, smiles_col, id_col, standardize, workers, chunk_size)
    )
    table = join_chunks(chunks)
    if cache_file is not None:
        _save_table(table, cache_file)
    return table


def _save_table(table: FeaturizedTable, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {"valid": table.valid}
    for column in META_COLUMNS:
        arrays[f"meta_{column}"] = (
            table.meta[column].astype(object).where(table.meta[column].notna(), None).to_numpy().astype("U")
        )
        arrays[f"meta_{column}_isnull"] = table.meta[column].isna().to_numpy()
    if isinstance(table.features, GraphArrays):
        for name, value in vars(table.features).items():
            arrays[f"graph_{name}"] = value
    else:
        arrays["features"] = table.features
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _load_table(path: Path) -> FeaturizedTable:
    with np.load(path, allow_pickle=False) as data:
        meta = {}
        for column in META_COLUMNS:
            values = data[f"meta_{column}"].astype(object)
            values[data[f"meta_{column}_isnull"]] = None
            meta[column] = values
        meta_df = pd.DataFrame(meta)
        meta_df["row"] = meta_df["row"].astype(np.int64)
        if "graph_atom_codes" in data:
            features = GraphArrays(**{k[6:]: data[k] for k in data.files if k.startswith("graph_")})
        else:
            features = data["features"]
        return FeaturizedTable(meta_df, data["valid"], features)
