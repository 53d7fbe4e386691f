"""Readers: molecules (RDKit) and biological sequences (Biopython), streaming, with row ids."""

from biomodels.io.molecules import (
    MoleculeParser,
    RawRecord,
    detect_format,
    iter_molecule_chunks,
    iter_raw_chunks,
    read_molecules,
)

__all__ = [
    "MoleculeParser",
    "RawRecord",
    "detect_format",
    "iter_molecule_chunks",
    "iter_raw_chunks",
    "read_molecules",
]
