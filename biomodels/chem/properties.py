"""Molecular properties used for drug-likeness: weight, logP, TPSA, H-bond counts, QED, SA score.

Every property is a plain module-level function ``mol -> float`` registered in :data:`PROPERTIES`
under its column name, so a screening run can name the properties it needs and ship them to
process pools or Dask workers by reference (RDKit's own ``Descriptors.MolWt`` is a lambda, which
does not pickle; the thin wrappers here do).

The synthetic accessibility (SA) score comes from RDKit's Contrib ``SA_Score/sascorer.py``
(Ertl & Schuffenhauer, J. Cheminf. 2009). It is imported and its fragment model loaded at most
once per process, on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
from rdkit import Chem, RDConfig
from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors
from rdkit.Chem.SaltRemover import SaltRemover

from biomodels.registry import Registry

logger = logging.getLogger(__name__)

__all__ = ["PROPERTIES", "PropertyFunction", "compute_properties"]

PropertyFunction = Callable[[Chem.Mol], float]

PROPERTIES: Registry[PropertyFunction] = Registry("property")
"""Property name -> function ``mol -> float``; the name is also the output column."""


@PROPERTIES.register("mw")
def molecular_weight(mol: Chem.Mol) -> float:
    """Average molecular weight in Da, implicit hydrogens included (``Descriptors.MolWt``)."""
    return float(Descriptors.MolWt(mol))


@PROPERTIES.register("clogp")
def clogp(mol: Chem.Mol) -> float:
    """Wildman-Crippen calculated logP (``Crippen.MolLogP``)."""
    return float(Crippen.MolLogP(mol))


@PROPERTIES.register("tpsa")
def tpsa(mol: Chem.Mol) -> float:
    """Topological polar surface area in square angstroms, N and O only (Ertl's original)."""
    return float(rdMolDescriptors.CalcTPSA(mol))


@PROPERTIES.register("hbd")
def hbd(mol: Chem.Mol) -> float:
    """Hydrogen-bond donors as Lipinski counts them (``Lipinski.NumHDonors``)."""
    return float(Lipinski.NumHDonors(mol))


@PROPERTIES.register("hba")
def hba(mol: Chem.Mol) -> float:
    """Hydrogen-bond acceptors (``Lipinski.NumHAcceptors``)."""
    return float(Lipinski.NumHAcceptors(mol))


@PROPERTIES.register("rotb")
def rotatable_bonds(mol: Chem.Mol) -> float:
    """Rotatable bonds (``Lipinski.NumRotatableBonds``, RDKit's default strict definition)."""
    return float(Lipinski.NumRotatableBonds(mol))


@PROPERTIES.register("heavy_atoms")
def heavy_atoms(mol: Chem.Mol) -> float:
    """Number of non-hydrogen atoms."""
    return float(mol.GetNumHeavyAtoms())


@PROPERTIES.register("fragments")
def fragments(mol: Chem.Mol) -> float:
    """Disconnected fragments left after stripping common salts and solvents (RDKit's
    ``SaltRemover`` defaults: halide, alkali metal and other counterions, water), at least one.

    A record of several fragments that remain is a mixture or a complex drawn disconnected; one
    graph's prediction for it means little.
    """
    if len(Chem.GetMolFrags(mol)) == 1:  # most molecules: no stripping needed
        return 1.0
    stripped = _salt_remover().StripMol(mol, dontRemoveEverything=True)
    return float(max(1, len(Chem.GetMolFrags(stripped))))


@functools.cache
def _salt_remover() -> SaltRemover:
    return SaltRemover()


@PROPERTIES.register("qed")
def qed(mol: Chem.Mol) -> float:
    """Quantitative estimate of drug-likeness in [0, 1] (Bickerton et al. 2012, ``QED.qed``)."""
    return float(QED.qed(mol))


@PROPERTIES.register("sa")
def sa_score(mol: Chem.Mol) -> float:
    """Synthetic accessibility score from 1 (easy) to 10 (hard), RDKit Contrib ``sascorer``."""
    return float(_sascorer().calculateScore(mol))


@functools.cache
def _sascorer() -> ModuleType:
    """Import RDKit's Contrib ``sascorer`` and load its fragment model, once per process.

    Loaded by file path rather than by adding Contrib to ``sys.path``, so no other Contrib
    module can shadow an installed package.

    Raises:
        ImportError: the RDKit build ships no ``Contrib/SA_Score`` (some conda and system builds).
    """
    path = Path(RDConfig.RDContribDir) / "SA_Score" / "sascorer.py"
    if not path.is_file():
        raise ImportError(
            f"the 'sa' property needs RDKit's Contrib SA_Score module, not found at {path}; "
            "install an RDKit build that ships Contrib (the PyPI 'rdkit' wheel does) "
            "or leave 'sa' out of the requested properties"
        )
    spec = importlib.util.spec_from_file_location("sascorer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.readFragmentScores()  # fragment model: a 3.8 MB gzipped pickle, read once here
    logger.debug("loaded SA score model from %s", path)
    return module


def compute_properties(
    mols: Sequence[Chem.Mol | None], names: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Compute named properties for a batch of molecules, one row per input molecule.

    Rows stay aligned with the input (row ``i`` is ``mols[i]``): a ``None`` molecule, i.e. one
    that failed to parse, gets a row of NaN instead of being dropped.

    Args:
        mols: molecules, ``None`` for unparsable records.
        names: property names from :data:`PROPERTIES` (a single name is accepted as a string),
            in the order wanted for the columns; ``None`` computes all, in sorted name order.

    Returns:
        A float64 frame of shape ``N x len(names)`` with a ``RangeIndex`` over the input.

    Raises:
        UnknownNameError: a name is not a registered property; the message lists the valid ones.
        ImportError: ``sa`` was requested and RDKit's Contrib SA_Score is missing.
    """
    if names is None:
        names = PROPERTIES.names()
    elif isinstance(names, str):
        names = [names]
    functions = {name: PROPERTIES.get(name) for name in names}
    values = np.full((len(mols), len(functions)), np.nan)
    for i, mol in enumerate(mols):
        if mol is not None:
            values[i] = [function(mol) for function in functions.values()]
    return pd.DataFrame(values, columns=list(functions))
