"""Attention pooling: a learned weighted mean over the tokens of a padded sequence."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["AttentionPooling"]


class AttentionPooling(nn.Module):
    """Additive attention pooling (Bahdanau-style scores, softmax over real tokens).

    ``score_t = v^T tanh(W h_t)``; padding positions get weight exactly 0 and the weights of
    each sequence's real tokens sum to 1, so they can be read as per-token importance.

    Args:
        dim: width of the token states.
        hidden: width of the scoring layer.

    Shapes:
        h: ``B x T x dim``; mask: ``B x T`` bool, True on real tokens (at least one per row).
        Returns ``(pooled, weights)``: ``B x dim`` and ``B x T``.
    """

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1, bias=False))

    def forward(self, h: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.score(h).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1), weights


class PooledTextClassifier(nn.Module):
    """Token encoder -> attention pooling -> dropout -> linear head; subclasses define ``encode``.

    Args:
        dim: width of the encoder's token states.
        n_classes: number of classes.
        dropout: dropout on the pooled vector.

    Shapes:
        ids: ``B x T`` int64 token indices (0 = padding); mask: ``B x T`` bool, True on tokens.
        ``forward``: ``B x n_classes`` logits.
    """

    def __init__(self, dim: int, n_classes: int, dropout: float = 0.3):
        super().__init__()
        self.pool = AttentionPooling(dim)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, n_classes))

    def encode(self, ids: Tensor, mask: Tensor) -> Tensor:
        """Token states ``B x T x dim``."""
        raise NotImplementedError

    def forward_with_attention(self, ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Logits ``B x n_classes`` and pooling weights ``B x T`` (0 on padding, rows sum to 1)."""
        pooled, weights = self.pool(self.encode(ids, mask), mask)
        return self.head(pooled), weights

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        return self.forward_with_attention(ids, mask)[0]
