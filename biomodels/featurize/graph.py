"""Molecule -> graph featurisation for message-passing networks.

Molecules are first turned into compact integer codes (:class:`GraphArrays`: one row of codes
per atom and per directed bond, a whole chunk of molecules concatenated), then expanded into
float one-hot features when a batch is built. The codes are what gets cached and shipped
between processes; expansion is one vectorised scatter per batch.

Atom features (``ATOM_DIM`` = 49 columns, in this order):

====================  =====  ==================================================================
feature               cols   values
====================  =====  ==================================================================
element               16     H B C N O F Na Si P S Cl K Se Br I, other
total degree          7      0-5, other
formal charge         6      -2 -1 0 +1 +2, other
chirality             4      unspecified, CW, CCW, other
total hydrogens       6      0-4, other
hybridisation         7      S SP SP2 SP3 SP3D SP3D2, other
aromatic              1      0/1
in ring               1      0/1
mass                  1      element mass / 100
====================  =====  ==================================================================

Bond features (``BOND_DIM`` = 12): type (single, double, triple, aromatic), conjugated, in ring,
stereo (none, any, Z, E, cis, trans).

Each bond gives two directed edges, ``2k`` (begin -> end) and ``2k + 1`` (end -> begin), so the
reverse of edge ``e`` is ``e ^ 1``: what a D-MPNN needs to subtract the reverse message.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdchem

from biomodels.featurize.arrays import concat_ranges
from biomodels.featurize.rdkit_pickle import decode_mols
from biomodels.io.molecules import has_stereo_marks

ELEMENTS = (1, 5, 6, 7, 8, 9, 11, 14, 15, 16, 17, 19, 34, 35, 53)
_HYBRIDISATIONS = (
    rdchem.HybridizationType.S,
    rdchem.HybridizationType.SP,
    rdchem.HybridizationType.SP2,
    rdchem.HybridizationType.SP3,
    rdchem.HybridizationType.SP3D,
    rdchem.HybridizationType.SP3D2,
)
_CHIRAL_TAGS = (
    rdchem.ChiralType.CHI_UNSPECIFIED,
    rdchem.ChiralType.CHI_TETRAHEDRAL_CW,
    rdchem.ChiralType.CHI_TETRAHEDRAL_CCW,
)
_BOND_TYPES = {1.0: 0, 2.0: 1, 3.0: 2, 1.5: 3}
_BOND_STEREO = (
    rdchem.BondStereo.STEREONONE,
    rdchem.BondStereo.STEREOANY,
    rdchem.BondStereo.STEREOZ,
    rdchem.BondStereo.STEREOE,
    rdchem.BondStereo.STEREOCIS,
    rdchem.BondStereo.STEREOTRANS,
)

# Categorical atom fields: (name, number of one-hot columns). Codes are indices within a field.
ATOM_FIELDS = (
    ("element", len(ELEMENTS) + 1),
    ("degree", 7),
    ("formal_charge", 6),
    ("chirality", len(_CHIRAL_TAGS) + 1),
    ("hydrogens", 6),
    ("hybridisation", len(_HYBRIDISATIONS) + 1),
)
_ATOM_OFFSETS = np.cumsum([0] + [n for _, n in ATOM_FIELDS])[:-1]
_N_ATOM_ONEHOT = sum(n for _, n in ATOM_FIELDS)
ATOM_DIM = _N_ATOM_ONEHOT + 3  # + aromatic, in ring, mass
BOND_DIM = 4 + 1 + 1 + len(_BOND_STEREO)

# Lookup tables from RDKit values to codes (the last code of a field is "other").
_ELEMENT_CODE = np.full(256, len(ELEMENTS), dtype=np.int16)
_ELEMENT_CODE[list(ELEMENTS)] = np.arange(len(ELEMENTS))
_MASS = np.array(
    [Chem.GetPeriodicTable().GetAtomicWeight(z) / 100.0 if z < 119 else 0.0 for z in range(256)],
    dtype=np.float32,
)
_HYBRIDISATION_CODE = {h: i for i, h in enumerate(_HYBRIDISATIONS)}
_CHIRAL_CODE = {c: i for i, c in enumerate(_CHIRAL_TAGS)}
_STEREO_CODE = {s: i for i, s in enumerate(_BOND_STEREO)}


def _code_table(codes: dict, other: int) -> np.ndarray:
    """``table[int(rdkit_enum)]`` -> code, ``other`` for values outside ``codes``."""
    table = np.full(256, other, dtype=np.int64)
    for value, code in codes.items():
        table[int(value)] = code
    return table


# The same codes indexed by RDKit's integer enum values, for the pickle reader's arrays.
_HYBRIDISATION_CODE_OF = _code_table(_HYBRIDISATION_CODE, len(_HYBRIDISATIONS))
_CHIRAL_CODE_OF = _code_table(_CHIRAL_CODE, len(_CHIRAL_TAGS))
_STEREO_CODE_OF = _code_table(_STEREO_CODE, 0)
_BOND_ORDER_OF = np.zeros(256)  # what Bond.GetBondTypeAsDouble gives; other types never get here
_BOND_ORDER_OF[[int(rdchem.BondType.SINGLE), int(rdchem.BondType.DOUBLE)]] = (1.0, 2.0)
_BOND_ORDER_OF[[int(rdchem.BondType.TRIPLE), int(rdchem.BondType.AROMATIC)]] = (3.0, 1.5)

_Atom, _Bond = rdchem.Atom, rdchem.Bond
logger = logging.getLogger(__name__)


@dataclass
class GraphArrays:
    """Integer-coded graphs of many molecules, concatenated.

    Shapes (``N`` atoms and ``E`` directed edges over all ``M`` molecules):
        atom_codes: ``N x 8`` int16: element, degree, charge, chirality, Hs, hybridisation
            codes, then aromatic and in-ring flags.
        atom_mass: ``N`` float32, element mass / 100.
        edge_index: ``2 x E`` int64, atom indices local to each molecule (source, target).
        bond_codes: ``E x 4`` int8: bond type, conjugated, in ring, stereo.
        atom_ptr: ``M + 1`` int64 offsets of each molecule's atoms.
        edge_ptr: ``M + 1`` int64 offsets of each molecule's edges.
    """

    atom_codes: np.ndarray
    atom_mass: np.ndarray
    edge_index: np.ndarray
    bond_codes: np.ndarray
    atom_ptr: np.ndarray
    edge_ptr: np.ndarray

    def __len__(self) -> int:
        return len(self.atom_ptr) - 1

    def take(self, indices: Sequence[int] | np.ndarray) -> GraphArrays:
        """The molecules at ``indices``, in that order, as new contiguous arrays."""
        idx = np.asarray(indices, dtype=np.int64)
        n_atoms = self.atom_ptr[idx + 1] - self.atom_ptr[idx]
        n_edges = self.edge_ptr[idx + 1] - self.edge_ptr[idx]
        atoms = concat_ranges(self.atom_ptr[idx], n_atoms)
        edges = concat_ranges(self.edge_ptr[idx], n_edges)
        return GraphArrays(
            self.atom_codes[atoms],
            self.atom_mass[atoms],
            self.edge_index[:, edges],
            self.bond_codes[edges],
            np.concatenate([[0], np.cumsum(n_atoms)]).astype(np.int64),
            np.concatenate([[0], np.cumsum(n_edges)]).astype(np.int64),
        )

    @staticmethod
    def concat(parts: Sequence[GraphArrays]) -> GraphArrays:
        """Join chunks into one (pointer arrays are re-based)."""
        if len(parts) == 1:
            return parts[0]
        atom_ptr, edge_ptr = [np.zeros(1, np.int64)], [np.zeros(1, np.int64)]
        for part in parts:
            atom_ptr.append(part.atom_ptr[1:] + atom_ptr[-1][-1])
            edge_ptr.append(part.edge_ptr[1:] + edge_ptr[-1][-1])
        return GraphArrays(
            np.concatenate([p.atom_codes for p in parts]),
            np.concatenate([p.atom_mass for p in parts]),
            np.concatenate([p.edge_index for p in parts], axis=1),
            np.concatenate([p.bond_codes for p in parts]),
            np.concatenate(atom_ptr),
            np.concatenate(edge_ptr),
        )


def featurize_graphs(mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None) -> GraphArrays:
    """Integer-code the graphs of ``mols`` (all must be valid, sanitised molecules).

    Fields are read from RDKit's binary pickle of each molecule (:mod:`.rdkit_pickle`), a whole
    chunk at once; the few molecules that reader does not cover (over 255 atoms, query atoms,
    unusual bond types, another pickle version) go through RDKit's atom and bond objects.

    Args:
        mols: RDKit molecules.
        smiles: the SMILES each molecule was parsed from, if known: a hint for the object path
            (a SMILES without ``@``, ``/``, ``\\`` has no stereo tags to ask for). ``None`` when
            unsure.
    """
    decoded = decode_mols(mols)
    graphs = _assemble(
        decoded.n_atoms,
        decoded.n_bonds,
        decoded.atomic_num,
        decoded.total_hs,
        _HYBRIDISATION_CODE_OF[decoded.hybridization],
        decoded.formal_charge,
        _CHIRAL_CODE_OF[decoded.chiral_tag],
        decoded.begin,
        decoded.end,
        _BOND_ORDER_OF[decoded.bond_type],
        decoded.conjugated,
        decoded.bond_in_ring,
        _STEREO_CODE_OF[decoded.bond_stereo],
    )
    if len(decoded.unsupported) == 0:
        return graphs
    logger.debug("%d of %d molecules featurised through RDKit objects", len(decoded.unsupported), len(mols))
    hints = smiles if smiles is not None else [None] * len(mols)
    others = _featurize_with_objects(
        [mols[i] for i in decoded.unsupported], [hints[i] for i in decoded.unsupported]
    )
    position = np.empty(len(mols), np.int64)  # where each input molecule sits in the concat
    position[decoded.molecules] = np.arange(len(decoded.molecules))
    position[decoded.unsupported] = len(decoded.molecules) + np.arange(len(decoded.unsupported))
    return GraphArrays.concat([graphs, others]).take(position)


def _featurize_with_objects(mols: Sequence[Chem.Mol], hints: Sequence[str | None]) -> GraphArrays:
    """The same codes as :func:`featurize_graphs`, asked of RDKit's atom and bond objects."""
    # Typed arrays: extended straight from the RDKit getters and read by numpy without a copy.
    z_all, hs_all, hyb_all, charge_all, chiral_all = (array("h") for _ in range(5))
    begin_all, end_all = array("i"), array("i")
    btype_all = array("d")
    conj_all, bring_all, stereo_all = array("b"), array("b"), array("b")
    n_atoms = np.empty(len(mols), np.int64)
    n_bonds = np.empty(len(mols), np.int64)
    hyb_code, chiral_code, stereo_code = (_HYBRIDISATION_CODE.get, _CHIRAL_CODE.get, _STEREO_CODE.get)
    for index, (mol, hint) in enumerate(zip(mols, hints, strict=True)):
        atoms = list(map(mol.GetAtomWithIdx, range(mol.GetNumAtoms())))
        bonds = list(map(mol.GetBondWithIdx, range(mol.GetNumBonds())))
        n_atoms[index] = len(atoms)
        n_bonds[index] = len(bonds)
        z_all.extend(map(_Atom.GetAtomicNum, atoms))
        hs_all.extend(map(_Atom.GetTotalNumHs, atoms))
        hyb_all.extend(map(hyb_code, map(_Atom.GetHybridization, atoms), [6] * len(atoms)))
        begin_all.extend(map(_Bond.GetBeginAtomIdx, bonds))
        end_all.extend(map(_Bond.GetEndAtomIdx, bonds))
        btype_all.extend(map(_Bond.GetBondTypeAsDouble, bonds))
        conj_all.extend(map(_Bond.GetIsConjugated, bonds))
        bring_all.extend(map(_Bond.IsInRing, bonds))
        charge_all.extend(map(_Atom.GetFormalCharge, atoms))
        if has_stereo_marks(hint):
            chiral_all.extend(map(chiral_code, map(_Atom.GetChiralTag, atoms), [3] * len(atoms)))
            stereo_all.extend(map(stereo_code, map(_Bond.GetStereo, bonds), [0] * len(bonds)))
        else:
            chiral_all.extend([0] * len(atoms))
            stereo_all.extend([0] * len(bonds))
    return _assemble(
        n_atoms,
        n_bonds,
        z_all,
        hs_all,
        hyb_all,
        charge_all,
        chiral_all,
        begin_all,
        end_all,
        btype_all,
        conj_all,
        bring_all,
        stereo_all,
    )


def _assemble(
    n_atoms, n_bonds, z, hs, hyb, charge, chiral, begin, end, btype, conj, bring, stereo
) -> GraphArrays:
    """Vectorised step: turn the per-chunk Python lists into coded numpy arrays.

    In a sanitised molecule an atom is aromatic exactly when it has an aromatic bond, and in a
    ring exactly when it has a ring bond, so both atom flags come from the bond lists.
    """
    atom_ptr = np.zeros(len(n_atoms) + 1, np.int64)
    np.cumsum(n_atoms, out=atom_ptr[1:])
    edge_ptr = np.zeros(len(n_bonds) + 1, np.int64)
    np.cumsum(2 * n_bonds, out=edge_ptr[1:])

    z = np.asarray(z, dtype=np.int64).clip(0, 255)
    hs = np.asarray(hs, dtype=np.int64)
    begin = np.asarray(begin, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    # Total degree = heavy-atom neighbours + hydrogens; neighbours counted from the bond list.
    bond_atom_offset = np.repeat(atom_ptr[:-1], n_bonds)
    endpoints = np.concatenate([begin + bond_atom_offset, end + bond_atom_offset])
    heavy_degree = np.bincount(endpoints, minlength=len(z))
    btype_code = np.asarray(btype, dtype=np.float64)
    bond_ring = np.asarray(bring, dtype=bool)
    arom = np.bincount(endpoints, weights=np.tile(btype_code == 1.5, 2), minlength=len(z)) > 0
    ring = np.bincount(endpoints, weights=np.tile(bond_ring, 2), minlength=len(z)) > 0
    charge = np.asarray(charge, dtype=np.int64)
    atom_codes = np.stack(
        [
            _ELEMENT_CODE[z],
            np.minimum(heavy_degree + hs, 6),
            np.where(np.abs(charge) <= 2, charge + 2, 5),
            np.asarray(chiral, dtype=np.int64),
            np.minimum(hs, 5),
            np.asarray(hyb, dtype=np.int64),
            np.asarray(arom, dtype=np.int64),
            np.asarray(ring, dtype=np.int64),
        ],
        axis=1,
    ).astype(np.int16)

    n_edges = 2 * len(begin)
    edge_index = np.empty((2, n_edges), np.int64)
    edge_index[0, 0::2], edge_index[1, 0::2] = begin, end
    edge_index[0, 1::2], edge_index[1, 1::2] = end, begin
    type_code = np.select(
        [btype_code == 1.0, btype_code == 2.0, btype_code == 3.0, btype_code == 1.5],
        [0, 1, 2, 3],
        default=4,
    )
    per_bond = np.stack(
        [type_code, np.asarray(conj, np.int64), bond_ring, np.asarray(stereo, np.int64)],
        axis=1,
    ).astype(np.int8)
    bond_codes = np.repeat(per_bond, 2, axis=0)
    return GraphArrays(atom_codes, _MASS[z], edge_index, bond_codes, atom_ptr, edge_ptr)


def expand_atom_features(atom_codes: torch.Tensor, atom_mass: torch.Tensor) -> torch.Tensor:
    """One-hot expand atom codes: ``N x 8`` int codes + ``N`` masses -> ``N x ATOM_DIM`` float."""
    n = atom_codes.shape[0]
    x = torch.zeros(n, ATOM_DIM, dtype=torch.float32)
    if n == 0:
        return x
    offsets = torch.as_tensor(_ATOM_OFFSETS, dtype=torch.long)
    x.scatter_(1, atom_codes[:, :6].long() + offsets, 1.0)
    x[:, _N_ATOM_ONEHOT] = atom_codes[:, 6].float()
    x[:, _N_ATOM_ONEHOT + 1] = atom_codes[:, 7].float()
    x[:, _N_ATOM_ONEHOT + 2] = atom_mass
    return x


def expand_bond_features(bond_codes: torch.Tensor) -> torch.Tensor:
    """One-hot expand bond codes: ``E x 4`` int codes -> ``E x BOND_DIM`` float."""
    n = bond_codes.shape[0]
    x = torch.zeros(n, BOND_DIM + 1, dtype=torch.float32)  # +1: sink column for "other" type
    if n == 0:
        return x[:, :BOND_DIM]
    codes = bond_codes.long()
    type_col = torch.where(codes[:, 0] < 4, codes[:, 0], torch.full_like(codes[:, 0], BOND_DIM))
    x.scatter_(1, type_col[:, None], 1.0)
    x[:, 4] = codes[:, 1].float()
    x[:, 5] = codes[:, 2].float()
    x.scatter_(1, (6 + codes[:, 3])[:, None], 1.0)
    return x[:, :BOND_DIM]
