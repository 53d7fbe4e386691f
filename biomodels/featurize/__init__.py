"""Featurizers: molecules -> graphs / fingerprints / descriptors; sequences -> tokens / k-mers.

Featurizers are registered by name in :data:`FEATURIZERS`; ``get_featurizer(name)`` builds one.
"""

from biomodels.featurize import molecular, sequence  # noqa: F401  (register the featurizers)
from biomodels.featurize.base import FEATURIZERS, Featurizer, get_featurizer
from biomodels.featurize.batch import (
    FeaturizedChunk,
    FeaturizedTable,
    featurize_file,
    iter_featurized_chunks,
)
from biomodels.featurize.graph import ATOM_DIM, BOND_DIM, GraphArrays, featurize_graphs
from biomodels.featurize.sequence import (
    SequenceVocabulary,
    TokenBatch,
    encode_tokens,
    kmer_counts,
    kmer_names,
    one_hot,
)

__all__ = [
    "ATOM_DIM",
    "BOND_DIM",
    "FEATURIZERS",
    "FeaturizedChunk",
    "FeaturizedTable",
    "Featurizer",
    "GraphArrays",
    "SequenceVocabulary",
    "TokenBatch",
    "featurize_file",
    "encode_tokens",
    "featurize_graphs",
    "get_featurizer",
    "iter_featurized_chunks",
    "kmer_counts",
    "kmer_names",
    "one_hot",
]
