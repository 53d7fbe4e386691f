"""Token, one-hot and k-mer encodings of sequences, checked on hand-worked examples."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from biomodels.exceptions import UnknownNameError
from biomodels.featurize.sequence import (
    SequenceVocabulary,
    encode_tokens,
    kmer_counts,
    kmer_names,
    one_hot,
)

# --- vocabulary -----------------------------------------------------------------------------------


def test_dna_vocabulary_layout():
    vocabulary = SequenceVocabulary.for_alphabet("dna")
    assert len(vocabulary) == 19
    assert vocabulary.tokens[:6] == ("<pad>", "<unk>", "A", "C", "G", "T")
    assert (vocabulary.pad_id, vocabulary.unk_id) == (0, 1)
    encoded = vocabulary.encode("acgTN-x")
    assert encoded.dtype == np.int64
    assert encoded.tolist() == [2, 3, 4, 5, 16, 17, 1]


def test_protein_and_rna_vocabularies():
    protein = SequenceVocabulary.for_alphabet("protein")
    assert len(protein) == 30
    # standard order ACDEFGHIKLMNPQRSTVWY, shifted by the two reserved ids
    assert protein.encode("MKV*").tolist() == [12, 10, 19, protein.tokens.index("*")]
    rna = SequenceVocabulary.for_alphabet("rna")
    assert rna.encode("ACGUT").tolist() == [2, 3, 4, 5, 1]  # T is not an RNA letter


def test_vocabulary_round_trip():
    vocabulary = SequenceVocabulary.for_alphabet("protein")
    sequence = "MKTAYIAKQRQISFVKSHFSRQ*BZX"
    assert vocabulary.decode(vocabulary.encode(sequence.lower())) == sequence
    assert vocabulary.decode([0, 2, 1, 3, 0]) == "A?C"  # padding dropped, unknown as '?'
    assert vocabulary.encode("").shape == (0,)


def test_unknown_alphabet_lists_choices():
    with pytest.raises(UnknownNameError, match="choose one of: dna, protein, rna"):
        SequenceVocabulary.for_alphabet("aminoacid")


# --- encode_tokens ------------------------------------------------------------------------------

SEQS = ["ACGT", "AC", "ACGTACGT"]


def test_tokens_post_padding_and_truncation():
    tokens, lengths = encode_tokens(SEQS, "dna", max_length=5)
    assert tokens.dtype == np.int64 and tokens.shape == (3, 5)
    assert tokens.tolist() == [[2, 3, 4, 5, 0], [2, 3, 0, 0, 0], [2, 3, 4, 5, 2]]
    assert lengths.tolist() == [4, 2, 5]


def test_tokens_pre_padding_and_truncation():
    batch = encode_tokens(SEQS, "dna", max_length=5, padding="pre", truncation="pre")
    assert batch.tokens.tolist() == [[0, 2, 3, 4, 5], [0, 0, 0, 2, 3], [5, 2, 3, 4, 5]]
    assert batch.lengths.tolist() == [4, 2, 5]


def test_tokens_default_width_is_the_longest_sequence():
    tokens, lengths = encode_tokens(SEQS, "dna")
    assert tokens.shape == (3, 8)
    assert lengths.tolist() == [4, 2, 8]
    vocabulary = SequenceVocabulary.for_alphabet("dna")
    assert [vocabulary.decode(row) for row in tokens] == SEQS
    assert encode_tokens([], "dna", max_length=4).tokens.shape == (0, 4)


def test_tokens_feed_torch_embedding():
    torch = pytest.importorskip("torch")
    tokens, lengths = encode_tokens(["MKV", "MK"], "protein", max_length=4)
    as_tensor = torch.from_numpy(tokens)
    assert as_tensor.dtype == torch.int64
    embedding = torch.nn.Embedding(30, 3, padding_idx=0)
    out = embedding(as_tensor)
    assert out.shape == (2, 4, 3)
    assert torch.count_nonzero(out[1, 2:]).item() == 0  # padding rows embed to zero
    mask = torch.arange(4) < torch.from_numpy(lengths)[:, None]
    assert mask.tolist() == [[True, True, True, False], [True, True, False, False]]


def test_tokens_reject_bad_arguments():
    with pytest.raises(ValueError, match="padding must be one of post, pre; got 'left'"):
        encode_tokens(SEQS, "dna", padding="left")
    with pytest.raises(ValueError, match="truncation must be one of post, pre; got 'end'"):
        encode_tokens(SEQS, "dna", truncation="end")
    with pytest.raises(TypeError, match="not a single string"):
        encode_tokens("ACGT", "dna")


# --- one_hot ------------------------------------------------------------------------------------


def test_one_hot_values_and_padding():
    encoded = one_hot(["ACGN", "t"], "dna", max_length=5)
    assert encoded.dtype == np.float32 and encoded.shape == (2, 5, 4)
    assert encoded[0, :3].tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    assert encoded[1, 0].tolist() == [0, 0, 0, 1]
    # ambiguity code N and padding are all-zero rows
    assert encoded.sum(axis=2).tolist() == [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]]


def test_one_hot_pre_padding_and_alphabet_sizes():
    encoded = one_hot(["ACGU", "GU"], "rna", max_length=3, padding="pre", truncation="pre")
    assert encoded.argmax(axis=2).tolist() == [[1, 2, 3], [0, 2, 3]]
    assert encoded.sum(axis=2).tolist() == [[1, 1, 1], [0, 1, 1]]
    assert one_hot(["MKV"], "protein").shape == (1, 3, 20)


def test_one_hot_round_trip():
    standard = "ACDEFGHIKLMNPQRSTVWY"
    sequences = ["MKTAYIAKQR", "WYV"]
    encoded = one_hot(sequences, "protein")
    for sequence, rows in zip(sequences, encoded, strict=True):
        letters = "".join(standard[i] for i in rows.argmax(axis=1)[: len(sequence)])
        assert letters == sequence
    assert encoded.sum() == sum(len(s) for s in sequences)


# --- k-mers -------------------------------------------------------------------------------------


def test_kmer_counts_hand_checked():
    counts = kmer_counts(["ACGTAC", "acgtac"], 2, "dna")
    assert counts.dtype == np.float32 and counts.shape == (2, 16)
    names = kmer_names(2, "dna")
    observed = {name: c for name, c in zip(names, counts[0], strict=True) if c}
    assert observed == {"AC": 2, "CG": 1, "GT": 1, "TA": 1}
    assert names.index("AC") == 1 and names.index("TA") == 12
    np.testing.assert_array_equal(counts[0], counts[1])
    assert kmer_counts(["ACGTAC"], 1, "dna").tolist() == [[2, 2, 1, 1]]
    triples = kmer_counts(["ACGTAC"], 3, "dna")[0]
    assert sorted(np.array(kmer_names(3, "dna"))[triples > 0]) == ["ACG", "CGT", "GTA", "TAC"]


def test_kmer_counts_skip_ambiguous_windows_and_short_sequences():
    counts = kmer_counts(["ACNGT", "A", ""], 2, "dna")
    names = kmer_names(2, "dna")
    assert {names[i]: counts[0, i] for i in np.flatnonzero(counts[0])} == {"AC": 1, "GT": 1}
    assert counts[1:].sum() == 0


def test_kmer_names_order():
    assert kmer_names(1, "dna") == ["A", "C", "G", "T"]
    assert kmer_names(2, "rna")[:5] == ["AA", "AC", "AG", "AU", "CA"]
    protein = kmer_names(2, "protein")
    assert len(protein) == 400 and protein[:3] == ["AA", "AC", "AD"] and protein[-1] == "YY"
    assert kmer_counts(["ACGU"], 1, "rna").tolist() == [[1, 1, 1, 1]]
    assert kmer_counts(["MKV"], 2, "protein").shape == (1, 400)


def test_kmer_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        kmer_counts(["ACGT"], 0, "dna")


@given(sequence=st.text(alphabet="ACGTNacgt-", max_size=80), k=st.integers(1, 4))
def test_kmer_counts_match_a_plain_python_count(sequence, k):
    upper = sequence.upper()
    expected = Counter(
        upper[i : i + k] for i in range(len(upper) - k + 1) if set(upper[i : i + k]) <= set("ACGT")
    )
    counts = kmer_counts([sequence], k, "dna")[0]
    names = kmer_names(k, "dna")
    assert {names[i]: int(counts[i]) for i in np.flatnonzero(counts)} == dict(expected)
