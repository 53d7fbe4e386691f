"""Sequence encodings for models: integer tokens, one-hot matrices and k-mer count vectors.

Every function takes upper- or lower-case strings and returns C-contiguous numpy arrays, which
``torch.from_numpy`` wraps without a copy (int64 tokens feed ``nn.Embedding`` directly). The
alphabets are those of :mod:`biomodels.io.sequences`: ``"dna"``, ``"rna"`` and ``"protein"``.
Characters are mapped through a 256-entry lookup table, so encoding is vectorised per sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from itertools import product
from typing import Any, NamedTuple

import numpy as np

from biomodels.featurize.base import FEATURIZERS
from biomodels.io.sequences import get_alphabet

__all__ = [
    "SequenceVocabulary",
    "TokenBatch",
    "encode_tokens",
    "kmer_counts",
    "kmer_names",
    "one_hot",
]

_SIDES = ("post", "pre")


class SequenceVocabulary:
    """Token ids for the letters of an alphabet, with reserved padding and unknown tokens.

    Id 0 is padding and id 1 stands for any character outside the letters; the letters follow
    from id 2 in the order given. Lookup ignores case.

    Args:
        letters: the upper-case letters that get their own id.
    """

    pad_id = 0
    unk_id = 1

    def __init__(self, letters: str):
        self.letters = letters
        self.tokens: tuple[str, ...] = ("<pad>", "<unk>", *letters)
        self._table = _lookup_table(letters, offset=2, default=self.unk_id)

    @classmethod
    def for_alphabet(cls, alphabet: str) -> SequenceVocabulary:
        """The vocabulary of every valid letter of ``alphabet``, standard letters first.

        DNA and RNA get 19 tokens (pad, unknown, 4 bases, 11 ambiguity codes, 2 gaps); protein
        gets 30 (pad, unknown, 20 amino acids, ``BZXJUO*-``).
        """
        return cls(get_alphabet(alphabet).letters)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, sequence: str) -> np.ndarray:
        """Token ids of ``sequence``, one per character.

        Shapes:
            returns ``(len(sequence),)`` int64.
        """
        return self._table[_bytes(sequence)]

    def decode(self, ids: Iterable[int]) -> str:
        """The letters for ``ids``: padding is dropped and unknown ids come back as ``"?"``,
        since the original character is not kept."""
        names = ("", "?", *self.letters)
        return "".join(names[i] for i in ids)


class TokenBatch(NamedTuple):
    """Padded token ids and true lengths; unpacks as ``tokens, lengths = encode_tokens(...)``.

    Shapes:
        tokens: ``(n, max_length)`` int64, padding = :attr:`SequenceVocabulary.pad_id` (0).
        lengths: ``(n,)`` int64, tokens kept per sequence after truncation.
    """

    tokens: np.ndarray
    lengths: np.ndarray


def encode_tokens(
    seqs: Iterable[str],
    alphabet: str,
    max_length: int | None = None,
    padding: str = "post",
    truncation: str = "post",
) -> TokenBatch:
    """Encode sequences as padded rows of token ids from :meth:`SequenceVocabulary.for_alphabet`.

    Args:
        seqs: the sequences (a list of strings, not one string).
        alphabet: ``"dna"``, ``"rna"`` or ``"protein"``.
        max_length: row width; ``None`` uses the longest sequence.
        padding: ``"post"`` pads at the end, ``"pre"`` at the start.
        truncation: ``"post"`` drops letters past ``max_length`` from the end, ``"pre"`` from
            the start (keeping the C-terminal / 3' end).

    Shapes:
        tokens: ``(n, max_length)`` int64; lengths: ``(n,)`` int64.
    """
    vocabulary = SequenceVocabulary.for_alphabet(alphabet)
    rows = [vocabulary.encode(s) for s in _as_list(seqs)]
    return TokenBatch(*_pack(rows, max_length, padding, truncation, vocabulary.pad_id))


def one_hot(
    seqs: Iterable[str],
    alphabet: str,
    max_length: int | None = None,
    padding: str = "post",
    truncation: str = "post",
) -> np.ndarray:
    """One-hot encode sequences over the alphabet's standard letters (ACGT, ACGU or the 20
    amino acids, in that order).

    Padding rows are all zero, and so are rows for ambiguity codes, gaps and unknown
    characters: they name no single standard letter. ``max_length``, ``padding`` and
    ``truncation`` work as in :func:`encode_tokens`.

    Shapes:
        returns ``(n, max_length, alphabet_size)`` float32, ``alphabet_size`` 4 or 20.
    """
    standard = get_alphabet(alphabet).standard
    size = len(standard)
    rows = [_standard_codes(s, standard) for s in _as_list(seqs)]
    codes, _ = _pack(rows, max_length, padding, truncation, fill=size)
    # Row ``size`` of this identity-plus-zero-row matrix is the all-zero vector.
    return np.eye(size + 1, size, dtype=np.float32)[codes]


def kmer_counts(seqs: Iterable[str], k: int, alphabet: str) -> np.ndarray:
    """Count the overlapping k-mers of each sequence over the alphabet's standard letters.

    K-mers holding any other character (ambiguity code, gap, unknown) are skipped. Columns
    follow :func:`kmer_names`: lexicographic order, i.e. the base-``alphabet_size`` number of
    the k-mer, which is how each window is indexed (``np.bincount`` over window codes, no
    per-k-mer Python work).

    Shapes:
        returns ``(n, alphabet_size ** k)`` float32.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    standard = get_alphabet(alphabet).standard
    size = len(standard)
    seqs = _as_list(seqs)
    counts = np.zeros((len(seqs), size**k), dtype=np.float32)
    for row, sequence in enumerate(seqs):
        windows = _window_codes(_standard_codes(sequence, standard), k, size)
        counts[row] = np.bincount(windows, minlength=size**k)
    return counts


def kmer_names(k: int, alphabet: str) -> list[str]:
    """The k-mers that label :func:`kmer_counts` columns, in column order (``AA, AC, ...``)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return ["".join(letters) for letters in product(get_alphabet(alphabet).standard, repeat=k)]


def _window_codes(codes: np.ndarray, k: int, size: int) -> np.ndarray:
    """Base-``size`` numbers of the k-long windows of ``codes`` that hold only standard letters.

    ``codes`` uses ``size`` for non-standard characters; a running count of those tells, per
    window, whether it holds one.
    """
    windows = len(codes) - k + 1
    if windows <= 0:
        return np.zeros(0, dtype=np.int64)
    bad = np.concatenate(([0], np.cumsum(codes == size)))
    clean = bad[k:] == bad[:-k]
    number = np.zeros(windows, dtype=np.int64)
    for offset in range(k):
        number = number * size + codes[offset : offset + windows]
    return number[clean]


def _pack(
    rows: list[np.ndarray], max_length: int | None, padding: str, truncation: str, fill: int
) -> tuple[np.ndarray, np.ndarray]:
    """Truncate and pad 1-D int64 arrays into one ``(n, width)`` matrix; return it and the
    kept lengths."""
    for name, side in (("padding", padding), ("truncation", truncation)):
        if side not in _SIDES:
            raise ValueError(f"{name} must be one of {', '.join(_SIDES)}; got {side!r}")
    width = max((len(r) for r in rows), default=0) if max_length is None else max_length
    if width < 0:
        raise ValueError(f"max_length must be at least 0, got {max_length}")
    packed = np.full((len(rows), width), fill, dtype=np.int64)
    lengths = np.zeros(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        kept = row[:width] if truncation == "post" else row[max(len(row) - width, 0) :]
        lengths[i] = len(kept)
        if padding == "post":
            packed[i, : len(kept)] = kept
        else:
            packed[i, width - len(kept) :] = kept
    return packed, lengths


def _standard_codes(sequence: str, standard: str) -> np.ndarray:
    """0..size-1 for each standard letter of ``sequence``, ``size`` for anything else."""
    return _lookup_table(standard, offset=0, default=len(standard))[_bytes(sequence)]


@cache
def _lookup_table(letters: str, offset: int, default: int) -> np.ndarray:
    """A 256-entry byte -> id table: ``letters[i]`` (either case) -> ``offset + i``, else
    ``default``. Cached: the same few tables serve every call."""
    table = np.full(256, default, dtype=np.int64)
    for i, letter in enumerate(letters):
        table[ord(letter)] = table[ord(letter.lower())] = offset + i
    table.flags.writeable = False
    return table


def _bytes(sequence: str) -> np.ndarray:
    """One byte per character; non-ASCII characters become ``?``, which no alphabet holds."""
    return np.frombuffer(sequence.encode("ascii", errors="replace"), dtype=np.uint8)


def _as_list(seqs: Iterable[str]) -> list[str]:
    """The sequences as a list; a bare string is refused, as it would be read letter by letter."""
    if isinstance(seqs, str):
        raise TypeError("pass a list of sequences, not a single string")
    return list(seqs)


@dataclass(frozen=True)
class _SequenceFeaturizer:
    alphabet: str = "protein"

    input_kind = "sequence"

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **asdict(self)}


@FEATURIZERS.register("tokens")
@dataclass(frozen=True)
class TokenFeaturizer(_SequenceFeaturizer):
    """Integer tokens, padded/truncated to ``max_length``: ``n x max_length`` int64."""

    max_length: int = 1000
    name = "tokens"

    def featurize_chunk(self, items: Sequence[str], texts=None) -> np.ndarray:
        return encode_tokens(items, self.alphabet, self.max_length).tokens


@FEATURIZERS.register("onehot")
@dataclass(frozen=True)
class OneHotFeaturizer(_SequenceFeaturizer):
    """One-hot over standard letters: ``n x max_length x alphabet_size`` float32."""

    max_length: int = 1000
    name = "onehot"

    def featurize_chunk(self, items: Sequence[str], texts=None) -> np.ndarray:
        return one_hot(items, self.alphabet, self.max_length)


@FEATURIZERS.register("kmer")
@dataclass(frozen=True)
class KmerFeaturizer(_SequenceFeaturizer):
    """Overlapping k-mer counts: ``n x alphabet_size**k`` float32."""

    k: int = 3
    name = "kmer"

    def featurize_chunk(self, items: Sequence[str], texts=None) -> np.ndarray:
        return kmer_counts(items, self.k, self.alphabet)
