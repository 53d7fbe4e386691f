"""Chunked table output (CSV or Parquet row groups), made visible atomically at the end."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from biomodels.exceptions import InputError
from biomodels.utils import atomic_path

TABLE_SUFFIXES = (".csv", ".parquet")


class ChunkedTableWriter:
    """Append DataFrame chunks to ``path`` (``.csv`` or ``.parquet``); commit on clean exit.

    The file appears under its name only when the ``with`` block ends without error, so a
    crash never leaves a half-written output that looks complete; the hidden temporaries of
    this output that killed runs left beside it are removed when the next one starts.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.suffix not in TABLE_SUFFIXES:
            raise InputError(self.path, f"output must end in {' or '.join(TABLE_SUFFIXES)}")
        self.rows = 0
        self._atomic = atomic_path(self.path, clean_stale=True)
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def __enter__(self) -> ChunkedTableWriter:
        self._tmp = self._atomic.__enter__()
        return self

    def write(self, frame: pd.DataFrame) -> None:
        """Append one chunk (a Parquet row group); its columns must match the first chunk's.

        A column that is all missing in the first chunk (no errors yet, no ids) is stored as
        text, so later chunks holding strings there still fit.
        """
        if self.path.suffix == ".csv":
            frame.to_csv(self._tmp, mode="a" if self.rows else "w", header=not self.rows, index=False)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._schema = pa.schema(
                    [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
                ).remove_metadata()
                self._parquet = pq.ParquetWriter(self._tmp, self._schema)
            self._parquet.write_table(table.select(self._schema.names).cast(self._schema))
        self.rows += len(frame)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._parquet is not None:
            self._parquet.close()
        elif exc_type is None and self.path.suffix == ".parquet" and not self.rows:
            pq.write_table(pa.table({}), self._tmp)
        self._atomic.__exit__(exc_type, exc, tb)
