"""Errors raised by biomodels. Each names what was wrong and where."""

from __future__ import annotations

from pathlib import Path


class BiomodelsError(Exception):
    """Base class: the CLI turns these into one-line messages without a traceback."""


class InputError(BiomodelsError, ValueError):
    """Bad input file or record: names the file, the record and the reason."""

    def __init__(self, path: str | Path | None, reason: str, record: str | int | None = None):
        self.path = None if path is None else str(path)
        self.record = record
        self.reason = reason
        where = self.path or "<input>"
        if record is not None:
            where += f", record {record}"
        super().__init__(f"{where}: {reason}")


class ColumnNotFoundError(InputError):
    """A requested column does not exist; lists the columns that do."""

    def __init__(self, path: str | Path | None, column: str, available: list[str]):
        self.column = column
        self.available = list(available)
        super().__init__(path, f"column {column!r} not found; columns are: {', '.join(map(str, available))}")


class OutputError(BiomodelsError, OSError):
    """An output could not be written (full disk, read-only or missing folder): names the path."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: cannot write ({reason})")

    def __str__(self) -> str:  # OSError would format its own arguments
        return self.args[0]


class CheckpointError(BiomodelsError):
    """A checkpoint or run directory is missing, corrupt or does not match."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class UnknownNameError(BiomodelsError, KeyError):
    """A registry lookup failed; lists the valid names."""

    def __init__(self, kind: str, name: str, choices: list[str]):
        self.kind, self.name, self.choices = kind, name, list(choices)
        super().__init__(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(choices))}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]
