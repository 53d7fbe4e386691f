"""Molecule standardisation with RDKit's rdMolStandardize.

What :func:`standardize_mol` changes, in order:

1. ``Cleanup``: RDKit's default clean-up (removes explicit Hs, disconnects metals from
   organic atoms where bonded covalently, normalises functional groups such as nitro or
   N-oxide drawn in different charge-separated forms, reionises).
2. Largest fragment: keeps the largest organic fragment, dropping salts and solvents
   (``LargestFragmentChooser``).
3. Neutralise: removes charges that can be removed by adding or removing protons
   (``Uncharger``); quaternary nitrogens and zwitterions that cannot be neutralised stay charged.
4. Optionally the canonical tautomer (``TautomerEnumerator.Canonicalize``); off by default
   because it can move stereocentres and is slower (about 1 ms per molecule).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize


@dataclass(frozen=True)
class Standardizer:
    """Callable standardiser; build once and reuse (the RDKit helpers are reused across calls)."""

    largest_fragment: bool = True
    neutralize: bool = True
    canonical_tautomer: bool = False

    @cached_property
    def _fragment_chooser(self) -> rdMolStandardize.LargestFragmentChooser:
        return rdMolStandardize.LargestFragmentChooser(preferOrganic=True)

    @cached_property
    def _uncharger(self) -> rdMolStandardize.Uncharger:
        return rdMolStandardize.Uncharger()

    @cached_property
    def _tautomer_enumerator(self) -> rdMolStandardize.TautomerEnumerator:
        return rdMolStandardize.TautomerEnumerator()

    def __call__(self, mol: Chem.Mol) -> Chem.Mol:
        mol = rdMolStandardize.Cleanup(mol)
        if self.largest_fragment:
            mol = self._fragment_chooser.choose(mol)
        if self.neutralize:
            mol = self._uncharger.uncharge(mol)
        if self.canonical_tautomer:
            mol = self._tautomer_enumerator.Canonicalize(mol)
        return mol


def standardize_mol(mol: Chem.Mol, canonical_tautomer: bool = False) -> Chem.Mol:
    """Standardise one molecule (see the module docstring for what changes)."""
    return Standardizer(canonical_tautomer=canonical_tautomer)(mol)
