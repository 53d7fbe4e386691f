"""Record types shared across the package: every record carries its input position."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rdkit import Chem

TASKS = ("regression", "binary", "multiclass")
"""Prediction tasks of property models: values, 0/1 labels (one or more tasks), one of C classes."""


@dataclass(slots=True)
class MoleculeRecord:
    """One input molecule, parsed or not.

    Attributes:
        row: 0-based position of the record among the input's data records (header excluded),
            carried through every stage so outputs line up with inputs.
        id: the record's identifier (id column, SMILES-file name field or SDF title), if any.
        smiles: the SMILES text as read (for SDF: the canonical SMILES of the parsed molecule).
        mol: the RDKit molecule, or ``None`` when the record could not be parsed.
        props: other columns of a table row, or the SD properties of an SDF record.
        error: why the record could not be parsed; ``None`` for a good record.
    """

    row: int
    id: str | None
    smiles: str | None
    mol: Chem.Mol | None = None
    props: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.mol is not None


@dataclass(slots=True)
class SequenceRecord:
    """One biological sequence record (FASTA, FASTQ or GenBank).

    Attributes:
        index: 0-based position of the record in the file.
        id: the record identifier.
        description: the header's description text.
        sequence: the sequence as an upper-case string.
        qualities: Phred qualities per position (FASTQ only).
        features: annotated features (GenBank only) as dicts with type, location, qualifiers.
        alphabet: detected alphabet: ``"dna"``, ``"rna"`` or ``"protein"``.
    """

    index: int
    id: str
    description: str
    sequence: str
    qualities: list[int] | None = None
    features: list[dict[str, Any]] = field(default_factory=list)
    alphabet: str | None = None
