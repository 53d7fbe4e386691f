"""Word tokeniser and vocabulary for the text classifiers.

Texts are lower-cased and split into runs of letters/digits (apostrophes kept inside words), so
``"I've had a fever, 39C."`` becomes ``["i've", "had", "a", "fever", "39c"]``. The vocabulary is
built from the training split only: index 0 is padding, index 1 stands for any word not seen in
training (or seen fewer than ``min_freq`` times).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch

__all__ = ["PAD", "UNK", "Vocabulary", "tokenize"]

PAD, UNK = "<pad>", "<unk>"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` (punctuation dropped)."""
    return _WORD.findall(text.lower())


class Vocabulary:
    """Token <-> index mapping with padding (0) and unknown (1) entries.

    Args:
        tokens: the vocabulary in index order, starting with :data:`PAD` and :data:`UNK`.
    """

    def __init__(self, tokens: Sequence[str]):
        if list(tokens[:2]) != [PAD, UNK]:
            raise ValueError(f"a vocabulary starts with {PAD!r} and {UNK!r}, got {list(tokens[:2])}")
        self.tokens = list(tokens)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("vocabulary tokens must be distinct")

    pad_index = 0
    unk_index = 1

    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 1, max_size: int | None = None) -> Vocabulary:
        """Vocabulary of the words in ``texts`` seen at least ``min_freq`` times, most frequent first.

        Ties are broken alphabetically so the same texts always give the same indices.
        """
        counts = Counter(token for text in texts for token in tokenize(text))
        ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls([PAD, UNK, *ranked[:max_size]])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, texts: Sequence[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Token indices and a padding mask, truncated to ``max_len`` tokens.

        Returns:
            ``(ids, mask)``: ``B x T`` int64 indices (0 = padding) and ``B x T`` bool, True on
            real tokens, with ``T`` the longest text's length (at most ``max_len``, at least 1).
        """
        rows = [[self.index.get(t, self.unk_index) for t in tokenize(text)[:max_len]] for text in texts]
        width = max([len(r) for r in rows] + [1])
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        return ids, ids != self.pad_index
