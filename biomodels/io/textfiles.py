"""Opening text input files: a named encoding decoded strictly, gzip, one-line errors.

Every text reader (molecule files, text and vector tables, sequence files) opens its file
through here, so that a byte the encoding cannot decode, or a ``.gz`` file that ends early, is
one :class:`~biomodels.exceptions.InputError` naming the file and where (never a bare
``UnicodeDecodeError`` at "position 0", never replacement characters read as data):

* :func:`open_text` opens a file (``.gz`` decompressed) in an encoding, strictly;
* :func:`read_errors` wraps a read, turning decoding and gzip failures into such errors;
* :func:`decode_error` finds the first line of a file that does not decode.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from biomodels.exceptions import InputError

__all__ = ["DEFAULT_ENCODING", "check_encoding", "decode_error", "open_binary", "open_text", "read_errors"]

DEFAULT_ENCODING = "utf-8"
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def check_encoding(encoding: str) -> str:
    """``encoding`` when Python knows it as a text encoding.

    Raises:
        InputError: an unknown encoding name.
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise InputError(None, f"unknown text encoding {encoding!r} (e.g. utf-8, latin-1, cp1252)")
    return encoding


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def open_binary(path: str | Path) -> BinaryIO:
    """The file's bytes, decompressed when its name ends in ``.gz``."""
    path = Path(path)
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def open_text(path: str | Path, encoding: str = DEFAULT_ENCODING) -> io.TextIOBase:
    """The file as text in ``encoding``, decoded strictly, line ends kept as they are."""
    check_encoding(encoding)
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors="strict", newline="")


def decode_error(path: str | Path, encoding: str, record: int | None = None) -> InputError:
    """The error for a file that does not decode: its first undecodable line, and what to pass
    (``record``: the record being read, when the reader knows it)."""
    suggestion = "utf-8" if codecs.lookup(encoding).name != "utf-8" else "latin-1"
    advice = f"pass the file's encoding, e.g. --encoding {suggestion}"
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    number = 0
    try:
        with open_binary(path) as handle:
            for number, line in enumerate(handle, 1):
                try:
                    decoder.decode(line)
                except UnicodeDecodeError as exc:
                    byte = line[exc.start : exc.start + 1]
                    what = f"byte 0x{byte.hex()}" if byte else "a byte"
                    reason = f"line {number}: {what} is not {encoding} text; {advice}"
                    return InputError(path, reason, record)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return InputError(path, f"line {number}: ends inside a {encoding} character; {advice}", record)
    except (OSError, *_GZIP_ERRORS):
        pass
    return InputError(path, f"not {encoding} text; {advice}", record)


@contextlib.contextmanager
def read_errors(path: str | Path, encoding: str, last_row: Callable[[], int] | None = None) -> Iterator[None]:
    """Turn the failures of reading ``path`` inside the block into one-line input errors.

    Args:
        last_row: the number of records read so far, for the message of a truncated gzip file.

    Raises:
        InputError: a byte ``encoding`` cannot decode (naming the line), or a damaged or
            truncated gzip stream (naming the last complete record read).
    """
    try:
        yield
    except UnicodeDecodeError:
        raise decode_error(path, encoding) from None
    except _GZIP_ERRORS as exc:
        done = None if last_row is None else last_row()
        where = ""
        if done is not None:
            where = f"; the last good record read is row {done - 1}" if done else "; no record could be read"
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(path, f"damaged or truncated gzip file ({reason}){where}") from None
