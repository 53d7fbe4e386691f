"""Nearest-neighbour similarity to a reference set: a model's applicability domain.

A model trained on one chemical series extrapolates wildly on molecules unlike anything it saw
(the demo's model predicts pIC50 near 18 for cobalt complexes, ten log units above its training
range, with a small ensemble spread). The Tanimoto similarity of each molecule's Morgan
fingerprint to its nearest training molecule says which predictions rest on data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator


def nearest_similarity(
    mols: Sequence[Chem.Mol], reference: Sequence[Chem.Mol], radius: int = 2, size: int = 2048
) -> np.ndarray:
    """Largest Tanimoto similarity of each molecule to any reference molecule (Morgan bits).

    Args:
        mols: molecules to place.
        reference: the set they are compared with, e.g. a model's training molecules.
        radius, size: Morgan fingerprint radius and bit count.

    Returns:
        One similarity in [0, 1] per molecule; 0 when ``reference`` is empty.
    """
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=size)
    references = [generator.GetFingerprint(mol) for mol in reference]
    out = np.zeros(len(mols), dtype=np.float32)
    if not references:
        return out
    for index, mol in enumerate(mols):
        out[index] = max(DataStructs.BulkTanimotoSimilarity(generator.GetFingerprint(mol), references))
    return out
