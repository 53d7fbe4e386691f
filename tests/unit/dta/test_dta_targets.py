"""Targets from protein FASTA, nucleotide FASTA and GenBank CDS, with per-record errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from Bio import SeqIO
from Bio.Seq import Seq
from Bio.SeqFeature import FeatureLocation, SeqFeature
from Bio.SeqRecord import SeqRecord

from biomodels.dta.targets import read_targets, translate_cds
from biomodels.exceptions import InputError

GENOMICS = Path(__file__).resolve().parents[4] / "shared" / "data" / "genomics"


def test_translate_a_cds_with_a_known_protein():
    # Met-Ala-Lys-Trp then the stop codon: the stop is dropped
    assert translate_cds("ATGGCCAAATGGTAA") == "MAKW"
    assert translate_cds("AUGGCCAAAUGGUAA") == "MAKW"  # RNA
    assert translate_cds("GTGGCC", table=11) == "MA"  # an alternative start codon codes Met
    with pytest.raises(ValueError, match="partial codon: 7 nucleotides"):
        translate_cds("ATGGCCA")
    with pytest.raises(ValueError, match="internal stop codon at codon 2 of 3"):
        translate_cds("ATGTAAGCC")


def test_fasta_records_each_become_a_target_or_an_error(tmp_path):
    path = tmp_path / "mixed.fasta"
    path.write_text(">prot\nMKKLLPTAAAG\n>gene\nATGGCCAAATGGTAA\n>digits\nMKK12LL\n>stop\nATGTAAGCC\n")
    targets = read_targets(path)
    assert [t.id for t in targets] == ["prot", "gene", "digits", "stop"]
    assert [t.sequence for t in targets[:2]] == ["MKKLLPTAAAG", "MAKW"]
    assert targets[2].sequence is None and "'1' at position 3" in targets[2].error
    assert "internal stop codon" in targets[3].error
    assert all(t.source == t.id for t in targets)


def test_genbank_cds_translated_when_the_translation_is_absent(tmp_path):
    dna = "CCATGGCCAAATGGTAACC" + "TTACCATTTGGCCATCC"  # gene 1 on +, gene 2 on - strand
    record = SeqRecord(
        Seq(dna), id="REC1", name="REC1", description="toy", annotations={"molecule_type": "DNA"}
    )
    record.features = [
        SeqFeature(FeatureLocation(2, 17, strand=1), type="CDS", qualifiers={"locus_tag": ["T_001"]}),
        SeqFeature(FeatureLocation(19, 34, strand=-1), type="CDS", qualifiers={"gene": ["kin"]}),
        SeqFeature(FeatureLocation(0, 7, strand=1), type="CDS", qualifiers={"translation": ["MQQ"]}),
    ]
    path = tmp_path / "toy.gb"
    SeqIO.write(record, path, "genbank")
    targets = read_targets(path)
    assert [t.id for t in targets] == ["REC1:T_001", "REC1:kin", "REC1:CDS2"]
    assert [t.sequence for t in targets] == ["MAKW", "MAKW", "MQQ"]
    assert {t.source for t in targets} == {"REC1"}


@pytest.mark.skipif(not (GENOMICS / "NC_005816.gb").is_file(), reason="shared/data/genomics is absent")
def test_real_genbank_cds_translate_to_their_recorded_translation(tmp_path):
    record = SeqIO.read(GENOMICS / "NC_005816.gb", "genbank")
    recorded = [f.qualifiers["translation"][0] for f in record.features if f.type == "CDS"]
    for feature in record.features:
        feature.qualifiers.pop("translation", None)
    path = tmp_path / "stripped.gb"
    SeqIO.write(record, path, "genbank")
    translated = [t.sequence for t in read_targets(path)]
    assert translated == recorded and len(recorded) == 10


def test_empty_fasta_is_a_one_line_error(tmp_path):
    path = tmp_path / "empty.fasta"
    path.write_text("")
    with pytest.raises(InputError, match="empty.fasta: empty file"):
        read_targets(path)
