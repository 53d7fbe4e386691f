"""Ligand encoders of the affinity model: molecules -> one embedding per compound
(:func:`build_ligand_encoder`: ``morgan`` or any graph encoder of :data:`~biomodels.nn.ENCODERS`).

Like the protein encoders (:mod:`biomodels.nn.protein`), each says how its input is computed
once per distinct compound (:meth:`LigandEncoder.featurize`) and how the rows of a batch are
gathered (:meth:`LigandEncoder.collate`), so a model holds every compound's input once and picks
rows per batch.

==========  =======================================  ===========================================
name        input (``D`` compounds)                  network
==========  =======================================  ===========================================
``morgan``  ``D x 2048`` float32, ``log1p`` of       two-layer MLP: cheap on a CPU, the input is
            Morgan radius-2 count fingerprints       fixed per compound
``gin``,    molecular graphs                         the graph encoder of
``dmpnn``                                            :data:`~biomodels.nn.ENCODERS` + a readout
==========  =======================================  ===========================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem
from torch import nn

from biomodels.data.graphs import MoleculeBatch, collate_graphs
from biomodels.featurize.graph import ATOM_DIM, BOND_DIM, GraphArrays, featurize_graphs
from biomodels.featurize.molecular import MorganCountFeaturizer
from biomodels.nn.encoders import ENCODERS
from biomodels.nn.heads import mlp
from biomodels.nn.readout import READOUTS

__all__ = [
    "GraphLigandEncoder",
    "LigandEncoder",
    "MorganLigandEncoder",
    "build_ligand_encoder",
    "ligand_encoder_names",
    "ligand_encoder_type",
]


class LigandEncoder(nn.Module):
    """Base class: ``forward(x) -> D x hidden`` for the :meth:`collate` of :meth:`featurize` rows."""

    @staticmethod
    def featurize(mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None) -> object:
        """The encoder's input of every compound, computed once per data set."""
        raise NotImplementedError

    @staticmethod
    def collate(inputs: object, rows: np.ndarray) -> object:
        """The inputs of compounds ``rows`` as the forward pass takes them."""
        raise NotImplementedError


class MorganLigandEncoder(LigandEncoder):
    """A two-layer MLP on ``log1p`` Morgan count fingerprints (radius 2, 2048 bits).

    Shapes:
        x: ``D x 2048`` float32; returns ``D x hidden``.
    """

    BITS = 2048

    def __init__(self, hidden: int = 128, dropout: float = 0.0):
        super().__init__()
        self.net = mlp(self.BITS, hidden, hidden=hidden, layers=1, dropout=dropout)

    @staticmethod
    def featurize(mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None) -> np.ndarray:
        counts = MorganCountFeaturizer(radius=2, size=MorganLigandEncoder.BITS).featurize_chunk(mols)
        return np.log1p(counts)

    @staticmethod
    def collate(inputs: np.ndarray, rows: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(inputs[rows])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class GraphLigandEncoder(LigandEncoder):
    """A graph encoder of :data:`~biomodels.nn.ENCODERS` (``name``) and a readout over atoms.

    Shapes:
        x: a :class:`~biomodels.data.graphs.MoleculeBatch` of ``D`` graphs; returns ``D x hidden``.
    """

    def __init__(
        self, name: str, hidden: int = 128, depth: int = 3, readout: str = "sum", dropout: float = 0.0
    ):
        super().__init__()
        self.encoder = ENCODERS.get(name)(ATOM_DIM, BOND_DIM, hidden=hidden, depth=depth, dropout=dropout)
        self.readout = READOUTS.get(readout)(hidden)

    @staticmethod
    def featurize(mols: Sequence[Chem.Mol], smiles: Sequence[str | None] | None = None) -> GraphArrays:
        return featurize_graphs(mols, smiles)

    @staticmethod
    def collate(inputs: GraphArrays, rows: np.ndarray) -> MoleculeBatch:
        return collate_graphs(inputs, rows)

    def forward(self, x: MoleculeBatch) -> torch.Tensor:
        return self.readout(self.encoder(x), x.batch, x.num_graphs)


def ligand_encoder_names() -> list[str]:
    """Every name :func:`build_ligand_encoder` takes: ``morgan`` and the graph encoders."""
    return ["morgan", *ENCODERS.names()]


def ligand_encoder_type(name: str) -> type[LigandEncoder]:
    """The class behind ``name`` (its static :meth:`~LigandEncoder.featurize` and ``collate``).

    Raises:
        KeyError: an unknown name (the message lists the valid ones).
    """
    if name == "morgan":
        return MorganLigandEncoder
    if name not in ENCODERS:
        raise KeyError(f"unknown ligand encoder {name!r}; choose one of: {', '.join(ligand_encoder_names())}")
    return GraphLigandEncoder


def build_ligand_encoder(
    name: str, hidden: int = 128, depth: int = 3, readout: str = "sum", dropout: float = 0.0
) -> LigandEncoder:
    """The ligand encoder ``name`` (``morgan`` or a graph encoder of :data:`~biomodels.nn.ENCODERS`)."""
    if ligand_encoder_type(name) is MorganLigandEncoder:
        return MorganLigandEncoder(hidden, dropout)
    return GraphLigandEncoder(name, hidden, depth, readout, dropout)
