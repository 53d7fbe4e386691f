"""Atom and bond fields read straight out of RDKit's binary molecule pickle (``Mol.ToBinary``).

Why: asking RDKit for each field goes through one Python wrapper object per atom and bond, about
2 us each, which is most of a graph featurizer's time. ``ToBinary`` writes every field we need
(element, charge, chirality, hybridisation, hydrogens, bond type, conjugation, stereo, rings) in
one C++ call, and numpy reads a whole chunk of pickles at once: the variable-length records are
walked in lockstep, one step per atom (or bond) index across all molecules of the chunk.

The layout followed is RDKit's ``MolPickler`` (``Code/GraphMol/MolPickler.cpp``) at pickle format
version 16: a 20-byte header, atom and bond counts, then one record per atom, per bond and per
ring. Molecules this reader does not cover come back in ``DecodedPickles.unsupported`` for the
caller to read through RDKit's objects: other pickle versions, more than 255 atoms (4-byte
indices), query atoms or bonds, atom map numbers, dummy labels, PDB residue info, isotopes
written in the old float form, and bond types other than single, double, triple and aromatic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from biomodels.featurize.arrays import concat_ranges

PICKLE_VERSION_MAJOR = 16
_HEADER_BYTES = 30  # endian id, VERSION tag, 3 version ints, atom and bond counts, flag, BEGINATOM
_ENDIAN_ID = 0xDEADBEEF - 2**32  # as a signed 32-bit integer
_BEGIN_ATOM, _BEGIN_BOND, _END_MOL = 1, 11, 22
_SINGLE, _SP3 = 1, 4  # the bond type and hybridisation that a record leaves out

# An atom record: atomic number, flags, 4-byte property flags, then one byte for each of the
# property bits 1-7 that is set (charge, chirality, hybridisation, explicit Hs, explicit
# valence, implicit valence, radicals) and a 4-byte isotope for bit 8. Not covered: atom flags
# 0x80 (coordinates), 0x10 (query), 0x08 (map number), 0x04 (dummy label), 0x02 (monomer info);
# property bit 0 (old float mass) and bits above 8.
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
_ATOM_LENGTH = 6 + np.array([bin(i & 0xFE).count("1") for i in range(256)], dtype=np.int64)
_ATOM_FLAGS_UNSUPPORTED = 0x80 | 0x10 | 0x08 | 0x04 | 0x02
# A bond record: begin, end, flags, then type (flag 0x08), direction (0x04), and stereo, stereo
# atom count and stereo atoms (0x02). Not covered: flags 0x10 (query), 0x01 (mol-file end points).
_BOND_HEAD = np.array([3 + ((f >> 3) & 1) + ((f >> 2) & 1) for f in range(256)], dtype=np.int64)
_BOND_HAS_STEREO = np.array([(f >> 1) & 1 for f in range(256)], dtype=np.int64)
_BOND_FLAGS_UNSUPPORTED = 0x80 | 0x10 | 0x01
_TYPE_WRITTEN = np.zeros(256, bool)
_TYPE_WRITTEN[[2, 3, 12]] = True  # double, triple, aromatic (single is left out)
_IS_RING_TAG = np.zeros(256, bool)
_IS_RING_TAG[[7, 66, 67, 68]] = True  # BEGINSSSR, BEGINSYMMSSSR, BEGINFASTFIND, BEGINFINDOTHER...


@dataclass
class DecodedPickles:
    """Per-atom and per-bond RDKit values of the supported molecules, concatenated in order.

    Enum fields hold RDKit's integer values (``int(Chem.HybridizationType.SP2)`` and so on).
    ``molecules`` are the indices (into the input) that were decoded; ``unsupported`` the rest.
    """

    molecules: np.ndarray
    unsupported: np.ndarray
    n_atoms: np.ndarray
    n_bonds: np.ndarray
    atomic_num: np.ndarray
    formal_charge: np.ndarray
    chiral_tag: np.ndarray
    hybridization: np.ndarray
    total_hs: np.ndarray
    begin: np.ndarray
    end: np.ndarray
    bond_type: np.ndarray
    conjugated: np.ndarray
    bond_stereo: np.ndarray
    bond_in_ring: np.ndarray


def decode_mols(mols: Sequence[Chem.Mol]) -> DecodedPickles:
    """Decode the pickles of sanitised molecules (``Mol.ToBinary()``, no properties)."""
    return decode_pickles([mol.ToBinary() for mol in mols])


def decode_pickles(pickles: Sequence[bytes]) -> DecodedPickles:
    """Decode ``Mol.ToBinary()`` outputs; see the module docstring for what is covered."""
    lengths = np.fromiter(map(len, pickles), dtype=np.int64, count=len(pickles))
    buf = np.frombuffer(b"".join(pickles) + bytes(8), dtype=np.uint8)  # 8: reads past the end
    starts = np.zeros(len(pickles), np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    last = starts + np.maximum(lengths, 1) - 1  # walks are clamped here, so reads stay in range

    ok = lengths >= _HEADER_BYTES
    safe = np.where(ok, starts, 0)
    ok &= (_int32(buf, safe) == _ENDIAN_ID) & (_int32(buf, safe + 8) == PICKLE_VERSION_MAJOR)
    ok &= buf[safe + 29] == _BEGIN_ATOM
    n_atoms = np.where(ok, _int32(buf, safe + 20), 0)
    n_bonds = np.where(ok, _int32(buf, safe + 24), 0)
    ok &= (n_atoms >= 0) & (n_atoms <= 255) & (n_bonds >= 0) & (n_bonds <= 255 * 8)
    n_atoms, n_bonds = np.where(ok, n_atoms, 0), np.where(ok, n_bonds, 0)

    atom_at, pos, bad = _walk_atoms(buf, np.minimum(starts + _HEADER_BYTES, last), n_atoms, last)
    ok &= ~bad & (buf[pos] == _BEGIN_BOND)
    n_bonds = np.where(ok, n_bonds, 0)  # counts match what was walked
    bond_at, pos, bad = _walk_bonds(buf, pos + 1, n_bonds, last)
    ok &= ~bad & _IS_RING_TAG[buf[pos]]
    n_rings, ring_start, ring_size, pos, bad = _walk_rings(buf, np.where(ok, pos + 1, last), ok, last)
    ok &= ~bad & (pos < last) & (buf[last] == _END_MOL)  # the walk ended inside a whole pickle

    keep = np.flatnonzero(ok)
    atoms = _select(n_atoms, keep)
    bonds = _select(n_bonds, keep)
    fields = _atom_fields(buf, atom_at[atoms])
    bond_fields = _bond_fields(buf, bond_at[bonds])
    kept_atoms = n_atoms[keep]  # bonds and rings both index atoms of the kept molecules
    atom_offset = np.repeat(np.cumsum(kept_atoms) - kept_atoms, n_bonds[keep])
    in_ring = _bonds_in_rings(
        bond_fields["begin"] + atom_offset,
        bond_fields["end"] + atom_offset,
        *_ring_atoms(buf, n_rings, ring_start, ring_size, n_atoms, keep),
    )
    return DecodedPickles(
        molecules=keep,
        unsupported=np.flatnonzero(~ok),
        n_atoms=n_atoms[keep],
        n_bonds=n_bonds[keep],
        **fields,
        **bond_fields,
        bond_in_ring=in_ring,
    )


def _int32(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Little-endian signed 32-bit integers at byte offsets ``at``."""
    b = [buf[at + k].astype(np.int64) for k in range(4)]
    value = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)
    return np.where(value >= 2**31, value - 2**32, value)


def _lockstep(counts: np.ndarray):
    """Yield ``(step, molecules)`` for step 0..max(counts)-1: the molecules with a record left.

    Molecules are visited in descending count order, so each step's set is a prefix.
    """
    order = np.argsort(-counts, kind="stable")
    sorted_counts = counts[order]
    for step in range(int(sorted_counts[0]) if len(counts) else 0):
        active = int(np.searchsorted(-sorted_counts, -step, side="left"))
        yield step, order[:active]


def _walk_atoms(buf, pos, n_atoms, last):
    """Byte offset of every atom record; the position after the last; molecules not covered."""
    record_at, pos = _walk(buf, pos, n_atoms, last, _atom_record_length)
    flags, props = buf[record_at + 1], buf[record_at + 2]
    high = buf[record_at + 3] | buf[record_at + 4] | buf[record_at + 5]
    unsupported = ((flags & _ATOM_FLAGS_UNSUPPORTED) | (props & 1) | (high & 0xFE)) != 0
    return record_at, pos, _per_molecule(unsupported, n_atoms)


def _atom_record_length(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return _ATOM_LENGTH[buf[at + 2]] + 4 * (buf[at + 3] & 1)


def _walk_bonds(buf, pos, n_bonds, last):
    """Byte offset of every bond record; the position after the last; molecules not covered."""
    record_at, pos = _walk(buf, pos, n_bonds, last, _bond_record_length)
    flags = buf[record_at + 2]
    unsupported = (flags & _BOND_FLAGS_UNSUPPORTED) != 0
    unsupported |= ((flags & 8) != 0) & ~_TYPE_WRITTEN[buf[record_at + 3]]
    return record_at, pos, _per_molecule(unsupported, n_bonds)


def _bond_record_length(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    flags = buf[at + 2]
    head = _BOND_HEAD[flags]
    return head + _BOND_HAS_STEREO[flags] * (2 + buf[at + head + 1])


def _walk(buf, pos, counts, last, record_length):
    """Walk variable-length records, one step per record index across all molecules at once.

    Returns the byte offset of every record (molecule by molecule) and the position after each
    molecule's last record. Positions are clamped to the molecule's last byte, so a molecule
    whose records are not understood only reads garbage of its own (its checks then fail).
    """
    pos = pos.copy()
    record_at = np.zeros(int(counts.sum()), np.int64)
    first = np.cumsum(counts) - counts
    for step, mols in _lockstep(counts):
        at = pos[mols]
        record_at[first[mols] + step] = at
        pos[mols] = np.minimum(at + record_length(buf, at), last[mols])
    return record_at, pos


def _per_molecule(flags: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Whether any of each molecule's records is flagged."""
    owner = np.repeat(np.arange(len(counts)), counts)
    return np.bincount(owner[flags], minlength=len(counts)) > 0


def _walk_rings(buf, pos, ok, last):
    """Ring count per molecule, each ring's first atom byte and size, end positions, molecules
    not covered. A ring record is its size then its atom indices, in ring order."""
    n_rings = np.where(ok, _int32(buf, pos), 0)
    bad = (n_rings < 0) | (n_rings > 1024)
    n_rings = np.where(bad, 0, n_rings)
    record_at, pos = _walk(buf, np.minimum(pos + 4, last), n_rings, last, _ring_record_length)
    sizes = buf[record_at].astype(np.int64)
    bad |= _per_molecule(sizes < 3, n_rings)
    return n_rings, record_at + 1, sizes, pos, bad


def _ring_record_length(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return 1 + buf[at].astype(np.int64)


def _atom_fields(buf: np.ndarray, at: np.ndarray) -> dict[str, np.ndarray]:
    props = buf[at + 2].astype(np.int64)

    def optional(bit: int, default: int, signed: bool = False) -> np.ndarray:
        # The field follows the 6 fixed bytes and one byte per lower property bit that is set.
        offset = at + 6 + _POPCOUNT[props & ((1 << bit) - 2)]
        value = buf[offset].astype(np.int8 if signed else np.uint8).astype(np.int64)
        return np.where(props & (1 << bit), value, default)

    return {
        "atomic_num": buf[at].astype(np.int64),
        "formal_charge": optional(1, 0, signed=True),
        "chiral_tag": optional(2, 0),
        "hybridization": optional(3, _SP3),
        # RDKit's GetTotalNumHs(): explicit Hs plus the implicit valence (implicit Hs)
        "total_hs": optional(4, 0) + optional(6, 0),
    }


def _bond_fields(buf: np.ndarray, at: np.ndarray) -> dict[str, np.ndarray]:
    flags = buf[at + 2].astype(np.int64)
    has_type = (flags >> 3) & 1
    stereo_at = at + 3 + has_type + ((flags >> 2) & 1)
    return {
        "begin": buf[at].astype(np.int64),
        "end": buf[at + 1].astype(np.int64),
        "bond_type": np.where(has_type, buf[at + 3], _SINGLE).astype(np.int64),
        "conjugated": (flags >> 5) & 1,
        "bond_stereo": np.where(flags & 2, buf[stereo_at], 0).astype(np.int64),
    }


def _select(counts: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Indices of the records (atoms or bonds) that belong to the molecules ``keep``."""
    first = np.cumsum(counts) - counts
    return concat_ranges(first[keep], counts[keep])


def _ring_atoms(buf, n_rings, ring_start, ring_size, n_atoms, keep):
    """Atoms of the kept molecules' rings, as indices among the kept atoms, and ring sizes."""
    rings = _select(n_rings, keep)
    sizes = ring_size[rings]
    local = buf[concat_ranges(ring_start[rings], sizes)].astype(np.int64)
    kept_atoms = n_atoms[keep]
    atom_base = np.repeat(np.cumsum(kept_atoms) - kept_atoms, n_rings[keep])
    return local + np.repeat(atom_base, sizes), sizes


def _bonds_in_rings(
    begin: np.ndarray, end: np.ndarray, ring_atoms: np.ndarray, ring_sizes: np.ndarray
) -> np.ndarray:
    """A bond is in a ring when its atoms are neighbours in some ring's atom cycle."""
    if len(ring_atoms) == 0:
        return np.zeros(len(begin), np.int64)
    ring_first = np.cumsum(ring_sizes) - ring_sizes
    following = np.arange(len(ring_atoms)) + 1
    following[np.cumsum(ring_sizes) - 1] = ring_first  # a ring's last atom closes to its first
    a, b = ring_atoms, ring_atoms[following]
    # Both atoms belong to one molecule of at most 255 atoms: (lower index, gap) is a dense key.
    n_keys = 256 * (int(max(begin.max(initial=0), end.max(initial=0), ring_atoms.max())) + 1)
    ring_pair = np.zeros(n_keys, bool)
    ring_pair[np.minimum(a, b) * 256 + np.abs(a - b)] = True
    return ring_pair[np.minimum(begin, end) * 256 + np.abs(begin - end)].astype(np.int64)
