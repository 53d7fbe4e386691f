"""Chunked table output for screens: :class:`~biomodels.io.tablewriter.ChunkedTableWriter`,
which lives in ``io`` so that every workflow can stream its outputs the same way."""

from biomodels.io.tablewriter import TABLE_SUFFIXES, ChunkedTableWriter

__all__ = ["TABLE_SUFFIXES", "ChunkedTableWriter"]
