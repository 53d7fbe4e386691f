"""Featurise whole files: chunked, on all cores, cached on disk, every row accounted for.

Workers receive raw text chunks (no RDKit objects cross process boundaries), parse each record
once and run every requested featurizer on the same RDKit molecules, and return the features
plus a per-row table of ``row, id, smiles, error`` (and, when asked, named columns of the file
as text, such as training targets). Results come back in input order with at most
``2 * workers`` chunks in flight, so memory stays bounded for libraries of any size.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import biomodels
from biomodels.cache import default_cache_dir, load_cache_entry, save_npz
from biomodels.featurize.base import Featurizer, get_featurizer
from biomodels.featurize.graph import GraphArrays
from biomodels.io.molecules import (
    MoleculeParser,
    RawRecord,
    check_columns,
    column_values,
    iter_raw_chunks,
    property_names,
    read_columns,
)
from biomodels.io.textfiles import DEFAULT_ENCODING
from biomodels.utils import ordered_map

logger = logging.getLogger(__name__)

META_COLUMNS = ("row", "id", "smiles", "error")

FeaturizerSpec = Featurizer | str | Sequence[Featurizer | str]
"""One featurizer or several, each given as an instance or a registry name."""


def as_featurizers(spec: FeaturizerSpec) -> list[Featurizer]:
    """The featurizers of ``spec``, in order.

    Raises:
        ValueError: two featurizers share a name (their outputs are keyed by it).
    """
    items = [spec] if isinstance(spec, str) or not isinstance(spec, Sequence) else list(spec)
    featurizers = [get_featurizer(f) if isinstance(f, str) else f for f in items]
    names = [f.name for f in featurizers]
    if len(set(names)) != len(names):
        raise ValueError(f"featurizers must have distinct names, got {', '.join(names)}")
    return featurizers


def _column_list(columns: Sequence[str] | str) -> list[str]:
    return [columns] if isinstance(columns, str) else list(columns)


@dataclass
class FeaturizedChunk:
    """Features of the valid rows of one chunk and the metadata of all its rows.

    Attributes:
        meta: one row per input record: ``row, id, smiles, error`` (error NaN when valid).
        valid: boolean mask over ``meta`` rows that were featurised.
        outputs: ``{featurizer name: features of the valid rows, in order}`` (an ``n_valid x D``
            array, or :class:`GraphArrays`), one entry per featurizer, in the order asked.
        columns: the named columns asked for, one row per input record, as text (``None`` where
            a record lacks the column); no columns when none were asked.
        column_names: the columns (or SD properties) the chunk's records carry.
    """

    meta: pd.DataFrame
    valid: np.ndarray
    outputs: dict[str, Any]
    columns: pd.DataFrame = field(default_factory=pd.DataFrame)
    column_names: list[str] = field(default_factory=list)

    @property
    def features(self) -> Any:
        """The first featurizer's output (the only one when a single featurizer was asked)."""
        if not self.outputs:
            raise ValueError("no featurizer was run: only the metadata and columns were read")
        return next(iter(self.outputs.values()))


def featurize_raw_chunk(
    raws: list[RawRecord],
    featurizers: Featurizer | Sequence[Featurizer],
    parser: MoleculeParser,
    columns: Sequence[str] = (),
) -> FeaturizedChunk:
    """Parse one raw chunk and run every featurizer on the same molecules (runs in workers)."""
    featurizers = [featurizers] if not isinstance(featurizers, Sequence) else featurizers
    records = parser.parse_chunk(raws)
    good = [r for r in records if r.ok]
    mols, texts = [r.mol for r in good], [r.smiles for r in good]
    outputs = {f.name: f.featurize_chunk(mols, texts) for f in featurizers}
    meta = pd.DataFrame(  # object columns: the same dtypes whatever a chunk holds, and from the cache
        {
            "row": np.array([r.row for r in records], dtype=np.int64),
            "id": pd.Series([r.id for r in records], dtype=object),
            "smiles": pd.Series([r.smiles for r in records], dtype=object),
            "error": pd.Series([r.error for r in records], dtype=object),
        }
    )
    return FeaturizedChunk(
        meta,
        np.array([r.ok for r in records], bool),
        outputs,
        pd.DataFrame(column_values(records, columns), index=meta.index) if columns else pd.DataFrame(),
        property_names(records) if columns else [],
    )


class _ChunkJob:
    """Picklable callable for worker processes."""

    def __init__(self, featurizers: list[Featurizer], parser: MoleculeParser, columns: Sequence[str]):
        self.featurizers, self.parser, self.columns = featurizers, parser, tuple(columns)

    def __call__(self, raws: list[RawRecord]) -> FeaturizedChunk:
        return featurize_raw_chunk(raws, self.featurizers, self.parser, self.columns)


def _checked_columns(
    path: str | Path, raw_chunks: Iterable[list[RawRecord]], columns: Sequence[str]
) -> Iterator[list[RawRecord]]:
    """Pass ``raw_chunks`` through, failing before any parsing on a column a table lacks."""
    for raws in raw_chunks:
        if columns and raws and not raws[0].is_molblock:  # SD properties are known once parsed
            check_columns(path, columns, raws[0].props)
        yield raws


def iter_featurized_chunks(
    path: str | Path,
    featurizer: FeaturizerSpec,
    smiles_col: str | None = None,
    id_col: str | None = None,
    standardize: bool = False,
    workers: int = 1,
    chunk_size: int = 2000,
    columns: Sequence[str] = (),
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[FeaturizedChunk]:
    """Stream featurised chunks of a molecule file in input order, in one read of the file.

    Each record is parsed once, and every featurizer runs on the same molecule.

    Args:
        path: any file :func:`~biomodels.io.read_molecules` reads.
        featurizer: a featurizer or its registry name, or several (see :func:`as_featurizers`).
        workers: processes to use; ``1`` runs in this process, ``0`` uses every core.
        chunk_size: records per task.
        columns: columns of the file (or SD properties) to return with each chunk, as text.
        encoding: the file's text encoding, decoded strictly.

    Raises:
        ColumnNotFoundError: a table lacks one of ``columns`` (raised before any parsing).
        InputError: what :func:`~biomodels.io.molecules.iter_raw_chunks` raises (a line the
            encoding cannot decode, a damaged ``.gz`` file...).
    """
    featurizers, columns = as_featurizers(featurizer), _column_list(columns)
    parser = MoleculeParser(standardize=standardize)
    if workers == 0:
        workers = os.cpu_count() or 1
    raws = iter_raw_chunks(path, smiles_col, id_col, chunk_size, encoding=encoding)
    raw_chunks = _checked_columns(path, raws, columns)
    job = _ChunkJob(featurizers, parser, columns)
    if workers <= 1:
        yield from ordered_map(job, raw_chunks, None, 1)
        return
    with ProcessPoolExecutor(max_workers=workers) as executor:
        yield from ordered_map(job, raw_chunks, executor, 2 * workers)


class FeaturizedTable(FeaturizedChunk):
    """A whole featurised file: the :class:`FeaturizedChunk` fields for every row of it."""

    @property
    def errors(self) -> pd.DataFrame:
        """Rows that could not be featurised, with their reason."""
        return self.meta.loc[~self.valid, ["row", "id", "error"]].rename(columns={"error": "reason"})


def join_chunks(chunks: list[FeaturizedChunk]) -> FeaturizedTable:
    """Concatenate featurised chunks (in input order) into one table."""
    meta = pd.concat([c.meta for c in chunks], ignore_index=True)
    valid = np.concatenate([c.valid for c in chunks])
    outputs = {}
    for name, first in chunks[0].outputs.items():
        parts = [c.outputs[name] for c in chunks]
        outputs[name] = GraphArrays.concat(parts) if isinstance(first, GraphArrays) else np.concatenate(parts)
    columns = pd.concat([c.columns for c in chunks], ignore_index=True)
    names = list(dict.fromkeys(name for c in chunks for name in c.column_names))
    return FeaturizedTable(meta, valid, outputs, columns, names)


def featurize_sequence_file(
    path: str | Path,
    featurizer: Featurizer | str,
    format: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> FeaturizedTable:
    """Featurise every record of a FASTA/FASTQ/GenBank file (a sequence featurizer)."""
    from biomodels.io.sequences import read_sequences

    if isinstance(featurizer, str):
        featurizer = get_featurizer(featurizer)
    records = list(read_sequences(path, format=format, encoding=encoding))
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


def file_digest(path: str | Path) -> Any:
    """The SHA-256 state of ``path``'s content, to be extended by :func:`cache_key`."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


def cache_key(digest: Any, config: dict[str, Any], **options: Any) -> str:
    """Key of one cache entry: the file's content hash plus a featurizer config and read options."""
    digest = digest.copy()
    digest.update(json.dumps([config, options, biomodels.__version__], sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def featurize_file(
    path: str | Path,
    featurizer: FeaturizerSpec,
    smiles_col: str | None = None,
    id_col: str | None = None,
    standardize: bool = False,
    workers: int = 1,
    chunk_size: int = 2000,
    cache_dir: str | Path | None = None,
    use_cache: bool = False,
    columns: Sequence[str] = (),
    encoding: str = DEFAULT_ENCODING,
) -> FeaturizedTable:
    """Featurise a whole file into memory in one read, optionally through the on-disk cache.

    With several featurizers each record is still parsed once. The cache holds one entry per
    featurizer, keyed by the file's content, the featurizer config and the read options (so
    adding a featurizer to a cached one computes only the new one), and one entry per set of
    ``columns``: training runs and ensemble members featurise a data set once.

    Args:
        featurizer: a featurizer or its registry name, or several (see :func:`as_featurizers`).
        columns: columns of the file (or SD properties) to read as text with the features.
        encoding: the file's text encoding, decoded strictly.

    Raises:
        ColumnNotFoundError: a column the file lacks (listing the ones it has).
        InputError: what :func:`iter_featurized_chunks` raises.
    """
    featurizers = as_featurizers(featurizer)
    options = {"smiles_col": smiles_col, "id_col": id_col, "standardize": standardize}
    if encoding != DEFAULT_ENCODING:  # the same file read in another encoding is other text
        options["encoding"] = encoding
    columns = _column_list(columns)
    entries: dict[str, Path] = {}
    loaded: dict[str, FeaturizedTable] = {}
    columns_file = cached_columns = None
    if use_cache:
        digest, folder = file_digest(path), Path(cache_dir or default_cache_dir())
        for f in featurizers:
            entries[f.name] = folder / f"{f.name}-{cache_key(digest, f.config(), **options)}.npz"
            table = load_cache_entry(entries[f.name], lambda file, name=f.name: _load_table(file, name))
            if table is not None:
                loaded[f.name] = table
        if columns:
            key = cache_key(digest, {"columns": columns}, **options)
            columns_file = folder / f"columns-{key}.npz"
            cached_columns = load_cache_entry(columns_file, _load_columns)
    missing = [f for f in featurizers if f.name not in loaded]
    read = columns if columns and cached_columns is None else []
    computed = None
    if missing or not loaded:
        chunks = iter_featurized_chunks(
            path, missing, smiles_col, id_col, standardize, workers, chunk_size, read, encoding
        )
        computed = join_chunks(list(chunks))
        if read:  # SD properties are only known once every record is parsed
            check_columns(path, read, computed.column_names)
    base = computed if computed is not None else next(iter(loaded.values()))
    if not read:
        table_columns = cached_columns if columns else pd.DataFrame()
    elif computed is not None:
        table_columns = computed.columns
    else:
        table_columns = read_columns(path, columns, smiles_col, id_col, encoding=encoding)
    found = {name: table.outputs[name] for name, table in loaded.items()}
    found.update(computed.outputs if computed is not None else {})
    outputs = {f.name: found[f.name] for f in featurizers}
    if use_cache:
        for f in missing:
            _save_table(FeaturizedTable(base.meta, base.valid, {f.name: outputs[f.name]}), entries[f.name])
        if read:
            _save_columns(table_columns, columns_file)
    return FeaturizedTable(base.meta, base.valid, outputs, table_columns)


def _text_arrays(prefix: str, values: pd.Series) -> dict[str, np.ndarray]:
    """A column of text or None as a unicode array plus its null mask (no pickled objects)."""
    return {
        prefix: values.astype(object).where(values.notna(), None).to_numpy().astype("U"),
        f"{prefix}_isnull": values.isna().to_numpy(),
    }


def _read_text(data: Any, prefix: str) -> pd.Series:
    values = data[prefix].astype(object)
    values[data[f"{prefix}_isnull"]] = None
    return pd.Series(values, dtype=object)  # as written: pandas would infer a string dtype


def _save_table(table: FeaturizedTable, path: Path) -> None:
    """One featurizer's entry: the rows' metadata and that featurizer's features."""
    arrays: dict[str, np.ndarray] = {"valid": table.valid}
    for column in META_COLUMNS:
        arrays.update(_text_arrays(f"meta_{column}", table.meta[column]))
    if isinstance(table.features, GraphArrays):
        for name, value in vars(table.features).items():
            arrays[f"graph_{name}"] = value
    else:
        arrays["features"] = table.features
    save_npz(path, arrays)


def _load_table(path: Path, name: str) -> FeaturizedTable:
    with np.load(path, allow_pickle=False) as data:
        meta = pd.DataFrame({column: _read_text(data, f"meta_{column}") for column in META_COLUMNS})
        meta["row"] = meta["row"].astype(np.int64)
        if "graph_atom_codes" in data:
            features = GraphArrays(**{k[6:]: data[k] for k in data.files if k.startswith("graph_")})
        else:
            features = data["features"]
        return FeaturizedTable(meta, data["valid"], {name: features})


def _save_columns(columns: pd.DataFrame, path: Path) -> None:
    arrays = {"names": np.array(list(columns.columns), dtype="U")}
    for i, name in enumerate(columns.columns):
        arrays.update(_text_arrays(f"column_{i}", columns[name]))
    save_npz(path, arrays)


def _load_columns(path: Path) -> pd.DataFrame:
    with np.load(path, allow_pickle=False) as data:
        return pd.DataFrame(
            {str(name): _read_text(data, f"column_{i}") for i, name in enumerate(data["names"])}
        )
