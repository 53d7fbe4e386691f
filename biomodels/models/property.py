"""Molecular property / activity model: encoder -> readout -> (+ extra features) -> head.

Built from a JSON-serialisable :class:`ModelConfig` whose names are registry keys
(:data:`~biomodels.nn.ENCODERS`, :data:`~biomodels.nn.READOUTS`, :data:`~biomodels.nn.HEADS`), so a
checkpoint is ``state_dict`` + ``config.to_dict()``.

Raw outputs of :meth:`PropertyModel.forward` (``B`` molecules, ``T`` tasks, ``C`` classes):

==========================  ===============  ==============================================
task / head                 shape            meaning
==========================  ===============  ==============================================
regression, ``ffn``         ``B x T``        predicted values
regression, ``mve``         ``B x T x 2``    ``[..., 0]`` mean, ``[..., 1]`` variance > 0
binary (multi-label)        ``B x T``        logits
multiclass                  ``B x T x C``    logits
==========================  ===============  ==============================================

The model computes its loss on these raw outputs (:meth:`PropertyModel.loss`) and turns them
into predictions with :meth:`PropertyModel.postprocess`. It is
:class:`~biomodels.nn.export.Exportable`: the ONNX graph of :meth:`PropertyModel.forward` takes
the batch's tensors (``x``, ``edge_index``, ``edge_attr``, ``rev_edge_index``, ``batch``, ``ptr``
and ``features`` when ``extra_dim > 0``) with dynamic atom, bond and molecule counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from rdkit import Chem
from torch import nn

from biomodels.data.graphs import MoleculeBatch as Batch
from biomodels.data.graphs import collate_graphs
from biomodels.featurize.graph import ATOM_DIM, BOND_DIM, featurize_graphs
from biomodels.models.config import JSONConfig
from biomodels.nn import ENCODERS, HEADS, READOUTS
from biomodels.nn.losses import gaussian_nll, masked_bce_with_logits, masked_cross_entropy, masked_mse
from biomodels.types import TASKS

_GRAPH_INPUTS = ("x", "edge_index", "edge_attr", "rev_edge_index", "batch", "ptr")
_EXAMPLE_SMILES = ("CCO", "c1ccccc1", "CC(=O)N")  # 3 molecules, 13 atoms, 22 directed bonds


@dataclass
class ModelConfig(JSONConfig):
    """Architecture of a :class:`PropertyModel`; every field is JSON-serialisable.

    Attributes:
        encoder: :data:`~biomodels.nn.ENCODERS` key (``dmpnn``, ``gin``, ``gcn``, ``gat``,
            ``attentivefp``).
        atom_dim, bond_dim: input feature widths (default: :mod:`biomodels.featurize.graph`).
        hidden, depth, dropout: encoder width, number of message-passing steps, dropout (the
            dropout is used in the head too, as in chemprop).
        encoder_options: extra keyword arguments of the encoder, e.g. ``{"heads": 4}`` for
            ``gat``, ``{"batch_norm": True}`` for ``gin``/``gcn``/``gat``.
        readout: :data:`~biomodels.nn.READOUTS` key; unused by graph-level encoders
            (``attentivefp`` pools itself).
        batch_norm: batch-normalise the graph embedding before the head.
        extra_dim: width of molecule-level features (``batch.features``) concatenated to the
            graph embedding; 0 for none.
        task: ``regression``, ``binary`` (one logit per task; multi-label) or ``multiclass``.
        n_tasks: number of targets.
        n_classes: classes per task: 1 unless ``task == "multiclass"`` (then at least 2).
        head: :data:`~biomodels.nn.HEADS` key: ``ffn``, or ``mve`` (regression only).
        ffn_hidden, ffn_layers: width and number of hidden layers of the head.
    """

    encoder: str = "dmpnn"
    atom_dim: int = ATOM_DIM
    bond_dim: int = BOND_DIM
    hidden: int = 300
    depth: int = 3
    dropout: float = 0.0
    encoder_options: dict[str, Any] = field(default_factory=dict)
    readout: str = "mean"
    batch_norm: bool = False
    extra_dim: int = 0
    task: str = "regression"
    n_tasks: int = 1
    n_classes: int = 1
    head: str = "ffn"
    ffn_hidden: int = 300
    ffn_layers: int = 1

    def __post_init__(self) -> None:
        for registry, name in ((ENCODERS, self.encoder), (READOUTS, self.readout), (HEADS, self.head)):
            registry.get(name)  # an unknown name raises, listing the valid ones
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose one of: {', '.join(TASKS)}")
        if self.task == "multiclass" and self.n_classes < 2:
            raise ValueError(f"a multiclass task needs n_classes >= 2, got {self.n_classes}")
        if self.task != "multiclass" and self.n_classes != 1:
            raise ValueError(f"n_classes must be 1 for a {self.task} task, got {self.n_classes}")
        if self.head == "mve" and self.task != "regression":
            raise ValueError(f"the mve head is for regression, not {self.task}")


class PropertyModel(nn.Module):
    """Graph neural network predicting molecular properties (see the module docstring).

    Shapes:
        batch: a :func:`~biomodels.data.graphs.collate_graphs` batch of ``B`` molecules, with
        ``batch.features`` (``B x extra_dim``) when ``extra_dim > 0``.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = ENCODERS.get(config.encoder)(
            config.atom_dim,
            config.bond_dim,
            hidden=config.hidden,
            depth=config.depth,
            dropout=config.dropout,
            **config.encoder_options,
        )
        dim = self.encoder.out_dim
        self.readout = None if self.encoder.graph_level else READOUTS.get(config.readout)(dim)
        self.norm = nn.BatchNorm1d(dim) if config.batch_norm else nn.Identity()
        self.head = HEADS.get(config.head)(
            dim + config.extra_dim,
            config.n_tasks,
            n_classes=config.n_classes,
            hidden=config.ffn_hidden,
            layers=config.ffn_layers,
            dropout=config.dropout,
        )

    def embed(self, batch: Batch) -> torch.Tensor:
        """Molecule embeddings fed to the head: ``B x (hidden + extra_dim)``."""
        h = self.encoder(batch)
        if self.readout is not None:
            h = self.readout(h, batch.batch, batch.num_graphs)
        h = self.norm(h)
        if self.config.extra_dim:
            features = getattr(batch, "features", None)
            if features is None or features.shape[-1] != self.config.extra_dim:
                got = None if features is None else tuple(features.shape)
                raise ValueError(f"model expects batch.features of width {self.config.extra_dim}, got {got}")
            h = torch.cat([h, features], dim=1)
        return h

    def forward(self, batch: Batch) -> torch.Tensor:
        """Raw outputs (values, logits or mean/variance pairs; table in the module docstring)."""
        return self.head(self.embed(batch))

    def loss(self, outputs: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Masked loss of raw outputs against ``batch.y`` (regression targets already scaled)."""
        if self.config.task == "binary":
            return masked_bce_with_logits(outputs, batch.y, batch.y_mask)
        if self.config.task == "multiclass":
            return masked_cross_entropy(outputs, batch.y, batch.y_mask)
        if self.config.head == "mve":
            return gaussian_nll(outputs[..., 0], outputs[..., 1], batch.y, batch.y_mask)
        return masked_mse(outputs, batch.y, batch.y_mask)

    def postprocess(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Turn raw outputs into ``(prediction, variance)``.

        Regression: values and, for ``mve``, variances (else ``None``); binary: probabilities
        ``B x T``; multiclass: class probabilities ``B x T x C``. Variance is ``None`` for
        classification.
        """
        if self.config.task == "binary":
            return torch.sigmoid(outputs), None
        if self.config.task == "multiclass":
            return torch.softmax(outputs, dim=-1), None
        if self.config.head == "mve":
            return outputs[..., 0], outputs[..., 1]
        return outputs, None

    # ------------------------------------------------------------------- export
    export_method = "forward"
    export_outputs = ("outputs",)

    def export_example(self) -> tuple[Batch]:
        mols = [Chem.MolFromSmiles(s) for s in _EXAMPLE_SMILES]
        extra = np.zeros((len(mols), self.config.extra_dim), np.float32) if self.config.extra_dim else None
        return (
            collate_graphs(featurize_graphs(mols, list(_EXAMPLE_SMILES)), np.arange(len(mols)), None, extra),
        )

    def export_inputs(self, batch: Batch) -> dict[str, torch.Tensor]:
        names = _GRAPH_INPUTS + (("features",) if self.config.extra_dim else ())
        return {name: getattr(batch, name) for name in names}

    def export_call(self, *tensors: torch.Tensor) -> torch.Tensor:
        x, edge_index, edge_attr, rev_edge_index, index, ptr, *features = tensors
        batch = Batch(x, edge_index, edge_attr, rev_edge_index, index, ptr, ptr.shape[0] - 1)
        batch.features = features[0] if features else None
        return self(batch)

    def export_dynamic(self) -> dict[str, dict[int, str]]:
        dynamic = {
            "x": {0: "atoms"},
            "edge_index": {1: "edges"},
            "edge_attr": {0: "edges"},
            "rev_edge_index": {0: "edges"},
            "batch": {0: "atoms"},
            "ptr": {0: "molecules+1"},
        }
        return {**dynamic, "features": {0: "molecules"}} if self.config.extra_dim else dynamic
