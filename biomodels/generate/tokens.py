"""Molecule strings <-> token lists <-> integer ids, for the generative language models.

Two representations (:data:`REPRESENTATIONS`, what ``--representation`` takes):

- ``smiles``: :class:`SmilesTokenizer` splits a SMILES into atoms and symbols with one regular
  expression: bracket atoms whole (``[nH]``, ``[C@@H]``, ``[N+]``, ``[O-]``), two-letter
  elements (``Cl``, ``Br``), two-digit ring closures (``%10``), bonds, branches, stereo marks
  (``/``, ``\\``). Joining the tokens gives the SMILES back, character for character.
- ``selfies``: :class:`SelfiesTokenizer` encodes the SMILES as SELFIES (the ``selfies``
  package) and splits it into its bracketed symbols; every token sequence decodes to a molecule.

A :class:`Vocabulary` maps tokens to ids (``0 = <pad>``, ``1 = <bos>``, ``2 = <eos>``, then the
data's tokens in sorted order). It is learned from the training data, saved with the model, and
never grows afterwards: a molecule with a token outside it raises :class:`TokenError`, which the
callers report as that row's error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from biomodels.registry import Registry

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "REPRESENTATIONS",
    "Representation",
    "SelfiesTokenizer",
    "SmilesTokenizer",
    "TokenError",
    "Vocabulary",
]

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS = (PAD, BOS, EOS)

_SMILES_TOKEN = re.compile(r"\[[^\[\]]+\]|Br|Cl|%\d\d|[BCNOPSFIbcnops*()=#$:/\\.+\-~@?>0-9]")


class TokenError(ValueError):
    """A molecule string cannot be tokenised, or holds a token outside the vocabulary."""


class Representation(Protocol):
    """How molecules are written as token sequences (one entry of :data:`REPRESENTATIONS`)."""

    name: str

    def tokenize(self, smiles: str) -> list[str]:
        """The tokens of ``smiles`` (raises :class:`TokenError` when it cannot be written)."""

    def to_smiles(self, tokens: Sequence[str]) -> str:
        """A SMILES string of generated ``tokens`` (RDKit decides whether it is a molecule)."""

    def raw(self, tokens: Sequence[str]) -> str:
        """The generated string as the model wrote it (a SMILES, or a SELFIES)."""


REPRESENTATIONS: Registry[type] = Registry("representation")
"""``smiles`` | ``selfies``: the token representations a generative model can be trained on."""


@REPRESENTATIONS.register("smiles")
@dataclass(frozen=True)
class SmilesTokenizer:
    """Atom-level SMILES tokens; ``"".join(tokenize(s)) == s`` for every SMILES it accepts."""

    name: str = "smiles"

    def tokenize(self, smiles: str) -> list[str]:
        tokens = _SMILES_TOKEN.findall(smiles)
        if sum(map(len, tokens)) != len(smiles):
            position = _first_gap(smiles, tokens)
            raise TokenError(f"unrecognised SMILES character {smiles[position]!r} at position {position}")
        if not tokens:
            raise TokenError("empty SMILES")
        return tokens

    def to_smiles(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)

    def raw(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)


@REPRESENTATIONS.register("selfies")
@dataclass(frozen=True)
class SelfiesTokenizer:
    """SELFIES symbols (``[C]``, ``[=O]``, ``[Branch1]``, ``[Ring1]``) of a SMILES."""

    name: str = "selfies"

    def tokenize(self, smiles: str) -> list[str]:
        import selfies

        try:
            encoded = selfies.encoder(smiles)
        except selfies.EncoderError as exc:
            raise TokenError(f"SELFIES cannot encode it ({' '.join(str(exc).split())})") from None
        tokens = list(selfies.split_selfies(encoded))
        if not tokens:
            raise TokenError("empty SMILES")
        return tokens

    def to_smiles(self, tokens: Sequence[str]) -> str:
        import selfies

        try:
            return selfies.decoder("".join(tokens))
        except selfies.DecoderError:
            return ""

    def raw(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)


def _first_gap(text: str, tokens: list[str]) -> int:
    """Position of the first character of ``text`` that no token of ``findall`` covered."""
    position = 0
    for match in _SMILES_TOKEN.finditer(text):
        if match.start() != position:
            return position
        position = match.end()
    return position


class Vocabulary:
    """Token <-> id; ids 0, 1, 2 are ``<pad>``, ``<bos>``, ``<eos>``.

    Args:
        tokens: the data's tokens (the special tokens are added in front).
    """

    def __init__(self, tokens: Iterable[str]):
        self.tokens = [*SPECIALS, *sorted(set(tokens) - set(SPECIALS))]
        self.ids = {token: i for i, token in enumerate(self.tokens)}

    pad, bos, eos = 0, 1, 2

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """``<bos>``, the tokens' ids, ``<eos>`` (length ``len(tokens) + 2``).

        Raises:
            TokenError: a token outside the vocabulary (naming it and its position).
        """
        try:
            return [self.bos, *(self.ids[t] for t in tokens), self.eos]
        except KeyError:
            bad = next(i for i, t in enumerate(tokens) if t not in self.ids)
            raise TokenError(
                f"token {tokens[bad]!r} (token {bad}) is not in the model's vocabulary"
            ) from None

    def decode(self, ids: Iterable[int]) -> tuple[list[str], bool]:
        """Tokens of generated ``ids`` up to the first ``<eos>`` (``<bos>``/``<pad>`` skipped),
        and whether an ``<eos>`` ended them."""
        tokens = []
        for i in ids:
            if i == self.eos:
                return tokens, True
            if i >= len(SPECIALS):
                tokens.append(self.tokens[i])
        return tokens, False
