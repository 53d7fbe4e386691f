"""Drug-target affinity model: ligand graph encoder + protein sequence encoder -> interaction head.

Built from a JSON-serialisable :class:`AffinityConfig` whose names are registry keys
(:data:`~biomodels.nn.ENCODERS` for the ligand, :data:`~biomodels.nn.PROTEIN_ENCODERS` for the
protein, :data:`~biomodels.nn.READOUTS`), so a checkpoint is ``state_dict`` + ``to_dict()``.

A :class:`PairBatch` holds each distinct ligand and protein of a batch once; the pairs index
into them. Davis has 68 compounds and 442 proteins: a batch of 512 pairs encodes at most 68
graphs and a few hundred sequences instead of 512 of each.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

import torch
from torch import nn

from biomodels.data.graphs import MoleculeBatch
from biomodels.featurize.graph import ATOM_DIM, BOND_DIM
from biomodels.models.config import JSONConfig
from biomodels.nn import ENCODERS, PROTEIN_ENCODERS, READOUTS, mlp
from biomodels.nn.losses import masked_mse

__all__ = ["AffinityConfig", "AffinityModel", "PairBatch"]


@dataclass
class PairBatch:
    """``B`` (ligand, protein) pairs over ``D`` distinct ligands and ``P`` distinct proteins.

    Attributes:
        ligands: a :class:`~biomodels.data.graphs.MoleculeBatch` of the ``D`` ligand graphs.
        proteins: ``P x ...`` protein encoder inputs (:meth:`~biomodels.nn.ProteinEncoder.collate`d).
        ligand_index, protein_index: ``B`` long, each pair's row among the ligands / proteins.
        y: ``B`` float affinities (scaled), when known.
    """

    ligands: MoleculeBatch
    proteins: torch.Tensor
    ligand_index: torch.Tensor
    protein_index: torch.Tensor
    y: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> PairBatch:
        """The same batch with every tensor on ``device``."""
        return dataclasses.replace(
            self,
            ligands=self.ligands.to(device),
            **{
                f.name: getattr(self, f.name).to(device)
                for f in fields(self)
                if isinstance(getattr(self, f.name), torch.Tensor)
            },
        )


@dataclass
class AffinityConfig(JSONConfig):
    """Architecture of an :class:`AffinityModel`; every field is JSON-serialisable.

    Attributes:
        ligand_encoder: :data:`~biomodels.nn.ENCODERS` key (``gin``, ``dmpnn``...).
        hidden, depth: ligand encoder width and message-passing steps.
        readout: :data:`~biomodels.nn.READOUTS` key pooling atoms into the ligand embedding.
        protein_encoder: :data:`~biomodels.nn.PROTEIN_ENCODERS` key (``cnn``, ``kmer``).
        protein_options: the protein encoder's keyword arguments.
        ffn_hidden, ffn_layers: width and hidden layers of the interaction head, which reads
            ``[ligand || protein]`` embeddings.
        dropout: dropout of the ligand encoder and the head.
    """

    ligand_encoder: str = "gin"
    hidden: int = 128
    depth: int = 3
    readout: str = "sum"
    protein_encoder: str = "cnn"
    protein_options: dict[str, Any] = field(default_factory=dict)
    ffn_hidden: int = 512
    ffn_layers: int = 2
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for registry, name in (
            (ENCODERS, self.ligand_encoder),
            (READOUTS, self.readout),
            (PROTEIN_ENCODERS, self.protein_encoder),
        ):
            registry.get(name)  # an unknown name raises, listing the valid ones


class AffinityModel(nn.Module):
    """Predicts one affinity per (ligand, protein) pair (see the module docstring).

    Shapes:
        batch: a :class:`PairBatch` of ``B`` pairs; returns ``B`` affinities (scaled units).
    """

    def __init__(self, config: AffinityConfig):
        super().__init__()
        self.config = config
        self.ligand = ENCODERS.get(config.ligand_encoder)(
            ATOM_DIM, BOND_DIM, hidden=config.hidden, depth=config.depth, dropout=config.dropout
        )
        self.readout = READOUTS.get(config.readout)(config.hidden)
        self.protein = PROTEIN_ENCODERS.get(config.protein_encoder)(**config.protein_options)
        self.head = mlp(
            config.hidden + self.protein.out_dim,
            1,
            hidden=config.ffn_hidden,
            layers=config.ffn_layers,
            dropout=config.dropout,
        )

    def embed_ligands(self, ligands: MoleculeBatch) -> torch.Tensor:
        """``D x hidden`` embeddings of the batch's distinct ligands."""
        return self.readout(self.ligand(ligands), ligands.batch, ligands.num_graphs)

    def score(
        self,
        ligands: torch.Tensor,
        proteins: torch.Tensor,
        ligand_index: torch.Tensor,
        protein_index: torch.Tensor,
    ) -> torch.Tensor:
        """Affinities (``B``) of the pairs ``(ligands[ligand_index], proteins[protein_index])``
        from ``D x hidden`` ligand and ``P x out_dim`` protein embeddings."""
        return self.head(torch.cat([ligands[ligand_index], proteins[protein_index]], dim=1)).squeeze(-1)

    def forward(self, batch: PairBatch) -> torch.Tensor:
        ligands = self.embed_ligands(batch.ligands)
        return self.score(ligands, self.protein(batch.proteins), batch.ligand_index, batch.protein_index)

    def loss(self, outputs: torch.Tensor, batch: PairBatch) -> torch.Tensor:
        """Mean squared error against ``batch.y``."""
        return masked_mse(outputs, batch.y)
