"""Drug-target affinity model: ligand encoder + protein sequence encoder -> interaction head.

Built from a JSON-serialisable :class:`AffinityConfig` whose names are registry keys
(:mod:`biomodels.nn.ligand` for the ligand, :data:`~biomodels.nn.PROTEIN_ENCODERS` for the
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
from biomodels.models.config import JSONConfig
from biomodels.nn import PROTEIN_ENCODERS, READOUTS, mlp
from biomodels.nn.ligand import build_ligand_encoder, ligand_encoder_type
from biomodels.nn.losses import masked_mse

__all__ = ["AffinityConfig", "AffinityModel", "PairBatch"]


@dataclass
class PairBatch:
    """``B`` (ligand, protein) pairs over ``D`` distinct ligands and ``P`` distinct proteins.

    Attributes:
        ligands: the ``D`` ligands' encoder inputs (:meth:`~biomodels.nn.ligand.LigandEncoder.collate`d).
        proteins: ``P x ...`` protein encoder inputs (:meth:`~biomodels.nn.ProteinEncoder.collate`d).
        ligand_index, protein_index: ``B`` long, each pair's row among the ligands / proteins.
        y: ``B`` float affinities (scaled), when known.
        ligand_ids, protein_ids: ``D`` / ``P`` long rows of the identity embeddings (0: a
            compound or protein not seen in training), when the model has them.
    """

    ligands: MoleculeBatch | torch.Tensor
    proteins: torch.Tensor
    ligand_index: torch.Tensor
    protein_index: torch.Tensor
    y: torch.Tensor | None = None
    ligand_ids: torch.Tensor | None = None
    protein_ids: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> PairBatch:
        """The same batch with every tensor on ``device``."""
        return dataclasses.replace(
            self,
            **{
                f.name: getattr(self, f.name).to(device)
                for f in fields(self)
                if isinstance(getattr(self, f.name), torch.Tensor | MoleculeBatch)
            },
        )


@dataclass
class AffinityConfig(JSONConfig):
    """Architecture of an :class:`AffinityModel`; every field is JSON-serialisable.

    Attributes:
        ligand_encoder: ``morgan`` (an MLP on Morgan count fingerprints) or a graph encoder of
            :data:`~biomodels.nn.ENCODERS` (``gin``, ``dmpnn``...): see :mod:`biomodels.nn.ligand`.
        hidden, depth, readout: the ligand and interaction width; a graph encoder's message
            passing steps and :data:`~biomodels.nn.READOUTS` pooling.
        protein_encoder: :data:`~biomodels.nn.PROTEIN_ENCODERS` key (``cnn``, ``kmer``).
        protein_options: the protein encoder's keyword arguments.
        ffn_hidden, ffn_layers: width and hidden layers of the interaction head, which reads
            ``[ligand || protein || ligand * protein]`` (both projected to ``hidden``).
        dropout: dropout of the encoders and the head.
        ligand_identities, protein_identities: rows of the learned identity embeddings (the
            training set's distinct compounds and proteins; 0: none).
    """

    ligand_encoder: str = "morgan"
    hidden: int = 128
    depth: int = 3
    readout: str = "sum"
    protein_encoder: str = "kmer"
    protein_options: dict[str, Any] = field(default_factory=dict)
    ffn_hidden: int = 512
    ffn_layers: int = 2
    dropout: float = 0.1
    ligand_identities: int = 0
    protein_identities: int = 0

    def __post_init__(self) -> None:
        ligand_encoder_type(self.ligand_encoder)  # an unknown name raises, listing the valid ones
        for registry, name in ((READOUTS, self.readout), (PROTEIN_ENCODERS, self.protein_encoder)):
            registry.get(name)


class AffinityModel(nn.Module):
    """Predicts one affinity per (ligand, protein) pair (see the module docstring).

    A compound or protein seen in training also has a learned identity vector, added to its
    encoding. It starts at zero and is zero for anything unseen, so a new compound or protein
    is scored from its structure alone (what the cold splits measure), while a known one can
    carry what its measured pairs say beyond its structure (Davis setting 1: the identities
    take the test MSE from about 0.24 to 0.22 with the same encoders).

    Shapes:
        batch: a :class:`PairBatch` of ``B`` pairs; returns ``B`` affinities (scaled units).
    """

    def __init__(self, config: AffinityConfig):
        super().__init__()
        self.config = config
        self.ligand = build_ligand_encoder(
            config.ligand_encoder, config.hidden, config.depth, config.readout, config.dropout
        )
        self.protein = PROTEIN_ENCODERS.get(config.protein_encoder)(**config.protein_options)
        self.protein_projection = nn.Linear(self.protein.out_dim, config.hidden)
        self.ligand_identity = _identities(config.ligand_identities, config.hidden)
        self.protein_identity = _identities(config.protein_identities, config.hidden)
        self.head = mlp(
            3 * config.hidden, 1, hidden=config.ffn_hidden, layers=config.ffn_layers, dropout=config.dropout
        )

    def embed_ligands(
        self, ligands: MoleculeBatch | torch.Tensor, ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``D x hidden`` embeddings of distinct ligands (``ids``: their identity rows)."""
        return _with_identity(self.ligand(ligands), self.ligand_identity, ids)

    def embed_proteins(self, proteins: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        """``P x hidden`` embeddings of distinct proteins (``ids``: their identity rows)."""
        return _with_identity(self.protein_projection(self.protein(proteins)), self.protein_identity, ids)

    def score(
        self,
        ligands: torch.Tensor,
        proteins: torch.Tensor,
        ligand_index: torch.Tensor,
        protein_index: torch.Tensor,
    ) -> torch.Tensor:
        """Affinities (``B``) of the pairs ``(ligands[ligand_index], proteins[protein_index])``
        from ``D x hidden`` ligand and ``P x hidden`` protein embeddings."""
        a, b = ligands[ligand_index], proteins[protein_index]
        return self.head(torch.cat([a, b, a * b], dim=1)).squeeze(-1)

    def forward(self, batch: PairBatch) -> torch.Tensor:
        ligands = self.embed_ligands(batch.ligands, batch.ligand_ids)
        proteins = self.embed_proteins(batch.proteins, batch.protein_ids)
        return self.score(ligands, proteins, batch.ligand_index, batch.protein_index)

    def loss(self, outputs: torch.Tensor, batch: PairBatch) -> torch.Tensor:
        """Mean squared error against ``batch.y``."""
        return masked_mse(outputs, batch.y)


def _identities(rows: int, width: int) -> nn.Embedding | None:
    """Zero-initialised identity embeddings; row 0 (unseen) stays zero (``padding_idx``)."""
    if rows <= 0:
        return None
    table = nn.Embedding(rows + 1, width, padding_idx=0)
    nn.init.zeros_(table.weight)
    return table


def _with_identity(h: torch.Tensor, table: nn.Embedding | None, ids: torch.Tensor | None) -> torch.Tensor:
    return h if table is None or ids is None else h + table(ids)
