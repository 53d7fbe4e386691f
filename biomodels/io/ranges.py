"""Split a molecule file into ranges that workers read themselves, numbering rows as one reader would.

A cluster run should not ship the library from the client: each task names a *range* of the file
and the worker reads it. :func:`plan_ranges` cuts a file into :class:`LibraryRange` objects of
about ``chunk_size`` records and :func:`read_range` turns one range into
:class:`~biomodels.io.molecules.RawRecord` objects:

* ``.smi``, ``.csv``, ``.tsv`` and ``.sdf`` files are cut into **byte ranges** aligned to record
  boundaries (a line end; for SDF, the end of a ``$$$$`` line). Planning a plain file costs a
  seek and a line read per range. For a ``.gz`` file the offsets are in the decompressed text:
  planning decompresses the file once, and each range decompresses from the file's start up to
  its own bytes (cheap next to scoring them; still, decompress very large libraries first).
* ``.parquet`` files are cut into **record ranges**; each reads only the row groups it overlaps.
  CSV files that contain quote characters are cut into record ranges too, because a quoted
  field may hold a newline: each such range reads the file from its start (slow for big files;
  a warning says so).

Rows are numbered from 0 within each range. The row numbers of a whole-file read
(:func:`~biomodels.io.molecules.iter_raw_chunks`) are recovered by adding, to each range's rows,
the number of records of all ranges before it: the ranges tile the file in order.
"""

from __future__ import annotations

import io
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow.parquet as pq

from biomodels.io.molecules import (
    ID_COLUMN_NAMES,
    SMILES_COLUMN_NAMES,
    RawRecord,
    _find_column,
    _sdf_raw,
    detect_format,
    iter_raw_chunks,
)
from biomodels.io.textfiles import DEFAULT_ENCODING, open_binary, read_errors

logger = logging.getLogger(__name__)

__all__ = ["LibraryRange", "plan_ranges", "read_range"]

_SAMPLE_BYTES = 1 << 16


@dataclass(frozen=True)
class LibraryRange:
    """A contiguous share of a molecule file.

    Attributes:
        path: the file.
        format: ``smi``, ``csv``, ``tsv``, ``sdf`` or ``parquet``.
        unit: ``"bytes"`` (``start``/``stop`` are byte offsets at record boundaries) or
            ``"records"`` (0-based record numbers, stop excluded).
        start: first byte or record.
        stop: end byte or record (excluded).
        smiles_col: the table's SMILES column, resolved when planning (None for smi/sdf).
        id_col: the table's id column, resolved when planning (None when there is none).
        encoding: the file's text encoding.
    """

    path: str
    format: str
    unit: str
    start: int
    stop: int
    smiles_col: str | None = None
    id_col: str | None = None
    encoding: str = DEFAULT_ENCODING


def plan_ranges(
    path: str | Path,
    chunk_size: int = 5000,
    smiles_col: str | None = None,
    id_col: str | None = None,
    format: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> list[LibraryRange]:
    """Cut ``path`` into ranges of about ``chunk_size`` records that tile the file in order.

    Args:
        path: any file :func:`~biomodels.io.molecules.iter_raw_chunks` reads.
        chunk_size: records wanted per range (byte ranges aim at it from the average record
            length of the file's first 64 KB).
        smiles_col: SMILES column of a table (detected when not given).
        id_col: id column of a table (detected when not given).
        format: overrides the format detected from the file name.
        encoding: the file's text encoding.

    Raises:
        InputError: what :func:`~biomodels.io.molecules.iter_raw_chunks` raises for this file
            (missing, empty, unknown format or column), raised here rather than on a worker.
    """
    path = Path(path)
    next(iter_raw_chunks(path, smiles_col, id_col, 1, format, encoding))  # validates file and columns
    fmt = format or detect_format(path)
    smiles_name, id_name = _table_columns(path, fmt, smiles_col, id_col, encoding)

    def make(unit: str, start: int, stop: int) -> LibraryRange:
        return LibraryRange(str(path.resolve()), fmt, unit, start, stop, smiles_name, id_name, encoding)

    if fmt == "parquet":
        rows = pq.ParquetFile(path).metadata.num_rows
        return [make("records", s, min(s + chunk_size, rows)) for s in range(0, rows, chunk_size)]
    if fmt in ("csv", "tsv") and _has_quotes(path):
        logger.warning(
            "%s: quoted fields may hold line breaks, so the file is split by records and "
            "each range reads it from its start (slow for large files)",
            path,
        )
        chunks = iter_raw_chunks(path, smiles_col, id_col, 50_000, fmt, encoding)
        rows = sum(len(chunk) for chunk in chunks)
        return [make("records", s, min(s + chunk_size, rows)) for s in range(0, rows, chunk_size)]
    bounds = _byte_bounds(path, fmt, chunk_size)
    return [make("bytes", a, b) for a, b in itertools.pairwise(bounds)]


def read_range(rng: LibraryRange) -> list[RawRecord]:
    """Read one range's raw records, rows numbered from 0 within the range (see the module doc).

    Raises:
        InputError: bytes the range's encoding cannot decode (naming the line of the file).
    """
    if rng.unit == "records":
        return _read_records(rng)
    with read_errors(rng.path, rng.encoding):
        with open_binary(rng.path) as handle:
            header = handle.readline() if rng.format in ("csv", "tsv") else b""
            handle.seek(rng.start)
            data = handle.read(rng.stop - rng.start)
        if rng.format in ("csv", "tsv"):
            frame = pd.read_csv(
                io.BytesIO(header + data),
                sep="\t" if rng.format == "tsv" else ",",
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,  # as the whole-file reader: a blank line is a record
                encoding=rng.encoding,
            )
            return _frame_records(frame, rng)
        text = io.StringIO(data.decode(rng.encoding), newline="")
    return _sdf_records(text) if rng.format == "sdf" else _smi_records(text, first=rng.start == 0)


# --- planning -------------------------------------------------------------------------------------


def _table_columns(
    path: Path, fmt: str, smiles_col: str | None, id_col: str | None, encoding: str
) -> tuple[str | None, str | None]:
    """Resolve a table's SMILES and id column names as the whole-file reader does."""
    if fmt == "parquet":
        columns = list(pq.ParquetFile(path).schema_arrow.names)
    elif fmt in ("csv", "tsv"):
        sep = "\t" if fmt == "tsv" else ","
        columns = [str(c) for c in pd.read_csv(path, sep=sep, nrows=0, encoding=encoding).columns]
    else:
        return None, None
    return (
        _find_column(path, columns, smiles_col, SMILES_COLUMN_NAMES, "SMILES"),
        _find_column(path, columns, id_col, ID_COLUMN_NAMES, "id"),
    )


def _has_quotes(path: Path) -> bool:
    with open_binary(path) as handle:
        return any(b'"' in block for block in iter(lambda: handle.read(1 << 22), b""))


def _byte_bounds(path: Path, fmt: str, chunk_size: int) -> list[int]:
    """Offsets ``start, ..., end`` at record boundaries, about ``chunk_size`` records apart."""
    with open_binary(path) as handle:
        start = len(handle.readline()) if fmt in ("csv", "tsv") else 0
        handle.seek(start)
        sample = handle.read(_SAMPLE_BYTES)
        records = sample.count(b"\n$$$$") if fmt == "sdf" else sample.count(b"\n")
        step = max(1, len(sample) * chunk_size // max(records, 1))
        bounds = [start]
        while (boundary := _next_boundary(handle, bounds[-1] + step, fmt)) is not None:
            bounds.append(boundary)
        handle.seek(bounds[-1])
        while handle.read(1 << 22):  # to the end, for the (decompressed) size
            pass
        return [*bounds, handle.tell()]


def _next_boundary(handle: BinaryIO, position: int, fmt: str) -> int | None:
    """The first record boundary at or after ``position`` (just after a line end; for SDF, after
    a ``$$$$`` line), or None when no record starts there (the end of the file)."""
    handle.seek(position - 1)
    handle.readline()  # finish the line holding byte position - 1
    if fmt == "sdf":
        for line in iter(handle.readline, b""):
            if line.startswith(b"$$$$"):
                break
    return handle.tell() if handle.peek(1) else None


# --- reading --------------------------------------------------------------------------------------


def _read_records(rng: LibraryRange) -> list[RawRecord]:
    """Records ``start..stop`` of a Parquet file (only the overlapping row groups) or any file."""
    if rng.format != "parquet":
        chunks = iter_raw_chunks(rng.path, rng.smiles_col, rng.id_col, 10_000, rng.format, rng.encoding)
        raws = list(itertools.islice(itertools.chain.from_iterable(chunks), rng.start, rng.stop))
        for raw in raws:
            raw.row -= rng.start
        return raws
    parquet = pq.ParquetFile(rng.path)
    groups, first, offset = [], None, 0
    for group in range(parquet.metadata.num_row_groups):
        rows = parquet.metadata.row_group(group).num_rows
        if offset < rng.stop and offset + rows > rng.start:
            groups.append(group)
            first = offset if first is None else first
        offset += rows
    table = parquet.read_row_groups(groups).slice(rng.start - first, rng.stop - rng.start)
    return _frame_records(table.to_pandas(), rng)


def _frame_records(frame: pd.DataFrame, rng: LibraryRange) -> list[RawRecord]:
    """Rows of a table as raw records: SMILES, id and the other columns as properties."""
    other = [c for c in frame.columns if c not in (rng.smiles_col, rng.id_col)]
    ids: list[Any] = frame[rng.id_col].tolist() if rng.id_col is not None else [None] * len(frame)
    props = frame[other].to_dict("records") if other else [{} for _ in range(len(frame))]
    return [
        RawRecord(row, None if rid is None else str(rid), text, prop)
        for row, (text, rid, prop) in enumerate(zip(frame[rng.smiles_col].tolist(), ids, props, strict=True))
    ]


def _smi_records(text: io.StringIO, first: bool) -> list[RawRecord]:
    """SMILES-file lines as records; the file's first line is skipped when it is a header."""
    records = []
    for line_number, line in enumerate(text):
        fields = line.split(None, 1)
        if first and line_number == 0 and fields and fields[0].lower() in ("smiles", "smi"):
            continue
        rid = fields[1].strip() if len(fields) > 1 else None
        records.append(RawRecord(len(records), rid, fields[0] if fields else ""))
    return records


def _sdf_records(text: io.StringIO) -> list[RawRecord]:
    """SDF records of a range; a last record without ``$$$$`` (the file's end) is kept."""
    records: list[RawRecord] = []
    lines: list[str] = []
    for line in text:
        if line.startswith("$$$$"):
            records.append(_sdf_raw(len(records), lines, terminated=True))
            lines = []
        else:
            lines.append(line)
    if any(line.strip() for line in lines):
        records.append(_sdf_raw(len(records), lines, terminated=False))
    return records
