"""Readers: molecules (RDKit) and biological sequences (Biopython), streaming, with row ids."""

from biomodels.io.molecules import (
    MoleculeParser,
    RawRecord,
    detect_format,
    iter_molecule_chunks,
    iter_raw_chunks,
    read_molecules,
)
from biomodels.io.sequences import detect_alphabet, read_sequences

__all__ = [
    "MoleculeParser",
    "RawRecord",
    "detect_alphabet",
    "detect_format",
    "iter_molecule_chunks",
    "iter_raw_chunks",
    "read_molecules",
    "read_sequences",
]
