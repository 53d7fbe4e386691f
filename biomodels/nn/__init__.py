"""Neural-network blocks: aggregation, convolutions, encoders, readouts and heads.

All message passing reduces through :func:`aggregate` (see :mod:`biomodels.nn.aggregation`).
"""

from biomodels.nn.aggregation import aggregate, dmpnn_message, segment_sum
from biomodels.nn.conv import GATv2Conv, GCNConv, GINEConv, gcn_norm
from biomodels.nn.encoders import (
    ENCODERS,
    AttentiveFPEncoder,
    DMPNNEncoder,
    Encoder,
    GATEncoder,
    GCNEncoder,
    GINEncoder,
    StackedEncoder,
)
from biomodels.nn.heads import HEADS, FFNHead, MVEHead, mlp
from biomodels.nn.protein import PROTEIN_ENCODERS, CNNProteinEncoder, KmerProteinEncoder, ProteinEncoder
from biomodels.nn.readout import READOUTS, AttentionReadout, MeanReadout, SumReadout

__all__ = [
    "ENCODERS",
    "HEADS",
    "PROTEIN_ENCODERS",
    "READOUTS",
    "AttentionReadout",
    "AttentiveFPEncoder",
    "CNNProteinEncoder",
    "DMPNNEncoder",
    "Encoder",
    "FFNHead",
    "GATEncoder",
    "GATv2Conv",
    "GCNConv",
    "GCNEncoder",
    "GINEConv",
    "GINEncoder",
    "KmerProteinEncoder",
    "MVEHead",
    "MeanReadout",
    "ProteinEncoder",
    "StackedEncoder",
    "SumReadout",
    "aggregate",
    "dmpnn_message",
    "gcn_norm",
    "mlp",
    "segment_sum",
]
