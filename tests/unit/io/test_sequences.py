"""read_sequences on Biopython's real test files, their gzip copies, and broken inputs."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biomodels.exceptions import InputError, UnknownNameError
from biomodels.io.sequences import detect_alphabet, read_sequences


@pytest.fixture(scope="module")
def genomics(shared_data: Path) -> Path:
    return shared_data / "genomics"


def read_error(path: Path, **kwargs) -> InputError:
    """Read every record of ``path`` and return the InputError that reading raises."""
    with pytest.raises(InputError) as caught:
        list(read_sequences(path, **kwargs))
    return caught.value


def assert_message(error: InputError, path: Path, record: int | None, *reasons: str) -> None:
    """The message is one line naming the file, the record number (if any) and the reason."""
    message = str(error)
    assert len(message.splitlines()) == 1, message
    assert message.startswith(str(path)), message
    assert error.record == record
    if record is not None:
        assert f", record {record}: " in message
    for reason in reasons:
        assert reason in message, message


# --- real files ---------------------------------------------------------------------------------


def test_genbank_plasmid_with_features(genomics):
    (record,) = read_sequences(genomics / "NC_005816.gb")
    assert (record.index, record.id, record.alphabet) == (0, "NC_005816.1", "dna")
    assert record.description.startswith("Yersinia pestis biovar Microtus str. 91001 plasmid pPCP1")
    assert len(record.sequence) == 9609
    assert record.sequence.startswith("TGTAACGAACGGTGCAATAG")
    assert record.qualities is None
    assert len(record.features) == 41
    cds = [f for f in record.features if f["type"] == "CDS"]
    assert len(cds) == 10
    first = cds[0]
    assert (first["start"], first["end"], first["strand"]) == (86, 1109, 1)
    assert first["location"] == "[86:1109](+)"
    assert first["qualifiers"]["protein_id"] == ["NP_995567.1"]
    assert first["qualifiers"]["product"] == ["putative transposase"]
    assert first["qualifiers"]["db_xref"] == ["GI:45478712", "GeneID:2767718"]


def test_genbank_multi_record(genomics):
    records = list(read_sequences(genomics / "cor6_6.gb"))
    assert [r.id for r in records] == [
        "X55053.1",
        "X62281.1",
        "M81224.1",
        "AJ237582.1",
        "L31939.1",
        "AF297471.1",
    ]
    assert [r.index for r in records] == list(range(6))
    assert [len(r.sequence) for r in records] == [513, 880, 441, 206, 282, 497]
    assert [len(r.features) for r in records] == [3, 15, 6, 7, 3, 4]
    assert records[0].description == "A.thaliana cor6.6 mRNA"
    assert records[0].sequence.startswith("AACAAAACACACATCAAAAACGAT")
    source = records[0].features[0]
    assert source["type"] == "source"
    assert (source["start"], source["end"]) == (0, 513)
    assert source["qualifiers"]["organism"] == ["Arabidopsis thaliana"]
    assert {r.alphabet for r in records} == {"dna"}


def test_fasta_genome_matches_genbank(genomics):
    (fasta,) = read_sequences(genomics / "NC_005816.fna")
    (genbank,) = read_sequences(genomics / "NC_005816.gb")
    assert fasta.id == "gi|45478711|ref|NC_005816.1|"
    assert fasta.alphabet == "dna"
    assert fasta.features == []
    assert fasta.sequence == genbank.sequence


def test_fasta_genes_are_slices_of_the_genome(genomics):
    genes = list(read_sequences(genomics / "NC_005816.ffn"))
    (genome,) = read_sequences(genomics / "NC_005816.gb")
    assert len(genes) == 10
    assert genes[0].id == "ref|NC_005816.1|:87-1109"
    assert genes[0].description.endswith("putative transposase [Yersinia pestis biovar Microtus str. 91001]")
    assert len(genes[0].sequence) == 1023
    assert genes[0].sequence == genome.sequence[86:1109]
    assert genes[0].sequence.startswith("ATG")


def test_protein_fasta(genomics):
    records = list(read_sequences(genomics / "NC_000932.faa"))
    assert len(records) == 85
    assert records[0].id == "gi|7525080|ref|NP_051037.1|"
    assert len(records[0].sequence) == 123
    assert records[0].sequence.startswith("MPTIKQLIRN")
    assert {r.alphabet for r in records} == {"protein"}


def test_protein_library(genomics):
    records = list(read_sequences(genomics / "protein_lib.fa", alphabet="protein"))
    assert len(records) == 12
    assert (records[0].id, len(records[0].sequence)) == ("sp|P00193|FER_PEPAS", 54)
    assert records[0].sequence.startswith("AYVINDSCIA")
    assert {r.alphabet for r in records} == {"protein"}


def test_nucleotide_library_is_upper_cased(genomics):
    records = list(read_sequences(genomics / "nucleotide_lib.fa"))
    assert [r.id for r in records][:3] == ["pGT875", "BTGST", "OCDHPR"]
    assert [len(r.sequence) for r in records] == [1125, 809, 6083, 6080, 1443, 902, 902]
    assert all(r.sequence == r.sequence.upper() for r in records)
    # the file's first record ends in lower-case letters
    assert records[0].sequence[360:380] == "CATGCAGCTCATCATGCTCT"


def test_fastq_qualities(genomics):
    records = list(read_sequences(genomics / "example.fastq"))
    assert [r.id for r in records] == [
        "EAS54_6_R1_2_1_413_324",
        "EAS54_6_R1_2_1_540_792",
        "EAS54_6_R1_2_1_443_348",
    ]
    assert records[0].sequence == "CCCTTCTTGTCTTCAGCGTTTCTCC"
    # ';;3;;;;;;;;;;;;7;;;;;;;88' in Sanger encoding (Phred + 33)
    assert records[0].qualities[:3] == [26, 26, 18]
    assert records[0].qualities[15] == 22
    assert records[0].qualities[-2:] == [23, 23]
    assert all(len(r.qualities) == len(r.sequence) == 25 for r in records)


def test_long_reads_fastq(genomics):
    records = list(read_sequences(genomics / "longreads_original_sanger.fastq"))
    assert len(records) == 10
    assert (records[0].id, len(records[0].sequence)) == ("FSRRS4401BE7HA", 395)
    assert records[0].sequence.startswith("TCAGTTAAGATG")  # soft-masked 'tcag' upper-cased
    assert records[0].qualities[:4] == [37, 37, 37, 35]
    assert all(len(r.qualities) == len(r.sequence) for r in records)
    assert sum(len(r.sequence) for r in records) == 3665
    assert min(min(r.qualities) for r in records) == 0
    assert max(max(r.qualities) for r in records) == 40


@pytest.mark.parametrize(
    "name", ["NC_005816.gb", "cor6_6.gb", "NC_000932.faa", "example.fastq", "nucleotide_lib.fa"]
)
def test_gzip_copy_reads_the_same(genomics, tmp_path, name):
    compressed = tmp_path / f"{name}.gz"
    with (genomics / name).open("rb") as src, gzip.open(compressed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert list(read_sequences(compressed)) == list(read_sequences(genomics / name))


@pytest.mark.parametrize(
    ("name", "copy", "count", "first_id"),
    [
        ("example.fastq", "reads.txt", 3, "EAS54_6_R1_2_1_413_324"),
        ("NC_005816.gb", "plasmid.dat", 1, "NC_005816.1"),
        ("protein_lib.fa", "proteins", 12, "sp|P00193|FER_PEPAS"),
    ],
)
def test_format_from_content_when_extension_unknown(genomics, tmp_path, name, copy, count, first_id):
    shutil.copy(genomics / name, tmp_path / copy)
    records = list(read_sequences(tmp_path / copy))
    assert (len(records), records[0].id) == (count, first_id)
    gz = tmp_path / f"{copy}.gz"
    gz.write_bytes(gzip.compress((genomics / name).read_bytes()))
    assert list(read_sequences(gz)) == records


def test_explicit_format_overrides_extension(genomics, tmp_path):
    wrong = tmp_path / "reads.fa"
    shutil.copy(genomics / "example.fastq", wrong)
    records = list(read_sequences(wrong, format="FASTQ"))
    assert [len(r.qualities) for r in records] == [25, 25, 25]
    assert_message(read_error(wrong), wrong, 0, "malformed fasta")


def test_records_stream_before_a_later_error(tmp_path):
    path = tmp_path / "reads.fq"
    path.write_text("@r0\nACGT\n+\nIIII\n@r1\nACGT\n+\nIII\n")
    records = read_sequences(path)
    first = next(records)
    assert (first.id, first.sequence, first.qualities) == ("r0", "ACGT", [40, 40, 40, 40])
    with pytest.raises(InputError) as caught:
        next(records)
    assert_message(caught.value, path, 1, "Lengths of sequence and quality values differs for r1 (4 and 3)")


def test_fixed_alphabet_names_record_id_and_first_bad_letter(genomics):
    path = genomics / "protein_lib.fa"
    error = read_error(path, alphabet="dna")
    # AYVINDSCIA...: A, Y and V are IUPAC nucleotide codes, I is not
    assert_message(error, path, 0, "'sp|P00193|FER_PEPAS'", "outside the dna alphabet", "'I' at position 3")


def test_validate_false_keeps_records_that_fit_no_alphabet(tmp_path):
    path = tmp_path / "odd.fa"
    path.write_text(">good\nacgt\n>odd\nACG1T\n")
    records = list(read_sequences(path, validate=False))
    assert [(r.id, r.sequence, r.alphabet) for r in records] == [
        ("good", "ACGT", "dna"),
        ("odd", "ACG1T", None),
    ]
    fixed = list(read_sequences(path, alphabet="protein", validate=False))
    assert [r.alphabet for r in fixed] == ["protein", "protein"]


def test_unknown_alphabet_lists_choices(genomics):
    with pytest.raises(UnknownNameError, match="choose one of: dna, protein, rna"):
        read_sequences(genomics / "example.fastq", alphabet="amino")


# --- detect_alphabet ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence", "alphabet"),
    [
        ("ACGTN", "dna"),
        ("acgt-.", "dna"),
        ("ACGUN", "rna"),
        ("MKVLE*", "protein"),
        ("ACGTU", "protein"),  # T and U together: only amino-acid letters cover both
        ("", "dna"),
    ],
)
def test_detect_alphabet(sequence, alphabet):
    assert detect_alphabet(sequence) == alphabet


def test_detect_alphabet_names_the_closest_alphabet():
    with pytest.raises(ValueError, match="outside the protein alphabet: '1' at position 5"):
        detect_alphabet("MKVLE1")


# --- malformed input ----------------------------------------------------------------------------


def test_missing_file_raises_at_call(tmp_path):
    path = tmp_path / "absent.fa"
    with pytest.raises(InputError) as caught:
        read_sequences(path)  # no iteration: checked before the iterator is returned
    assert_message(caught.value, path, None, "file not found")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.fa", b""),
        ("blank.fq", b"\n  \n\t\n"),
        ("empty.fa.gz", gzip.compress(b"")),
        ("empty.gb", b""),
    ],
)
def test_empty_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    assert_message(read_error(path), path, None, "empty file")


@pytest.mark.parametrize(
    ("content", "record", "reason"),
    [
        (
            "@r0\nAC\n+\nII\n@r1\nACGT\n+\nIII\n",
            1,
            "Lengths of sequence and quality values differs for r1 (4 and 3)",
        ),
        # without its '+' line, the quality line reads as more sequence
        ("@r0\nAC\n+\nII\n@r1\nACGT\nIIII\n", 1, "End of file without quality information"),
        ("@r0\nAC\n+\nII\n@r1\nACGT\n", 1, "End of file without quality information"),
        ("@r0\nAC\n+\nII\n@r1\n", 1, "Unexpected end of file"),
        ("r0\nAC\n+\nII\n", 0, "Records in Fastq files should start with '@'"),
        ("@r0\nAC\n+\nI\x7f\n", 0, "Invalid character (\\x7f)"),
    ],
)
def test_broken_fastq(tmp_path, content, record, reason):
    path = tmp_path / "broken.fastq"
    path.write_text(content)
    assert_message(read_error(path), path, record, "malformed fastq", reason)


def test_genbank_without_end_marker(genomics, tmp_path):
    text = (genomics / "cor6_6.gb").read_text()
    path = tmp_path / "truncated.gb"
    path.write_text(text[: text.rstrip().rfind("//")])
    # Biopython only warns here and yields the record; we refuse it
    assert_message(read_error(path), path, 5, "truncated record", "'//' end marker")


def test_genbank_cut_inside_the_sequence(genomics, tmp_path):
    lines = (genomics / "NC_005816.gb").read_text().splitlines(keepends=True)
    origin = next(i for i, line in enumerate(lines) if line.startswith("ORIGIN"))
    path = tmp_path / "cut.gbk"
    path.write_text("".join(lines[: origin + 50]))
    assert_message(read_error(path), path, 0, "truncated record", "'//' end marker")


def test_genbank_cut_inside_the_features(genomics, tmp_path):
    lines = (genomics / "NC_005816.gb").read_text().splitlines(keepends=True)
    path = tmp_path / "cut.gb"
    path.write_text("".join(lines[:60]))
    assert_message(
        read_error(path),
        path,
        0,
        "malformed genbank",
        "Premature end of line during features table",
    )


def test_genbank_record_without_sequence(genomics, tmp_path):
    first = (genomics / "cor6_6.gb").read_text().split("ORIGIN")[0]
    path = tmp_path / "no_origin.gb"
    path.write_text(first + "//\n")
    assert_message(read_error(path), path, 0, "'X55053.1' has no sequence data")


def test_fasta_with_invalid_characters(tmp_path):
    path = tmp_path / "bad.fasta"
    path.write_text(">ok\nACGT\n>bad some description\nACG1T2\n")
    assert_message(
        read_error(path),
        path,
        1,
        "sequence 'bad' fits no alphabet",
        "'1' at position 3, '2' at position 5",
    )


def test_fasta_letters_outside_a_fixed_alphabet(tmp_path):
    path = tmp_path / "mixed.fa"
    path.write_text(">n\nACGT\n>p\nACGTEFQE\n")
    assert_message(
        read_error(path, alphabet="dna"),
        path,
        1,
        "sequence 'p': characters outside the dna alphabet",
        "'E' at position 4, 'F' at position 5, 'Q' at position 6",
    )


def test_fasta_with_non_ascii_letter(tmp_path):
    path = tmp_path / "accent.fa"
    path.write_text(">r\nACÉGT\n", encoding="utf-8")
    assert_message(read_error(path), path, 0, "fits no alphabet", "'É' at position 2")


def test_fasta_without_header(tmp_path):
    path = tmp_path / "headless.fa"
    path.write_text("ACGT\n>r\nACGT\n")
    assert_message(read_error(path), path, 0, "malformed fasta", "comments at the beginning")


def test_binary_file(tmp_path):
    path = tmp_path / "image.fa"
    path.write_bytes(bytes(range(256)) * 8)
    assert_message(read_error(path), path, None, "binary file")


def test_non_utf8_text(tmp_path):
    path = tmp_path / "latin1.fa"
    path.write_bytes(">r\xe9\nACGT\n".encode("latin-1"))
    assert_message(read_error(path), path, 0, "line 1: byte 0xe9 is not utf-8 text", "--encoding latin-1")
    assert next(read_sequences(path, encoding="latin-1")).id == "r\xe9"


def test_truncated_gzip_stream(tmp_path):
    text = "".join(f">r{i}\n{'ACGT' * 30}\n" for i in range(3000))
    path = tmp_path / "big.fa.gz"
    path.write_bytes(gzip.compress(text.encode())[:-30])
    error = read_error(path)
    assert error.record is not None and error.record > 1000  # the first records read fine
    assert_message(error, path, error.record, "Compressed file ended")


def test_unknown_format_lists_supported_formats(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    assert_message(read_error(path), path, None, "unknown format", "fasta, fastq, genbank")
    assert_message(
        read_error(path, format="embl"),
        path,
        None,
        "unknown format 'embl'; supported formats: fasta, fastq, genbank",
    )


def test_genbank_name_on_other_text(tmp_path):
    path = tmp_path / "not_really.gb"
    path.write_text(">r\nACGT\n")
    assert_message(read_error(path), path, None, "no genbank records found")


# --- property: any text gives records or an InputError ------------------------------------------

_NEAR_FORMAT = st.text(alphabet="ACGTNacgu>@+\n \t!I#-.", max_size=120)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(st.text(max_size=200), _NEAR_FORMAT),
    suffix=st.sampled_from([".fa", ".fastq", ".txt"]),
)
def test_any_text_yields_records_or_input_error(tmp_path_factory, text, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"input{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        records = list(read_sequences(path))
    except InputError as error:
        assert len(str(error).splitlines()) == 1
        assert error.path == str(path)
    else:
        assert [r.index for r in records] == list(range(len(records)))
        for record in records:
            assert record.alphabet in {"dna", "rna", "protein"}
            assert record.sequence == record.sequence.upper()
            if record.qualities is not None:
                assert len(record.qualities) == len(record.sequence)
