"""Molecule featurizers registered by name: graphs, Morgan fingerprints, RDKit 2D descriptors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, rdFingerprintGenerator

from biomodels.chem.similarity import packed_fingerprints
from biomodels.featurize.base import FEATURIZERS
from biomodels.featurize.graph import GraphArrays, featurize_graphs


@FEATURIZERS.register("graph")
@dataclass(frozen=True)
class GraphFeaturizer:
    """Molecular graph with atom and bond features (see :mod:`biomodels.featurize.graph`)."""

    name = "graph"
    input_kind = "molecule"

    def config(self) -> dict[str, Any]:
        return {"name": self.name}

    def featurize_chunk(
        self, items: Sequence[Chem.Mol], texts: Sequence[str | None] | None = None
    ) -> GraphArrays:
        return featurize_graphs(items, texts)


@dataclass(frozen=True)
class _MorganBase:
    radius: int = 2
    size: int = 2048

    input_kind = "molecule"

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **asdict(self)}

    @cached_property
    def _generator(self):
        return rdFingerprintGenerator.GetMorganGenerator(radius=self.radius, fpSize=self.size)

    def feature_names(self) -> list[str]:
        return [f"{self.name}_{i}" for i in range(self.size)]


@FEATURIZERS.register("morgan")
@dataclass(frozen=True)
class MorganBitsFeaturizer(_MorganBase):
    """Morgan (ECFP-like) bit fingerprint, ``radius`` and ``size`` bits; ``n x size`` uint8."""

    name = "morgan"

    def featurize_chunk(self, items: Sequence[Chem.Mol], texts=None) -> np.ndarray:
        out = np.zeros((len(items), self.size), np.uint8)
        for i, mol in enumerate(items):
            out[i] = self._generator.GetFingerprintAsNumPy(mol)
        return out


@FEATURIZERS.register("morgan_packed")
@dataclass(frozen=True)
class MorganPackedFeaturizer(_MorganBase):
    """Morgan bit fingerprint packed eight bits a byte, ``n x size/8`` uint8: the bytes of
    :func:`~biomodels.chem.similarity.packed_fingerprints`, what a molecule model's applicability
    domain reads from a training table (1/8 of ``morgan``'s memory)."""

    name = "morgan_packed"

    def feature_names(self) -> list[str]:
        return [f"{self.name}_{i}" for i in range(self.size // 8)]

    def featurize_chunk(self, items: Sequence[Chem.Mol], texts=None) -> np.ndarray:
        return packed_fingerprints(items, self.radius, self.size).view(np.uint8)


@FEATURIZERS.register("morgan_count")
@dataclass(frozen=True)
class MorganCountFeaturizer(_MorganBase):
    """Morgan count fingerprint (folded counts); ``n x size`` float32."""

    name = "morgan_count"

    def featurize_chunk(self, items: Sequence[Chem.Mol], texts=None) -> np.ndarray:
        out = np.zeros((len(items), self.size), np.float32)
        for i, mol in enumerate(items):
            out[i] = self._generator.GetCountFingerprintAsNumPy(mol)
        return out


@FEATURIZERS.register("rdkit2d")
@dataclass(frozen=True)
class RDKit2DFeaturizer:
    """All of RDKit's 2D descriptors (``Descriptors._descList``, about 200); ``n x d`` float32.

    Non-finite values (a few descriptors overflow on odd molecules) become NaN; models
    standardise these columns and impute NaN with the training mean.
    """

    name = "rdkit2d"
    input_kind = "molecule"

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "n_descriptors": len(Descriptors._descList)}

    def feature_names(self) -> list[str]:
        return [name for name, _ in Descriptors._descList]

    def featurize_chunk(self, items: Sequence[Chem.Mol], texts=None) -> np.ndarray:
        functions = [fn for _, fn in Descriptors._descList]
        out = np.full((len(items), len(functions)), np.nan, np.float64)
        with rdBase.BlockLogs():
            for i, mol in enumerate(items):
                for j, fn in enumerate(functions):
                    try:
                        out[i, j] = fn(mol)
                    except Exception:  # a descriptor failing on one molecule gives NaN there
                        continue
        out[~np.isfinite(out)] = np.nan
        with np.errstate(over="ignore"):
            return np.clip(out, -1e30, 1e30).astype(np.float32)
