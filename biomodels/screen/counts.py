"""Hashed count features of molecules and the torch-free chunk job that scores every row with them.

The cascade's surrogate (:class:`~biomodels.screen.surrogate.SurrogateRidge`) is linear in these
features, so scoring a chunk needs only the coefficients: :class:`LinearScorer`. This module
imports neither torch nor the model code, so that the worker processes of a cascade's surrogate
pass (:class:`SurrogateJob`) stay small: RDKit and numpy only (pandas, about 90 MB of each
worker's memory, is imported where the columns become a frame, in the parent process).

Features, ``log1p`` of the counts:

- ``ngrams``: the SMILES string's character 1- to 4-grams, hashed into ``bits`` buckets,
  computed with numpy for a whole chunk at once (no RDKit);
- ``morgan``: Morgan count fingerprints (radius 2, ``bits`` wide) of the parsed molecule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from biomodels.io.molecules import MoleculeParser, RawRecord
from biomodels.types import MoleculeRecord

if TYPE_CHECKING:
    import pandas as pd

    from biomodels.io.ranges import LibraryRange

FEATURES = ("ngrams", "morgan")
"""The surrogate's feature kinds (see the module docstring)."""
SCORE = "surrogate_score"
"""The column of the surrogate's prediction in a cascade screen's output."""
_NGRAM = 4
_PRIME = np.uint64(0x9E3779B97F4A7C15)


def ngram_codes(smiles: Sequence[str], bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hashed character 1- to 4-grams of each SMILES, as sparse counts.

    Vectorised over the chunk: the strings are joined, every n-gram becomes an integer code, the
    codes are hashed (multiplicative hash, top bits) into ``bits`` buckets.

    Returns:
        ``(string, bucket, count)``: ``k`` entries, one per distinct (string, bucket) pair.
    """
    encoded = [s.encode() for s in smiles]
    lengths = np.fromiter((len(e) for e in encoded), np.int64, len(encoded))
    text = np.frombuffer(b"".join(encoded), np.uint8).astype(np.uint64)
    owner = np.repeat(np.arange(len(encoded)), lengths)
    position = np.arange(len(text)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    room = np.repeat(lengths, lengths) - position  # characters from each position to its string's end
    code = np.zeros(len(text), np.uint64)
    keys = []
    for n in range(1, _NGRAM + 1):
        shifted = np.zeros(len(text), np.uint64)
        shifted[: len(text) - n + 1] = text[n - 1 :]
        with np.errstate(over="ignore"):
            code = code * np.uint64(257) + shifted + np.uint64(1)
            bucket = ((code + np.uint64(n)) * _PRIME) >> np.uint64(40)
        valid = room >= n
        keys.append(owner[valid] * bits + (bucket[valid] % np.uint64(bits)).astype(np.int64))
    unique, counts = np.unique(np.concatenate(keys) if keys else np.zeros(0, np.int64), return_counts=True)
    return unique // bits, unique % bits, counts


def ngram_counts(smiles: Sequence[str], bits: int) -> np.ndarray:
    """Hashed character 1- to 4-gram counts of each SMILES (:func:`ngram_codes`): ``n x bits`` float32."""
    out = np.zeros((len(smiles), bits), np.float32)
    string, bucket, count = ngram_codes(smiles, bits)
    out[string, bucket] = count
    return out


def morgan_counts(mols: Sequence[Any], bits: int) -> np.ndarray:
    """Morgan count fingerprints (radius 2) of RDKit molecules: ``n x bits`` float32."""
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=bits)
    out = np.zeros((len(mols), bits), np.float32)
    for i, mol in enumerate(mols):
        out[i] = generator.GetCountFingerprintAsNumPy(mol)
    return out


def featurize(records: Sequence[MoleculeRecord], features: str, bits: int) -> np.ndarray:
    """``log1p`` counts of valid parsed records: ``n x bits`` float32 (``features``: see above)."""
    if features == "ngrams":
        counts = ngram_counts([r.smiles for r in records], bits)
    else:
        counts = morgan_counts([r.mol for r in records], bits)
    return np.log1p(counts, out=counts)


@dataclass(frozen=True)
class LinearScorer:
    """A linear model on :func:`featurize`'s features: ``score = x @ coef + intercept``.

    Attributes:
        features, bits: the features (see the module docstring).
        coef: ``bits`` coefficients. intercept: the constant.
    """

    features: str
    bits: int
    coef: np.ndarray = field(repr=False)
    intercept: float

    def score_records(self, records: Sequence[MoleculeRecord]) -> np.ndarray:
        """Scores of a chunk of parsed records (``n``, float64); NaN where a record is invalid."""
        out = np.full(len(records), np.nan)
        valid = [i for i, r in enumerate(records) if r.ok]
        if not valid:
            return out
        if self.features == "ngrams":  # sparse: about 20 distinct n-grams per heavy atom
            string, bucket, count = ngram_codes([records[i].smiles for i in valid], self.bits)
            weights = np.log1p(count) * self.coef[bucket]
            out[valid] = np.bincount(string, weights, minlength=len(valid)) + self.intercept
        else:
            out[valid] = (
                featurize([records[i] for i in valid], self.features, self.bits) @ self.coef + self.intercept
            )
        return out


@dataclass
class SurrogateJob:
    """Parse one chunk and score every row with the surrogate: ``row, id, smiles, surrogate_score,
    error``; the ``error`` is the one an exhaustive screen gives a row RDKit cannot parse.

    A chunk job (see :func:`biomodels.screen.scoring.map_with_models`): called with the loaded
    models (unused) and ``(index, raw records or a file range)``.
    """

    scorer: LinearScorer
    parser: MoleculeParser = field(default_factory=MoleculeParser)

    def __call__(
        self, models: Sequence[Any], item: tuple[int, list[RawRecord] | LibraryRange]
    ) -> tuple[int, pd.DataFrame]:
        index, columns = self.columns(models, item)
        return index, scores_frame(columns)

    def columns(
        self, models: Sequence[Any], item: tuple[int, list[RawRecord] | LibraryRange]
    ) -> tuple[int, dict[str, Any]]:
        """The chunk's columns as arrays and lists (what a local worker returns, pandas-free)."""
        index, chunk = item
        if isinstance(chunk, list):
            raws = chunk
        else:  # a file range, on a Dask worker: reading it needs pandas and pyarrow there
            from biomodels.io.ranges import read_range

            raws = read_range(chunk)
        records = self.parser.parse_chunk(raws)
        return index, {
            "row": np.fromiter((r.row for r in records), np.int64, len(records)),
            "id": [r.id for r in records],
            "smiles": [r.smiles for r in records],
            SCORE: self.scorer.score_records(records),
            "error": [r.error for r in records],
        }


def scores_frame(columns: dict[str, Any]) -> pd.DataFrame:
    """:meth:`SurrogateJob.columns` as a frame: ``row, id, smiles, surrogate_score, error``."""
    import pandas as pd

    text = {name: pd.Series(columns[name], dtype=object) for name in ("id", "smiles", "error")}
    return pd.DataFrame({"row": columns["row"], **text, SCORE: columns[SCORE]})[
        ["row", "id", "smiles", SCORE, "error"]
    ]
