"""Arbitrary bytes and text through every reader and through ``predict``.

Whatever the input, a reader either gives records or raises a one-line
:class:`~biomodels.exceptions.BiomodelsError`; a table gives one record per physical data row,
numbered in order; a prediction table has one row per input and no control character.
"""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biomodels.exceptions import BiomodelsError
from biomodels.io import MoleculeParser, iter_raw_chunks
from biomodels.io.sequences import read_sequences
from biomodels.io.text import read_text_table
from biomodels.train.run import load_run

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MOLECULE_SUFFIXES = [".csv", ".tsv", ".smi", ".sdf", ".csv.gz", ".parquet"]
SEQUENCE_SUFFIXES = [".fasta", ".fastq", ".gb", ".fa.gz"]

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)  # encodable as UTF-8
LINE_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=30)


def outcome(read: Callable[[], Any]) -> Any:
    """``read()``'s result, or None when it raised a one-line BiomodelsError (anything else fails)."""
    try:
        return read()
    except BiomodelsError as exc:
        assert "\n" not in str(exc), str(exc)
        return None


def write(folder: str, name: str, data: bytes) -> Path:
    path = Path(folder) / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def parse_file(path: Path, **options: Any) -> list:
    parser = MoleculeParser()
    return [r for raws in iter_raw_chunks(path, chunk_size=7, **options) for r in parser.parse_chunk(raws)]


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from(MOLECULE_SUFFIXES))
def test_arbitrary_bytes_through_the_molecule_readers(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        records = outcome(lambda: parse_file(write(folder, f"m{suffix}", data)))
    if records is not None:
        assert [r.row for r in records] == list(range(len(records)))
        assert all(r.ok or r.error for r in records)


ROW = st.one_of(
    st.sampled_from(["", "   ", "\t"]),  # a blank or whitespace-only line
    st.tuples(TEXT, TEXT),  # a smiles and an id, quoted where needed
)


def table_text(rows: list, sep: str) -> str:
    """The table of ``rows``; fields holding a line break are quoted (a bare CR ends a line)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    out.write(f"smiles{sep}id\n")
    for row in rows:
        if isinstance(row, str):
            out.write(row + "\n")
        else:
            writer.writerow(row)
    return out.getvalue()


@FUZZ
@given(rows=st.lists(ROW, min_size=1, max_size=12), sep=st.sampled_from([",", "\t"]), gz=st.booleans())
def test_every_physical_table_row_is_one_record(rows, sep, gz):
    name = ("m.csv" if sep == "," else "m.tsv") + (".gz" if gz else "")
    with tempfile.TemporaryDirectory() as folder:
        path = write(folder, name, table_text(rows, sep).encode())
        records = parse_file(path)
    assert [r.row for r in records] == list(range(len(rows)))
    for row, record in zip(rows, records, strict=True):
        if isinstance(row, str) or not row[0].strip():
            assert record.error == "empty SMILES"
        assert (record.smiles or "").isprintable() and (record.id or "").isprintable()
        assert record.error is None or (record.error.isprintable() and len(record.error) < 1500)


@FUZZ
@given(lines=st.lists(LINE_TEXT, min_size=1, max_size=12))
def test_every_smi_line_is_one_record(lines):
    with tempfile.TemporaryDirectory() as folder:
        path = write(folder, "m.smi", ("\n".join(lines) + "\n").encode())
        records = parse_file(path)
    fields = lines[0].split(None, 1)
    header = bool(fields) and fields[0].lower() in ("smiles", "smi")
    assert len(records) == len(lines) - header
    assert [r.row for r in records] == list(range(len(records)))


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".tsv", ".csv.gz"]))
def test_arbitrary_bytes_through_the_text_table_reader(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        texts = outcome(lambda: read_text_table(write(folder, f"t{suffix}", data)))
    if texts is not None:
        assert len(texts.ids) == len(texts.texts) == len(texts.errors)


@FUZZ
@given(rows=st.lists(st.one_of(st.sampled_from(["", "   "]), st.tuples(TEXT, TEXT)), min_size=1, max_size=12))
def test_every_physical_text_table_row_is_one_text(rows):
    text = io.StringIO()
    text.write("text,label\n")
    writer = csv.writer(text, lineterminator="\r\n")
    for row in rows:
        text.write(row + "\n") if isinstance(row, str) else writer.writerow(row)
    with tempfile.TemporaryDirectory() as folder:
        texts = read_text_table(write(folder, "t.csv", text.getvalue().encode()), "text", "label")
    assert texts.ids == [str(i) for i in range(len(rows))]
    for row, error in zip(rows, texts.errors, strict=True):
        if isinstance(row, str) or not row[0].strip():
            assert error == "empty text"


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from(SEQUENCE_SUFFIXES))
def test_arbitrary_bytes_through_the_sequence_readers(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        records = outcome(lambda: list(read_sequences(write(folder, f"s{suffix}", data))))
    if records is not None:
        assert all(r.sequence for r in records)  # an empty sequence is an error, never "dna"


SEQUENCE = st.text(alphabet="ACGTacgtN", max_size=20)


@FUZZ
@given(sequences=st.lists(SEQUENCE, min_size=1, max_size=8))
def test_fasta_records_are_read_or_the_empty_one_is_named(sequences):
    text = "".join(f">r{i} record {i}\n{s}\n" for i, s in enumerate(sequences))
    with tempfile.TemporaryDirectory() as folder:
        path = write(folder, "s.fasta", text.encode())
        try:
            records = list(read_sequences(path))
        except BiomodelsError as exc:
            first = next(i for i, s in enumerate(sequences) if not s)
            assert str(exc) == f"{path}, record {first}: sequence 'r{first}' is empty"
        else:
            assert all(sequences) and [r.sequence for r in records] == [s.upper() for s in sequences]


@FUZZ
@given(texts=st.lists(st.one_of(TEXT, st.sampled_from(["CCO", "c1ccccc1 Cl", "C" * 300 + "("])), max_size=10))
def test_molecule_predict_gives_one_clean_row_per_input(molecule_run, texts):
    table = outcome(lambda: load_run(molecule_run).predict(texts))
    assert table is not None and table["row"].tolist() == list(range(len(texts)))
    for column in ("smiles", "error"):
        cells = [c for c in table[column] if isinstance(c, str)]
        assert all(c.isprintable() for c in cells)
    assert all(len(e) < 1500 for e in table["error"] if isinstance(e, str))
    valid = table["error"].isna().to_numpy()
    assert np.isfinite(table["logp"].to_numpy()[valid]).all()


@FUZZ
@given(texts=st.lists(st.one_of(TEXT, st.none()), max_size=10))
def test_text_predict_gives_one_row_per_input_with_its_oov_fraction(text_run, texts):
    table = outcome(lambda: load_run(text_run).predict(texts))
    assert table is not None and len(table) == len(texts)
    fractions = table["oov_fraction"].to_numpy()
    ok = table["error"].isna().to_numpy()
    assert ((fractions[ok] >= 0) & (fractions[ok] <= 1)).all() and np.isnan(fractions[~ok]).all()
