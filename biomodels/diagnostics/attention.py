"""Attention pooling: a learned weighted mean over the tokens of a padded sequence."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["AttentionPooling"]


class AttentionPooling(nn.Module):
    """Additive attention pooling (Bahdanau-style scores, softmax over real tokens), multi-head.

    Head ``k`` scores token ``t`` as ``v_k^T tanh(W h_t)`` and takes the softmax-weighted mean of
    the token states; the heads' means are concatenated. Several heads let the classifier
    combine several keywords instead of one. The reported per-token weights are the heads'
    average: 0 exactly on padding, summing to 1 over each sequence's real tokens, so they read
    as per-token importance.

    Args:
        dim: width of the token states.
        hidden: width of the scoring layer.
        heads: number of pooling heads; the output is ``heads * dim`` wide.

    Shapes:
        h: ``B x T x dim``; mask: ``B x T`` bool, True on real tokens (at least one per row).
        Returns ``(pooled, weights)``: ``B x (heads dim)`` and ``B x T``.
    """

    def __init__(self, dim: int, hidden: int = 64, heads: int = 1):
        super().__init__()
        self.heads = heads
        self.out_dim = heads * dim
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, heads, bias=False))

    def forward(self, h: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.score(h).masked_fill(~mask[..., None], float("-inf"))  # B x T x heads
        weights = torch.softmax(scores, dim=1)
        pooled = torch.einsum("bth,btd->bhd", weights, h).flatten(1)
        return pooled, weights.mean(-1)


class PooledTextClassifier(nn.Module):
    """Token encoder -> attention pooling -> dropout -> linear head; subclasses define ``encode``.

    Args:
        dim: width of the encoder's token states.
        n_classes: number of classes.
        dropout: dropout on the pooled vector.
        heads: attention pooling heads (see :class:`AttentionPooling`).

    Shapes:
        ids: ``B x T`` int64 token indices (0 = padding); mask: ``B x T`` bool, True on tokens.
        ``forward``: ``B x n_classes`` logits.
    """

    def __init__(self, dim: int, n_classes: int, dropout: float = 0.3, heads: int = 1):
        super().__init__()
        self.pool = AttentionPooling(dim, heads=heads)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.pool.out_dim, n_classes))

    def encode(self, ids: Tensor, mask: Tensor) -> Tensor:
        """Token states ``B x T x dim``."""
        raise NotImplementedError

    def forward_with_attention(self, ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Logits ``B x n_classes`` and pooling weights ``B x T`` (0 on padding, rows sum to 1)."""
        pooled, weights = self.pool(self.encode(ids, mask), mask)
        return self.head(pooled), weights

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        return self.forward_with_attention(ids, mask)[0]

    # ------------------------------------------------------------------- export
    # The Exportable protocol (biomodels.nn.export): ids and mask in (texts and tokens dynamic),
    # the logits and the pooling weights out, as forward_with_attention.
    export_method = "forward_with_attention"
    export_outputs = ("logits", "weights")

    def export_example(self) -> tuple[Tensor, Tensor]:
        ids = torch.tensor([[1, 2, 3, 0, 0], [3, 2, 1, 2, 3]]) % self.embedding.num_embeddings
        return ids, torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)

    def export_inputs(self, ids: Tensor, mask: Tensor) -> dict[str, Tensor]:
        return {"ids": ids, "mask": mask}

    def export_call(self, ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        return self.forward_with_attention(ids, mask)

    def export_dynamic(self) -> dict[str, dict[int, str]]:
        return {"ids": {0: "texts", 1: "tokens"}, "mask": {0: "texts", 1: "tokens"}}
