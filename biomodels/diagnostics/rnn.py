"""Recurrent text classifier: embedding, bidirectional GRU or LSTM, attention pooling."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from biomodels.diagnostics.attention import PooledTextClassifier
from biomodels.kernels.scatter import exporting

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
        if exporting():
            return self._encode_unpacked(ids, mask)
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(
            self.dropout(self.embedding(ids)), lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = self.rnn(packed)
        return pad_packed_sequence(states, batch_first=True, total_length=ids.shape[1])[0]

    def _encode_unpacked(self, ids: Tensor, mask: Tensor) -> Tensor:
        """:meth:`encode` without packed sequences, which graph exporters cannot trace.

        The forward direction over left-aligned texts is right at every real token; the
        backward one is right over the same texts right-aligned (padding first), so that it
        starts at each text's last token: run the network on both, keep each one's direction,
        align the second back and zero the padding, as ``pad_packed_sequence`` does. Exact for
        one recurrent layer (a second layer would mix the two passes' directions).
        """
        if self.rnn.num_layers != 1:
            raise ValueError(f"an RNN of {self.rnn.num_layers} layers cannot be exported (one layer can)")
        x = self.dropout(self.embedding(ids))
        width, hidden = ids.shape[1], self.rnn.hidden_size
        shift = (width - mask.sum(1)).unsqueeze(1)
        positions = torch.arange(width, device=ids.device).unsqueeze(0)

        def roll(values: Tensor, offset: Tensor) -> Tensor:  # row b moved right by offset[b]
            index = positions - offset  # in (-width, 2 width): wrap around once (no remainder op:
            index = torch.where(index < 0, index + width, index)  # ONNX export fails on a
            index = torch.where(index >= width, index - width, index)  # symbolic divisor)
            return values.gather(1, index.unsqueeze(-1).expand(-1, -1, values.shape[-1]))

        forward = self.rnn(x)[0][..., :hidden]
        backward = roll(self.rnn(roll(x, shift))[0][..., hidden:], -shift)
        return torch.cat([forward, backward], dim=-1) * mask.unsqueeze(-1)
