"""Recurrent text classifier: embedding, bidirectional GRU or LSTM, attention pooling."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from biomodels.diagnostics.attention import PooledTextClassifier

__all__ = ["RNNTextClassifier"]


class RNNTextClassifier(PooledTextClassifier):
    """Bidirectional GRU/LSTM over word embeddings, pooled by attention.

    Sequences are packed, so padding never enters the recurrence and the backward direction
    starts at each text's last real token.

    Args:
        vocab_size: vocabulary size (index 0 is padding).
        n_classes: number of classes.
        embed_dim: word embedding width.
        hidden: hidden units per direction.
        cell: ``"gru"`` or ``"lstm"``.
        layers: stacked recurrent layers.
        dropout: dropout on embeddings, between layers and on the pooled vector.
        pool_heads: attention pooling heads.

    Shapes:
        ids, mask: ``B x T``; token states: ``B x T x 2 hidden``; ``forward``: ``B x n_classes``.
    """

    def __init__(
        self,
        vocab_size: int,
        n_classes: int,
        embed_dim: int = 100,
        hidden: int = 64,
        cell: str = "gru",
        layers: int = 1,
        dropout: float = 0.3,
        pool_heads: int = 1,
    ):
        super().__init__(2 * hidden, n_classes, dropout, pool_heads)
        cells = {"gru": nn.GRU, "lstm": nn.LSTM}
        if cell not in cells:
            raise ValueError(f"unknown cell {cell!r}; choose one of: {', '.join(cells)}")
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.rnn = cells[cell](
            embed_dim,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )

    def encode(self, ids: Tensor, mask: Tensor) -> Tensor:
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(
            self.dropout(self.embedding(ids)), lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = self.rnn(packed)
        return pad_packed_sequence(states, batch_first=True, total_length=ids.shape[1])[0]
