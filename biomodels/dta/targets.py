"""Protein targets from sequence files: protein FASTA, nucleotide FASTA or GenBank genes.

:func:`read_targets` reads the file with :func:`biomodels.io.sequences.read_sequences` and
turns every record into :class:`Target` objects, each keeping its source record id:

- a protein record is one target, as is;
- a nucleotide record (DNA or RNA) is translated with Biopython (standard code); a length that
  is not a multiple of three (a partial codon) or a stop codon before the end is that
  target's error, and one final stop codon is dropped;
- a GenBank record with CDS features gives one target per CDS, named ``RECORD:LOCUS_TAG`` (or
  the gene, protein id, or ``CDS<k>``): its ``/translation``, or the spliced CDS translated
  with its ``/transl_table`` and ``/codon_start`` when the translation is absent;
- a record whose letters fit no alphabet (digits, punctuation) is a target with an error.

A target with an error is kept (its rows in a prediction carry the reason); the file itself
must exist and hold records, else :class:`~biomodels.exceptions.InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Bio.Data import CodonTable
from Bio.Seq import Seq, reverse_complement

from biomodels.io.sequences import detect_alphabet, read_sequences
from biomodels.types import SequenceRecord

__all__ = ["Target", "read_targets", "translate_cds"]


@dataclass
class Target:
    """One protein target.

    Attributes:
        id: the target's name (the record id, or ``RECORD:LOCUS_TAG`` for a GenBank CDS).
        sequence: the protein sequence (upper case), or None when it could not be made.
        source: the id of the record it comes from.
        error: why there is no usable sequence, or None.
    """

    id: str
    sequence: str | None
    source: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def translate_cds(nucleotides: str, table: int = 1) -> str:
    """Translate a coding sequence (DNA or RNA) into its protein, without a final stop; a first
    codon that is a start codon of ``table`` gives methionine.

    Raises:
        ValueError: the length is not a multiple of three, or a stop codon comes before the
            last codon; the message says which and where.
    """
    if len(nucleotides) % 3:
        raise ValueError(f"partial codon: {len(nucleotides)} nucleotides is not a multiple of 3")
    protein = str(Seq(nucleotides).translate(table=table))
    starts = CodonTable.unambiguous_dna_by_id[int(table)].start_codons
    if protein and nucleotides[:3].upper().replace("U", "T") in starts:
        protein = "M" + protein[1:]  # an alternative start codon (GTG, TTG) still codes Met
    if protein.endswith("*"):
        protein = protein[:-1]
    if "*" in protein:
        raise ValueError(f"internal stop codon at codon {protein.index('*') + 1} of {len(nucleotides) // 3}")
    if not protein:
        raise ValueError("no codons before the stop codon")
    return protein


def read_targets(path: str | Path) -> list[Target]:
    """Every target of a protein FASTA, nucleotide FASTA or GenBank file, in file order.

    Raises:
        InputError: the file is missing, empty, not a sequence file, or malformed (one line
            naming the file and the record).
    """
    targets: list[Target] = []
    for record in read_sequences(path, validate=False):
        cds = [f for f in record.features if f["type"] == "CDS"]
        if cds:
            targets += [_cds_target(record, feature, k) for k, feature in enumerate(cds)]
        else:
            targets.append(_record_target(record))
    return targets


def _record_target(record: SequenceRecord) -> Target:
    try:
        alphabet = record.alphabet or detect_alphabet(record.sequence)
        if alphabet == "protein":
            sequence = record.sequence[:-1] if record.sequence.endswith("*") else record.sequence
            if "*" in sequence:
                raise ValueError(f"stop '*' inside the protein at position {sequence.index('*')}")
            return Target(record.id, sequence, record.id)
        return Target(record.id, translate_cds(record.sequence), record.id)
    except ValueError as exc:
        return Target(record.id, None, record.id, f"sequence {record.id!r}: {exc}")


def _cds_target(record: SequenceRecord, feature: dict[str, Any], k: int) -> Target:
    qualifiers = feature["qualifiers"]
    name = next(
        (qualifiers[key][0] for key in ("locus_tag", "gene", "protein_id") if qualifiers.get(key)),
        f"CDS{k}",
    )
    target_id = f"{record.id}:{name}"
    if qualifiers.get("translation"):
        sequence = qualifiers["translation"][0].replace(" ", "").upper()
        try:
            detect_alphabet(sequence)  # letters that fit no alphabet raise
        except ValueError as exc:
            return Target(target_id, None, record.id, f"CDS {target_id!r} /translation {exc}")
        return Target(target_id, sequence, record.id)
    try:
        if record.alphabet not in ("dna", "rna"):
            raise ValueError(
                f"the record's sequence is not DNA or RNA ({record.alphabet or 'unknown letters'})"
            )
        pieces = []
        for start, end, strand in feature["parts"]:
            piece = record.sequence[start:end]
            pieces.append(reverse_complement(piece) if strand == -1 else piece)
        offset = int(qualifiers.get("codon_start", ["1"])[0]) - 1
        table = qualifiers.get("transl_table", ["1"])[0]
        coding = "".join(pieces)[offset:]
        return Target(target_id, translate_cds(coding, int(table)), record.id)
    except ValueError as exc:
        return Target(target_id, None, record.id, f"CDS {target_id!r} is untranslatable: {exc}")
