"""Molecule grids: the best compounds of a ranking drawn with their scores (PNG)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rdkit import Chem
from rdkit.Chem import Draw

from biomodels.utils import atomic_path

__all__ = ["draw_top_compounds"]


def draw_top_compounds(top: pd.DataFrame, path: str | Path, score: str, per_row: int = 5) -> Path:
    """Draw ``top`` (``id``, ``smiles``, ``score``, ``uncertainty``, ``nn_similarity``) as a
    grid, each compound with ``id: score +/- uncertainty (sim similarity)``, to the PNG ``path``."""
    legends = [
        f"{r.id}: {getattr(r, score):.2f} +/- {r.uncertainty:.2f} (sim {r.nn_similarity:.2f})"
        for r in top.itertuples(index=False)
    ]
    image = Draw.MolsToGridImage(
        [Chem.MolFromSmiles(s) for s in top["smiles"]],
        molsPerRow=per_row,
        subImgSize=(260, 220),
        legends=legends,
    )
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
    return Path(path)
