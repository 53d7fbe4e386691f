"""Streaming molecule reader for SMILES files, CSV/TSV (plain or gz), Parquet and SDF (plain or gz).

Reading happens in two stages so that parsing can move to worker processes:

* :func:`iter_raw_chunks` reads the file in constant memory and yields lists of
  :class:`RawRecord` (row number, id, SMILES text or mol block, other columns) without RDKit.
* :class:`MoleculeParser` turns a raw record into a :class:`~biomodels.types.MoleculeRecord`,
  with RDKit's error log captured into the record's ``error`` instead of the terminal.

:func:`read_molecules` chains the two for the common case.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdkit import Chem, rdBase

from biomodels.chem.standardize import Standardizer
from biomodels.exceptions import ColumnNotFoundError, InputError
from biomodels.io.textfiles import DEFAULT_ENCODING, check_encoding, open_text, read_errors
from biomodels.types import MoleculeRecord
from biomodels.utils import printable

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

SMILES_COLUMN_NAMES = ("smiles", "canonical_smiles", "mol")
ID_COLUMN_NAMES = ("id", "name", "mol_id", "compound_id", "molecule_chembl_id", "chembl_id")
FORMATS = ("smi", "csv", "tsv", "parquet", "sdf")
_SUFFIX_FORMATS = {
    ".smi": "smi", ".smiles": "smi", ".ism": "smi", ".can": "smi",
    ".csv": "csv", ".tsv": "tsv", ".txt": "tsv",
    ".parquet": "parquet", ".pq": "parquet",
    ".sdf": "sdf", ".sd": "sdf", ".mol": "sdf",
}  # fmt: skip


@dataclass(slots=True)
class RawRecord:
    """One unparsed input record: ``text`` is a SMILES string or, for SDF, a mol block."""

    row: int
    id: str | None
    text: str | None
    props: dict[str, Any] = field(default_factory=dict)
    is_molblock: bool = False


def detect_format(path: str | Path) -> str:
    """Return the molecule file format from the file name (``.gz`` is looked through)."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    fmt = _SUFFIX_FORMATS.get(Path(name).suffix)
    if fmt is None:
        raise InputError(
            path, f"cannot tell the molecule format from the file name; supported: {', '.join(FORMATS)}"
        )
    return fmt


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a directory, expected a molecule file")


def _find_column(
    path: Path, columns: list[str], wanted: str | None, candidates: tuple[str, ...], what: str
) -> str | None:
    """Resolve a column by exact name, else case-insensitively, else by the candidate names."""
    if wanted is not None:
        if wanted in columns:
            return wanted
        by_lower = {c.lower(): c for c in columns}
        if wanted.lower() in by_lower:
            return by_lower[wanted.lower()]
        raise ColumnNotFoundError(path, wanted, columns)
    by_lower = {c.lower().strip(): c for c in columns}
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    if what == "SMILES":
        raise InputError(
            path,
            f"no SMILES column found (looked for {', '.join(candidates)}, any case); pass the "
            f"column name; columns are: {', '.join(columns)}",
        )
    return None


def _table_chunks(path: Path, fmt: str, chunk_size: int, encoding: str) -> Iterator[Any]:
    """Yield pandas DataFrames of string cells, ``chunk_size`` rows at a time.

    Blank lines are rows (of empty cells): every line of the file keeps its row number.
    """
    import pandas as pd

    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise InputError(path, f"not a readable Parquet file ({exc})") from None
        if parquet.metadata.num_rows == 0:
            raise InputError(path, "empty file: no rows")
        for batch in parquet.iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
        return
    try:
        reader = pd.read_csv(
            path,
            sep="\t" if fmt == "tsv" else ",",
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            chunksize=chunk_size,
            compression="infer",
            encoding=encoding,
        )
        yielded = False
        for chunk in reader:
            if len(chunk):
                yielded = True
                yield chunk
    except pd.errors.EmptyDataError:
        raise InputError(path, "empty file: no header and no rows") from None
    except pd.errors.ParserError as exc:
        raise InputError(path, f"malformed table: {' '.join(str(exc).split())}") from None
    if not yielded:
        raise InputError(path, "empty file: a header but no rows")


def _iter_table(
    path: Path, fmt: str, smiles_col: str | None, id_col: str | None, chunk_size: int, encoding: str
) -> Iterator[list[RawRecord]]:
    return _frames_to_raws(path, _table_chunks(path, fmt, chunk_size, encoding), smiles_col, id_col)


def _frames_to_raws(
    path: Path | None, frames: Iterable[Any], smiles_col: str | None, id_col: str | None
) -> Iterator[list[RawRecord]]:
    """Raw records of DataFrames of string cells, numbered on from 0 across the frames."""
    row = 0
    smiles_name = id_name = None
    for frame in frames:
        if smiles_name is None:
            columns = [str(c) for c in frame.columns]
            smiles_name = _find_column(path, columns, smiles_col, SMILES_COLUMN_NAMES, "SMILES")
            id_name = _find_column(path, columns, id_col, ID_COLUMN_NAMES, "id")
            other = [c for c in columns if c not in (smiles_name, id_name)]
        smiles = frame[smiles_name].tolist()
        ids = frame[id_name].tolist() if id_name is not None else [None] * len(frame)
        props = frame[other].to_dict("records") if other else [{} for _ in range(len(frame))]
        chunk = []
        for text, rid, prop in zip(smiles, ids, props, strict=True):
            chunk.append(RawRecord(row, None if rid is None else str(rid), text, prop))
            row += 1
        yield chunk


def _iter_smi(path: Path, chunk_size: int, encoding: str) -> Iterator[list[RawRecord]]:
    """SMILES file: one record a line, ``SMILES [id ...]``; a first line ``smiles ...`` is a header."""
    row = 0
    chunk: list[RawRecord] = []
    with open_text(path, encoding) as handle:
        for line_number, line in enumerate(handle):
            fields = line.split(None, 1)
            if line_number == 0:
                if not line.strip():
                    pass  # an empty first line is still a record (reported as empty below)
                elif fields[0].lower() in ("smiles", "smi"):
                    continue
            text = fields[0] if fields else ""
            rid = fields[1].strip() if len(fields) > 1 else None
            chunk.append(RawRecord(row, rid, text))
            row += 1
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
    elif row == 0:
        raise InputError(path, "empty file: no SMILES records")


def _iter_sdf(path: Path, chunk_size: int, encoding: str) -> Iterator[list[RawRecord]]:
    """SDF: records end at ``$$$$``; a last record without the terminator is still read."""
    row = 0
    chunk: list[RawRecord] = []
    lines: list[str] = []
    with open_text(path, encoding) as handle:
        for line in handle:
            if line.startswith("$$$$"):
                chunk.append(_sdf_raw(row, lines, terminated=True))
                row += 1
                lines = []
                if len(chunk) >= chunk_size:
                    yield chunk
                    chunk = []
            else:
                lines.append(line)
    if any(line.strip() for line in lines):
        chunk.append(_sdf_raw(row, lines, terminated=False))
        row += 1
    if chunk:
        yield chunk
    elif row == 0:
        raise InputError(path, "empty file: no SDF records")


def _sdf_raw(row: int, lines: list[str], terminated: bool) -> RawRecord:
    title = lines[0].strip() if lines else ""
    props = {} if terminated else {"_truncated": True}
    return RawRecord(row, title or None, "".join(lines), props, is_molblock=True)


def records_from(
    data: Any, smiles_col: str | None = None, id_col: str | None = None, encoding: str = DEFAULT_ENCODING
) -> list[RawRecord]:
    """Raw records of molecules given in memory or as a file, for models' ``predict``.

    Args:
        data: a list of SMILES strings (rows numbered from 0, no ids), a pandas DataFrame (its
            SMILES and id columns found as in a table file), or the path of a molecule file
            (read whole: stream large files with :func:`iter_raw_chunks`).
        encoding: the file's text encoding.

    Raises:
        InputError: a string that is not an existing file, or a table without a SMILES column.
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        frame = data.astype(object).where(data.notna(), "").astype(str)
        return [r for chunk in _frames_to_raws(None, [frame], smiles_col, id_col) for r in chunk]
    if isinstance(data, (str, Path)):
        if not Path(data).is_file():
            raise InputError(data, "no such file (pass SMILES as a list of strings)")
        return [r for chunk in iter_raw_chunks(data, smiles_col, id_col, encoding=encoding) for r in chunk]
    return [RawRecord(row, None, "" if text is None else str(text)) for row, text in enumerate(data)]


def iter_raw_chunks(
    path: str | Path,
    smiles_col: str | None = None,
    id_col: str | None = None,
    chunk_size: int = 10_000,
    format: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[list[RawRecord]]:
    """Read a molecule file in constant memory, ``chunk_size`` raw records at a time.

    Every record of the file comes out, blank lines of text files included (as empty records),
    so row numbers are the file's data lines (or SDF records), counted from 0.

    Args:
        path: ``.smi``, ``.csv``, ``.tsv``, ``.parquet``, ``.sdf`` (``.gz`` allowed except Parquet).
        smiles_col: SMILES column of a table; detected from ``smiles``, ``canonical_smiles``,
            ``mol`` (any case) when not given.
        id_col: id column of a table; detected from common names (``id``, ``name``...) when not given.
        chunk_size: records per yielded list.
        format: overrides the format detected from the file name.
        encoding: the text encoding of a text file (not Parquet), decoded strictly.

    Raises:
        InputError: missing or empty file, unknown format, unknown column (listing the columns),
            a line the encoding cannot decode (naming it), a damaged or truncated ``.gz`` file
            (naming the last good row).
    """
    path = Path(path)
    check_encoding(encoding)
    _check_readable(path)
    fmt = format or detect_format(path)
    if fmt == "smi":
        chunks = _iter_smi(path, chunk_size, encoding)
    elif fmt == "sdf":
        chunks = _iter_sdf(path, chunk_size, encoding)
    elif fmt in ("csv", "tsv", "parquet"):
        chunks = _iter_table(path, fmt, smiles_col, id_col, chunk_size, encoding)
    else:
        raise InputError(path, f"unknown format {fmt!r}; supported: {', '.join(FORMATS)}")
    rows = 0
    with read_errors(path, encoding, lambda: rows):
        for chunk in chunks:
            rows += len(chunk)
            yield chunk


_SANITIZE_WITHOUT_STEREO = (
    Chem.SanitizeFlags.SANITIZE_ALL
    ^ Chem.SanitizeFlags.SANITIZE_CLEANUPCHIRALITY
    ^ Chem.SanitizeFlags.SANITIZE_CLEANUPATROPISOMERS
)


def has_stereo_marks(smiles: str | None) -> bool:
    """Whether a SMILES may carry stereo (``@``, ``/``, ``\\``); True when it is unknown."""
    return smiles is None or "@" in smiles or "/" in smiles or "\\" in smiles


def smiles_to_mol(smiles: str) -> Chem.Mol | None:
    """Parse and sanitise a SMILES string; same molecule as ``Chem.MolFromSmiles``, faster.

    SMILES without stereo marks or explicit hydrogens skip the stereo perception and H removal
    that ``MolFromSmiles`` always runs (about a third of its time), and the chirality and
    atropisomer clean-up steps of sanitisation, which have nothing to clean without stereo
    marks. Returns ``None`` when the SMILES does not parse (the reason is in RDKit's error log)
    and raises RDKit's sanitisation exceptions (valence, kekulisation) with their message.
    """
    if has_stereo_marks(smiles) or "[H" in smiles or "[2H" in smiles:
        return Chem.MolFromSmiles(smiles)
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is not None:
        Chem.SanitizeMol(mol, _SANITIZE_WITHOUT_STEREO)
    return mol


_RDKIT_LOG_LOCK = threading.Lock()
_LOG_PREFIX = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*")


def _clean_rdkit_log(text: str) -> str:
    """Turn RDKit's multi-line error log into one line, dropping the position-marker art."""
    kept: list[str] = []
    lines = [_LOG_PREFIX.sub("", line).strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if not line or set(line) <= {"~", "^", " "}:
            continue
        if index > 0 and "check for mistakes around position" in lines[index - 1]:
            continue  # the echoed input under the position hint
        if line not in kept:
            kept.append(line)
    return "; ".join(kept)


MAX_ECHO = 200
"""Characters of an input an error message quotes at most (RDKit quotes a bad SMILES whole)."""
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def smiles_fault(text: str) -> str | None:
    """Why ``text`` (stripped) cannot be one SMILES, before RDKit sees it, or None.

    RDKit reads ``"c1ccccc1 Cl"`` as benzene named ``Cl`` and a SMILES cut at a line break as
    its first part, so whitespace inside is refused, as are control characters (which RDKit's
    messages would cut at) and non-ASCII characters.
    """
    if text.isascii() and text.isprintable() and " " not in text:
        return None
    if any(char in _LINE_BREAKS for char in text):
        return "SMILES contains a line break"
    if any(char.isspace() for char in text):
        return "SMILES contains whitespace"
    for position, char in enumerate(text):
        if not char.isprintable():
            return f"SMILES contains a control character: '{printable(char)}' at position {position}"
    return "SMILES contains non-ASCII characters"


def _quote_input(reason: str, text: str | None) -> str:
    """``reason`` quoting at most :data:`MAX_ECHO` characters of the input ``text``, one line.

    RDKit repeats a bad SMILES up to three times in its message: a long one is quoted once, cut,
    and its repeats become ``...``.
    """
    if text and len(text) > MAX_ECHO:
        reason = reason.replace(text, printable(text, MAX_ECHO), 1).replace(text, "...")
    if len(reason) > 5 * MAX_ECHO:  # whatever else a parser echoed
        reason = printable(reason, 5 * MAX_ECHO)
    return reason if reason.isprintable() else printable(reason)


def _captured(capture: rdBase.CaptureErrorLog) -> str:
    """The captured RDKit log so far ('' if RDKit wrote bytes that are not UTF-8)."""
    try:
        return capture.messages
    except UnicodeDecodeError:
        return ""


@dataclass
class MoleculeParser:
    """Parses raw records into :class:`MoleculeRecord` objects, optionally standardising them.

    Picklable, so it can be sent to worker processes. Use :meth:`parse_chunk` to parse many
    records under one RDKit log capture (much cheaper than one capture per record).
    """

    standardize: bool = False
    canonical_tautomer: bool = False

    def __post_init__(self) -> None:
        self._standardizer = (
            Standardizer(canonical_tautomer=self.canonical_tautomer) if self.standardize else None
        )

    def parse_chunk(self, raws: Iterable[RawRecord]) -> list[MoleculeRecord]:
        records = []
        # RDKit's log is process-wide: threads parsing at once would read each other's errors.
        with _RDKIT_LOG_LOCK, rdBase.BlockLogs(), rdBase.CaptureErrorLog() as capture:
            seen = 0
            for raw in raws:
                record = self._parse_one(raw)
                if record.mol is None and record.error is None:
                    messages = _captured(capture)
                    reason = _clean_rdkit_log(messages[seen:])
                    record.error = reason or "RDKit could not parse the record"
                if record.error is not None:
                    seen = len(_captured(capture))
                    record.error = _quote_input(record.error, record.smiles)
                if record.id is not None and not record.id.isprintable():
                    record.id = printable(record.id)
                records.append(record)
        return records

    def _parse_one(self, raw: RawRecord) -> MoleculeRecord:
        text = raw.text
        if raw.is_molblock:
            return self._parse_molblock(raw)
        if text is None or not str(text).strip():
            shown = None if text is None else printable(str(text))
            return MoleculeRecord(raw.row, raw.id, shown, None, raw.props, "empty SMILES")
        text = str(text).strip()
        fault = smiles_fault(text)
        if fault is not None:  # the text is echoed escaped: no control character reaches an output
            return MoleculeRecord(raw.row, raw.id, printable(text), None, raw.props, fault)
        try:
            mol = smiles_to_mol(text)
        except Exception as exc:  # RDKit's sanitisation exceptions carry the reason
            return MoleculeRecord(raw.row, raw.id, text, None, raw.props, " ".join(str(exc).split()))
        if mol is None:
            return MoleculeRecord(raw.row, raw.id, text, None, raw.props)
        if mol.GetNumAtoms() == 0:
            return MoleculeRecord(raw.row, raw.id, text, None, raw.props, "SMILES has no atoms")
        return self._finish(MoleculeRecord(raw.row, raw.id, text, mol, raw.props))

    def _parse_molblock(self, raw: RawRecord) -> MoleculeRecord:
        props = dict(raw.props)
        truncated = props.pop("_truncated", False)
        if not (raw.text or "").strip():
            return MoleculeRecord(raw.row, raw.id, None, None, props, "empty SDF record")
        supplier = Chem.ForwardSDMolSupplier(io.BytesIO(raw.text.encode()), removeHs=True)
        mol = next(iter(supplier), None)
        if mol is None:
            reason = "truncated SDF record (file ends without $$$$)" if truncated else None
            return MoleculeRecord(raw.row, raw.id, None, None, props, reason)
        props.update(mol.GetPropsAsDict(includePrivate=False, includeComputed=False))
        if mol.GetNumAtoms() == 0:
            return MoleculeRecord(raw.row, raw.id, None, None, props, "SDF record has no atoms")
        record = MoleculeRecord(raw.row, raw.id, Chem.MolToSmiles(mol), mol, props)
        return self._finish(record)

    def _finish(self, record: MoleculeRecord) -> MoleculeRecord:
        if self._standardizer is None:
            return record
        try:
            record.mol = self._standardizer(record.mol)
        except Exception as exc:  # RDKit raises bare RuntimeError/ValueError subclasses
            record.mol, record.error = None, f"standardisation failed: {exc}"
        return record


def iter_molecule_chunks(
    path: str | Path,
    smiles_col: str | None = None,
    id_col: str | None = None,
    standardize: bool = False,
    canonical_tautomer: bool = False,
    chunk_size: int = 10_000,
    format: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[list[MoleculeRecord]]:
    """Like :func:`read_molecules`, yielding parsed records a chunk at a time."""
    parser = MoleculeParser(standardize=standardize, canonical_tautomer=canonical_tautomer)
    for raws in iter_raw_chunks(path, smiles_col, id_col, chunk_size, format, encoding):
        yield parser.parse_chunk(raws)


def column_values(records: Sequence[RawRecord | MoleculeRecord], columns: Sequence[str]) -> dict[str, list]:
    """The named columns (or SD properties) of ``records`` as text, ``None`` where a record lacks one.

    Table cells are already text; SD property values (numbers once parsed) become ``str(value)``.
    """
    return {
        column: [None if (v := r.props.get(column)) is None else str(v) for r in records]
        for column in columns
    }


def check_columns(path: str | Path | None, columns: Sequence[str], available: Iterable[str]) -> None:
    """Raise :class:`ColumnNotFoundError` for the first of ``columns`` not in ``available``."""
    available = list(available)
    missing = [c for c in columns if c not in available]
    if missing:
        raise ColumnNotFoundError(path, missing[0], available)


def property_names(records: Iterable[RawRecord | MoleculeRecord]) -> list[str]:
    """Names of the columns (or SD properties) the records carry, in order of first appearance."""
    return list(dict.fromkeys(name for r in records for name in r.props))


def read_columns(
    path: str | Path,
    columns: Sequence[str],
    smiles_col: str | None = None,
    id_col: str | None = None,
    chunk_size: int = 10_000,
    encoding: str = DEFAULT_ENCODING,
) -> pd.DataFrame:
    """Read named columns (or SD properties) of every record, in input order, as text.

    Table rows are not parsed (the cells are read as they are); SDF records are, since their
    properties sit inside the mol block.

    Raises:
        ColumnNotFoundError: a column no record has (listing the ones they have).
    """
    import pandas as pd

    parser = MoleculeParser()
    frames, seen = [], []
    for raws in iter_raw_chunks(path, smiles_col, id_col, chunk_size, encoding=encoding):
        sdf = raws[0].is_molblock
        records = parser.parse_chunk(raws) if sdf else raws
        if not sdf:  # every row of a table has the same columns: fail on the first chunk
            check_columns(path, columns, raws[0].props)
        seen = list(dict.fromkeys([*seen, *property_names(records)]))
        frames.append(pd.DataFrame(column_values(records, columns)))
    check_columns(path, columns, seen)
    return pd.concat(frames, ignore_index=True)


def read_molecules(
    path: str | Path,
    smiles_col: str | None = None,
    id_col: str | None = None,
    standardize: bool = False,
    canonical_tautomer: bool = False,
    chunk_size: int = 10_000,
    format: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[MoleculeRecord]:
    """Stream the molecules of a file, one record per input row, invalid rows included.

    Memory stays constant however long the file is. Every input record comes out, in order,
    carrying its 0-based ``row`` and either an RDKit ``mol`` or an ``error`` reason (unparsable
    SMILES, sanitisation failure, empty record or blank line, whitespace or control characters
    inside a SMILES), so nothing is dropped or misread silently.

    Args:
        path: ``.smi``, ``.csv``, ``.tsv``, ``.csv.gz``, ``.parquet``, ``.sdf`` or ``.sdf.gz``.
        smiles_col: SMILES column for tables (detected when ``None``).
        id_col: id column for tables (detected when ``None``; ``.smi`` ids are the second field,
            SDF ids the record title).
        standardize: apply :class:`~biomodels.chem.standardize.Standardizer` (largest fragment,
            neutralise); see :mod:`biomodels.chem.standardize` for exactly what changes.
        canonical_tautomer: also replace each molecule by RDKit's canonical tautomer.
        chunk_size: records read and parsed together (affects memory, not results).
        format: overrides the format detected from the file name.
        encoding: the text encoding of a text file, decoded strictly (UTF-8 by default).

    Raises:
        InputError: the file is missing, empty, of unknown format, lacks the column, does not
            decode in ``encoding`` or is a damaged ``.gz`` file.
    """
    for chunk in iter_molecule_chunks(
        path, smiles_col, id_col, standardize, canonical_tautomer, chunk_size, format, encoding
    ):
        yield from chunk
