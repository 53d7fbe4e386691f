"""Bad input is never read as something else: every physical row is a record, odd text an error row,
undecodable or truncated files one line naming the file and where."""

from __future__ import annotations

import gzip
import random

import pandas as pd
import pytest

from biomodels.exceptions import InputError
from biomodels.io import MoleculeParser, iter_raw_chunks, read_molecules
from biomodels.io.molecules import MAX_ECHO, records_from
from biomodels.io.ranges import plan_ranges, read_range
from biomodels.io.sequences import read_sequences
from biomodels.io.text import read_text_table


def parsed(data):
    return MoleculeParser().parse_chunk(records_from(data))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_whitespace_inside_a_smiles_is_an_error_row_in_every_table(tmp_path, suffix):
    frame = pd.DataFrame({"smiles": ["CCO", "c1ccccc1 Cl"], "id": ["a", "c"]})
    path = tmp_path / f"s{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    records = list(read_molecules(path))
    assert [r.ok for r in records] == [True, False]
    assert records[1].error == "SMILES contains whitespace"
    assert records[1].mol is None and records[1].id == "c"


def test_whitespace_inside_an_in_memory_smiles_is_an_error_row():
    records = parsed(["c1ccccc1 Cl", "c1ccccc1\tCl", " CCO "])
    assert [r.error for r in records] == [
        "SMILES contains whitespace",
        "SMILES contains whitespace",
        None,  # surrounding whitespace is not part of the SMILES
    ]
    assert records[1].smiles == "c1ccccc1\\tCl"  # echoed escaped


def test_smi_files_keep_the_smiles_name_convention(tmp_path):
    path = tmp_path / "s.smi"
    path.write_text("c1ccccc1 benzene ring\nCCO\tethanol\n")
    records = list(read_molecules(path))
    assert [(r.id, r.ok) for r in records] == [("benzene ring", True), ("ethanol", True)]


def test_a_quoted_line_break_is_an_error_row_not_its_first_line(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('smiles,id\n"CC\nN",a\nCCN,b\n')
    records = list(read_molecules(path))
    assert [r.row for r in records] == [0, 1]
    assert records[0].error == "SMILES contains a line break"
    assert records[0].smiles == "CC\\nN" and records[1].ok


@pytest.mark.parametrize("columns", ["smiles", "smiles,id"])
def test_blank_lines_are_records_with_their_row_numbers(tmp_path, columns):
    path = tmp_path / "b.csv"
    extra = "" if columns == "smiles" else ",x"
    path.write_text(f"{columns}\nCCO{extra}\n\nCCN{extra}\n   \nc1ccccc1{extra}\n")
    records = list(read_molecules(path))
    assert [r.row for r in records] == [0, 1, 2, 3, 4]
    assert [r.error for r in records] == [None, "empty SMILES", None, "empty SMILES", None]


def test_byte_ranges_number_blank_lines_as_the_whole_file_read(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text(
        "smiles,id\n" + "".join("\n" if i % 7 == 3 else f"C{'C' * (i % 5)},m{i}\n" for i in range(60))
    )
    whole = [(r.row, r.text) for chunk in iter_raw_chunks(path) for r in chunk]
    ranges = plan_ranges(path, chunk_size=8)
    assert len(ranges) > 2 and ranges[0].unit == "bytes"
    pieces, offset = [], 0
    for rng in ranges:
        raws = read_range(rng)
        pieces += [(offset + r.row, r.text) for r in raws]
        offset += len(raws)
    assert pieces == whole and len(whole) == 60


def test_control_characters_become_escaped_error_rows():
    records = parsed(["C\x00C", "CC\x1bN"])
    assert records[0].error == "SMILES contains a control character: '\\x00' at position 1"
    assert records[0].smiles == "C\\x00C" and records[1].smiles == "CC\\x1bN"
    assert all(r.smiles.isprintable() and r.error.isprintable() for r in records)


def test_an_id_with_control_characters_is_escaped(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"smiles,id\nCCO,a\x00b\n")
    (record,) = read_molecules(path)
    assert record.ok and record.id == "a\\x00b"


def test_an_error_quotes_at_most_200_characters_of_a_huge_smiles():
    smiles = "C" * 10_000 + "(" + "C" * 9_999
    (record,) = parsed([smiles])
    assert record.error.startswith("SMILES Parse Error: extra open parentheses while parsing: CCC")
    assert record.error.count("C") <= MAX_ECHO + 10  # the text of RDKit's message has a few
    assert "(20000 characters)" in record.error and len(record.error) < 600


def latin1_files(tmp_path):
    table = "smiles,name\nCCO,ethanol\nc1ccccc1,caf\xe9\n"
    files = {"s.csv": table, "s.smi": "CCO ethanol\nc1ccccc1 caf\xe9\n", "s.csv.gz": table}
    paths = []
    for name, text in files.items():
        data = text.encode("latin-1")
        (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        paths.append(tmp_path / name)
    return paths


def test_a_latin1_file_is_one_line_naming_the_file_line_and_encoding_option(tmp_path):
    for path in latin1_files(tmp_path):
        with pytest.raises(InputError) as info:
            list(read_molecules(path))
        line = 3 if path.name.startswith("s.csv") else 2
        advice = "pass the file's encoding, e.g. --encoding latin-1"
        assert str(info.value) == f"{path}: line {line}: byte 0xe9 is not utf-8 text; {advice}"
        records = list(read_molecules(path, encoding="latin-1"))
        assert [r.ok for r in records] == [True, True]
        assert (records[1].id or records[1].props.get("name")) == "caf\xe9"


def test_sdf_bytes_are_no_longer_replaced(tmp_path):
    path = tmp_path / "m.sdf"
    block = "caf\xe9\n     RDKit          2D\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n"
    path.write_bytes(block.encode("latin-1"))
    with pytest.raises(InputError, match=r"m\.sdf: line 1: byte 0xe9 is not utf-8 text"):
        list(read_molecules(path))
    (record,) = read_molecules(path, encoding="latin-1")
    assert record.id == "caf\xe9"


def test_an_unknown_encoding_is_named():
    with pytest.raises(InputError, match="unknown text encoding 'klingon'"):
        next(iter_raw_chunks("whatever.csv", encoding="klingon"))


def test_a_truncated_gzip_names_the_file_and_the_last_good_row(tmp_path):
    rng = random.Random(0)
    text = "smiles\n" + "".join(
        rng.choice(["CCO", "c1ccccc1", "CCN", "CC(=O)O"]) + "\n" for _ in range(200_000)
    )
    path = tmp_path / "t.csv.gz"
    data = gzip.compress(text.encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as info:
        for _ in iter_raw_chunks(path, chunk_size=10_000):
            pass
    message = str(info.value)
    assert message.startswith(f"{path}: damaged or truncated gzip file (Compressed file ended")
    assert message.endswith("the last good record read is row 79999") and "\n" not in message


def test_text_tables_keep_blank_lines_as_empty_text_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\nfever and cough,flu\n\n   ,cold\nrash,\n")
    texts = read_text_table(path)
    assert texts.ids == ["0", "1", "2", "3"]
    assert texts.errors == [None, "empty text", "empty text", None]
    assert texts.labels == ["flu", None, "cold", None]


def test_a_latin1_text_table_names_the_line_and_reads_with_its_encoding(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("text,label\ncaf\xe9 fever,flu\n".encode("latin-1"))
    with pytest.raises(
        InputError, match=r"t\.csv: line 2: byte 0xe9 is not utf-8 text; .*--encoding latin-1"
    ):
        read_text_table(path)
    assert read_text_table(path, encoding="latin-1").texts == ["caf\xe9 fever"]


@pytest.mark.parametrize(
    ("name", "text"), [("e.fasta", ">a\nACGT\n>b\n\n>c\nAC\n"), ("e.fastq", "@a\nACG\n+\nIII\n@b\n\n+\n\n")]
)
def test_an_empty_sequence_is_that_records_error(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as info:
        list(read_sequences(path))
    assert str(info.value) == f"{path}, record 1: sequence 'b' is empty"


def test_byte_ranges_read_the_named_encoding(tmp_path):
    path = tmp_path / "l.smi"
    path.write_bytes("".join(f"{'C' * (1 + i % 4)} caf\xe9{i}\n" for i in range(40)).encode("latin-1"))
    ranges = plan_ranges(path, chunk_size=10, encoding="latin-1")
    assert len(ranges) > 1 and all(r.encoding == "latin-1" for r in ranges)
    ids = [raw.id for rng in ranges for raw in read_range(rng)]
    assert ids == [f"caf\xe9{i}" for i in range(40)]
    with pytest.raises(InputError, match=r"l\.smi: line 1: byte 0xe9 is not utf-8 text"):
        plan_ranges(path, chunk_size=10)  # planning in utf-8 fails at once, not on a worker
