"""Self-attention text classifier: a small Transformer encoder with attention pooling."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from biomodels.diagnostics.attention import PooledTextClassifier

__all__ = ["TransformerTextClassifier", "sinusoidal_positions"]


def sinusoidal_positions(length: int, dim: int) -> Tensor:
    """The fixed sine/cosine position table of Vaswani et al. (2017), ``length x dim``."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: dim // 2])
    return table


class TransformerTextClassifier(PooledTextClassifier):
    """``torch.nn.TransformerEncoder`` over embeddings plus sinusoidal positions, pooled by attention.

    Padding is excluded through ``src_key_padding_mask``. :meth:`attention_maps` recomputes each
    layer's self-attention weights for inspection (the encoder does not return them).

    Args:
        vocab_size: vocabulary size (index 0 is padding).
        n_classes: number of classes.
        d_model: token state width.
        heads: attention heads per layer.
        layers: encoder layers.
        ff_dim: width of the feed-forward sublayer.
        dropout: dropout inside the encoder and on the pooled vector.
        max_len: longest sequence the position table covers.
        pool_heads: attention pooling heads.

    Shapes:
        ids, mask: ``B x T`` (``T <= max_len``); token states ``B x T x d_model``;
        ``forward``: ``B x n_classes``.
    """

    def __init__(
        self,
        vocab_size: int,
        n_classes: int,
        d_model: int = 64,
        heads: int = 4,
        layers: int = 2,
        ff_dim: int = 128,
        dropout: float = 0.1,
        max_len: int = 512,
        pool_heads: int = 1,
    ):
        super().__init__(d_model, n_classes, dropout, pool_heads)
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.register_buffer("positions", sinusoidal_positions(max_len, d_model), persistent=False)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff_dim, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(
            layer, layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.scale = math.sqrt(d_model)

    def _embed(self, ids: Tensor) -> Tensor:
        return self.embedding(ids) * self.scale + self.positions[: ids.shape[1]]

    def encode(self, ids: Tensor, mask: Tensor) -> Tensor:
        return self.encoder(self._embed(ids), src_key_padding_mask=~mask)

    @torch.no_grad()
    def attention_maps(self, ids: Tensor, mask: Tensor) -> list[Tensor]:
        """Self-attention weights of every layer, per head: a list of ``B x heads x T x T``.

        Row ``i`` of a map holds how much token ``i`` attends to each token; columns at padding
        positions are 0.
        """
        maps = []
        x = self._embed(ids)
        for layer in self.encoder.layers:
            query = layer.norm1(x) if layer.norm_first else x
            _, weights = layer.self_attn(
                query, query, query, key_padding_mask=~mask, need_weights=True, average_attn_weights=False
            )
            maps.append(weights)
            x = layer(x, src_key_padding_mask=~mask)
        return maps
