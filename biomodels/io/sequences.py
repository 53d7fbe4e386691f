"""Read FASTA, FASTQ and GenBank files (plain or gzip) into :class:`SequenceRecord` streams.

Parsing is Biopython's (``Bio.SeqIO``); this module picks the format, checks each record's
letters against an IUPAC alphabet and turns every parser failure into a one-line
:class:`~biomodels.exceptions.InputError` that names the file, the record and the reason.
A record is never kept with an error (a :class:`~biomodels.types.SequenceRecord` has no error
field): a record that is malformed, has letters outside its alphabet or has an empty sequence
stops the read with such an error.

Record numbers and letter positions in messages are 0-based, like :attr:`SequenceRecord.index`.
"""

from __future__ import annotations

import gzip
import logging
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from Bio import BiopythonParserWarning, SeqIO
from Bio.Seq import UndefinedSequenceError
from Bio.SeqFeature import SeqFeature
from Bio.SeqRecord import SeqRecord

from biomodels.exceptions import InputError, UnknownNameError
from biomodels.io.textfiles import DEFAULT_ENCODING, check_encoding, decode_error
from biomodels.types import SequenceRecord

logger = logging.getLogger(__name__)

__all__ = [
    "ALPHABETS",
    "FORMATS",
    "Alphabet",
    "detect_alphabet",
    "get_alphabet",
    "read_sequences",
]


@dataclass(frozen=True)
class Alphabet:
    """The letters a sequence of one kind may hold.

    Attributes:
        name: ``"dna"``, ``"rna"`` or ``"protein"``.
        standard: the unambiguous letters in lexicographic order (what one-hot and k-mer
            features count).
        extra: IUPAC ambiguity codes, gaps and stops, valid in a sequence but not standard.
    """

    name: str
    standard: str
    extra: str

    @property
    def letters(self) -> str:
        """Every valid upper-case letter: standard ones first, then the extras."""
        return self.standard + self.extra

    @property
    def allowed(self) -> frozenset[str]:
        """Valid characters in either case, for set arithmetic on a whole sequence."""
        return frozenset(self.letters + self.letters.lower())


# Order matters: detection takes the first alphabet a sequence fits, and DNA letters are also
# protein letters, so the narrower nucleotide alphabets come first.
ALPHABETS: dict[str, Alphabet] = {
    "dna": Alphabet("dna", "ACGT", "RYSWKMBDHVN-."),
    "rna": Alphabet("rna", "ACGU", "RYSWKMBDHVN-."),
    "protein": Alphabet("protein", "ACDEFGHIKLMNPQRSTVWY", "BZXJUO*-"),
}

# Biopython format name for each file extension (after any ``.gz`` is stripped).
FORMATS: dict[str, str] = {
    ".fa": "fasta",
    ".fasta": "fasta",
    ".fna": "fasta",
    ".ffn": "fasta",
    ".faa": "fasta",
    ".fas": "fasta",
    ".fq": "fastq",
    ".fastq": "fastq",
    ".gb": "genbank",
    ".gbk": "genbank",
    ".genbank": "genbank",
}
_SUPPORTED = sorted(set(FORMATS.values()))
_GZIP_MAGIC = b"\x1f\x8b"
_PEEK_BYTES = 1 << 16
_MAX_SHOWN = 5  # bad letters listed in a message, so it stays one short line
# Biopython's only sign that a GenBank file ended inside a record's sequence: it warns and
# yields the truncated record. We turn that one warning into an error.
_GENBANK_TRUNCATED = "Premature end of file in sequence data"


def get_alphabet(name: str) -> Alphabet:
    """Return the alphabet called ``name``; the error lists the valid names."""
    try:
        return ALPHABETS[name]
    except KeyError:
        raise UnknownNameError("alphabet", name, list(ALPHABETS)) from None


def detect_alphabet(sequence: str) -> str:
    """Name the first alphabet (dna, rna, protein) whose letters cover ``sequence``.

    Case is ignored. An empty sequence fits every alphabet and is reported as ``"dna"``.

    Raises:
        ValueError: the sequence fits no alphabet; the message names the closest alphabet and
            the letters it lacks, with their first positions.
    """
    letters = set(sequence)
    for alphabet in ALPHABETS.values():
        if letters <= alphabet.allowed:
            return alphabet.name
    closest = min(ALPHABETS.values(), key=lambda a: len(letters - a.allowed))
    raise ValueError(f"fits no alphabet ({', '.join(ALPHABETS)}); {_outside(sequence, closest)}")


def read_sequences(
    path: str | Path,
    format: str | None = None,
    alphabet: str | None = None,
    validate: bool = True,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[SequenceRecord]:
    """Stream the records of a FASTA, FASTQ or GenBank file, plain or gzip-compressed.

    The file is opened and checked (exists, not empty, not binary, known format) before this
    function returns; records are then parsed one at a time as the iterator is consumed, so
    files larger than memory are fine.

    Args:
        path: the file. Gzip compression is recognised from the content, not the name.
        format: ``"fasta"``, ``"fastq"`` or ``"genbank"``. By default it comes from the
            extension (after stripping ``.gz``), or, for unknown extensions, from the first
            non-blank text: ``>`` FASTA, ``@`` FASTQ, ``LOCUS`` GenBank.
        alphabet: ``"dna"``, ``"rna"`` or ``"protein"``: every record must fit it. ``None``
            detects each record's alphabet with :func:`detect_alphabet`.
        validate: check letters against the alphabet. When ``False`` no record is rejected for
            its letters; ``record.alphabet`` is then ``alphabet``, or the detected one, or
            ``None`` when nothing fits.
        encoding: the file's text encoding, decoded strictly.

    Yields:
        One :class:`SequenceRecord` per record, sequence upper-cased; FASTQ records carry Phred
        ``qualities``, GenBank records their ``features``.

    Raises:
        InputError: the file is missing, empty, binary or of unknown format (raised at once),
            or a record is malformed, truncated, has an empty sequence or letters outside the
            alphabet, or a line does not decode in ``encoding`` (raised while iterating, naming
            the 0-based record number reached, or the line).
        UnknownNameError: ``alphabet`` is not a known alphabet name.
    """
    path = Path(path)
    fixed = get_alphabet(alphabet) if alphabet is not None else None
    check_encoding(encoding)
    gzipped, head = _peek(path)
    if not head:
        raise InputError(path, "empty file: no records")
    if b"\x00" in head:
        raise InputError(path, "binary file, not FASTA, FASTQ or GenBank text")
    fmt = _resolve_format(path, format, head)
    logger.debug("reading %s as %s%s", path, fmt, " (gzip)" if gzipped else "")
    return _records(path, fmt, gzipped, fixed, validate, encoding)


def _peek(path: Path) -> tuple[bool, bytes]:
    """Return whether ``path`` is gzipped and its first non-blank bytes (``b""`` if blank)."""
    try:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == _GZIP_MAGIC
        with _open(path, gzipped, "rb") as handle:
            while chunk := handle.read(_PEEK_BYTES):
                if stripped := chunk.lstrip():
                    return gzipped, stripped
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a file") from None
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(path, f"cannot read: {_one_line(error)}") from None
    return gzipped, b""


def _open(path: Path, gzipped: bool, mode: str, encoding: str = DEFAULT_ENCODING) -> IO:
    """Open ``path`` for reading in ``mode`` (``"rb"`` or ``"rt"`` in ``encoding``), decompressing gzip."""
    encoding = encoding if mode == "rt" else None
    if gzipped:
        return gzip.open(path, mode, encoding=encoding)
    return path.open(mode, encoding=encoding)


def _resolve_format(path: Path, format: str | None, head: bytes) -> str:
    """Pick the format: explicit, else from the extension, else from the first text."""
    supported = ", ".join(_SUPPORTED)
    if format is not None:
        if format.lower() not in _SUPPORTED:
            raise InputError(path, f"unknown format {format!r}; supported formats: {supported}")
        return format.lower()
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in FORMATS:
        return FORMATS[suffixes[-1]]
    if head.startswith(b">"):
        return "fasta"
    if head.startswith(b"@"):
        return "fastq"
    if head.startswith(b"LOCUS"):
        return "genbank"
    raise InputError(
        path,
        "unknown format: the extension is not one of "
        f"{', '.join(FORMATS)} (optionally .gz) and the text does not start like "
        f"FASTA ('>'), FASTQ ('@') or GenBank ('LOCUS'); supported formats: {supported}",
    )


def _records(
    path: Path, fmt: str, gzipped: bool, fixed: Alphabet | None, validate: bool, encoding: str
) -> Iterator[SequenceRecord]:
    """Parse ``path`` with Biopython, converting each record and each failure."""
    index = 0
    with _open(path, gzipped, "rt", encoding) as handle:
        parsed = _parse(handle, fmt)
        while True:
            try:
                record = _next_record(parsed, fmt)
            except UnicodeDecodeError:
                raise decode_error(path, encoding, record=index) from None
            except BiopythonParserWarning:
                raise InputError(
                    path, "truncated record: file ends without the '//' end marker", record=index
                ) from None
            # Malformed text makes Biopython's parsers (the GenBank scanner above all) fail with
            # assorted types: ValueError, AssertionError, AttributeError, IndexError, and
            # EOFError/OSError/zlib.error from a damaged gzip stream. The try holds only the
            # parser call, so whatever it raises is a fault of the input.
            except Exception as error:
                raise InputError(path, f"malformed {fmt}: {_one_line(error)}", record=index) from None
            if record is None:
                break
            yield _convert(record, index, path, fixed, validate)
            index += 1
    if index == 0:
        raise InputError(path, f"no {fmt} records found")


def _parse(handle: IO[str], fmt: str) -> Iterator[SeqRecord]:
    """Biopython's record iterator, created lazily: some parsers read the first line in their
    constructor, and their errors must surface inside :func:`_records`' error handling."""
    yield from SeqIO.parse(handle, fmt)


def _next_record(parsed: Iterator[SeqRecord], fmt: str) -> SeqRecord | None:
    """Return the next parsed record, or ``None`` at the end of the file.

    For GenBank, the one warning that means "truncated record" is raised as an error for the
    length of this call only (``catch_warnings`` changes process-wide state, so it is kept
    short and never held across a ``yield``).
    """
    if fmt != "genbank":
        return next(parsed, None)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=_GENBANK_TRUNCATED, category=BiopythonParserWarning)
        return next(parsed, None)


def _convert(
    record: SeqRecord, index: int, path: Path, fixed: Alphabet | None, validate: bool
) -> SequenceRecord:
    """Turn a Biopython record into a :class:`SequenceRecord`, checking its letters."""
    where = f"sequence {record.id!r}"
    try:
        # Biopython keeps sequences as UTF-8 bytes and str() decodes them as ASCII, failing on
        # other characters; decoding here lets the alphabet check report them with positions.
        sequence = _upper(bytes(record.seq).decode("utf-8"))
    except UndefinedSequenceError:
        raise InputError(path, f"{where} has no sequence data", record=index) from None
    if not sequence:  # would fit every alphabet: detection would call it DNA
        raise InputError(path, f"{where} is empty", record=index)
    if fixed is not None:
        name: str | None = fixed.name
        if validate and not set(sequence) <= fixed.allowed:
            raise InputError(path, f"{where}: {_outside(sequence, fixed)}", record=index)
    else:
        try:
            name = detect_alphabet(sequence)
        except ValueError as error:
            if validate:
                raise InputError(path, f"{where} {error}", record=index) from None
            name = None
    phred = record.letter_annotations.get("phred_quality")
    return SequenceRecord(
        index=index,
        id=record.id,
        description=record.description,
        sequence=sequence,
        qualities=None if phred is None else list(phred),
        features=[_feature(f) for f in record.features],
        alphabet=name,
    )


def _feature(feature: SeqFeature) -> dict[str, Any]:
    """A GenBank feature as a plain dict; ``start``/``end`` are 0-based, end-exclusive, and
    ``parts`` lists ``[start, end, strand]`` of each exon of a joined location, in the order
    Biopython extracts them (what a CDS needs to be spliced and translated)."""
    location = feature.location
    return {
        "type": feature.type,
        "location": None if location is None else str(location),
        "start": None if location is None else int(location.start),
        "end": None if location is None else int(location.end),
        "strand": None if location is None else location.strand,
        "parts": [] if location is None else [[int(p.start), int(p.end), p.strand] for p in location.parts],
        "qualifiers": {key: list(values) for key, values in feature.qualifiers.items()},
    }


def _outside(sequence: str, alphabet: Alphabet) -> str:
    """Describe the letters of ``sequence`` outside ``alphabet`` and where each first occurs."""
    first = {c: sequence.index(c) for c in set(sequence) - alphabet.allowed}
    ordered = sorted(first, key=first.get)
    shown = ", ".join(f"{c!r} at position {first[c]}" for c in ordered[:_MAX_SHOWN])
    more = f" and {len(ordered) - _MAX_SHOWN} more" if len(ordered) > _MAX_SHOWN else ""
    return f"characters outside the {alphabet.name} alphabet: {shown}{more}"


def _upper(sequence: str) -> str:
    """Upper-case ASCII letters only: ``str.upper`` can change the length ("ß" -> "SS"),
    which would misalign FASTQ qualities and the positions in error messages."""
    if sequence.isascii():
        return sequence.upper()
    return "".join(c.upper() if c.isascii() else c for c in sequence)


def _one_line(error: BaseException) -> str:
    """The first paragraph of an exception's message on one line, control characters escaped."""
    text = " ".join(str(error).split("\n\n")[0].split()) or type(error).__name__
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
