"""Training batches come from a token store in a fresh random order over all rows each epoch,
length-bucketed (every row once, little padding); rows outside the vocabulary are skipped with
one warning."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from biomodels.generate.corpus import SmilesCorpus
from biomodels.generate.tokens import REPRESENTATIONS, Vocabulary


@pytest.fixture
def corpus() -> tuple[SmilesCorpus, object, Vocabulary]:
    rng = np.random.default_rng(0)
    smiles = ["C" * int(n) for n in rng.integers(1, 60, 600)]  # lengths 1..59, shuffled
    representation = REPRESENTATIONS.get("smiles")()
    corpus = SmilesCorpus(smiles, holdout=False)
    scan = corpus.scan(representation, max_length=100)
    return corpus, representation, Vocabulary(scan.tokens)


def test_bucketed_batches_hold_every_row_once_with_less_padding(corpus) -> None:
    corpus, representation, vocabulary = corpus
    shuffled = list(corpus.batches("train", representation, vocabulary, 8, np.random.default_rng(1)))
    plain = list(corpus.batches("train", representation, vocabulary, 8))
    lengths = sorted(int((b != 0).sum(dim=1)[i]) for b in shuffled for i in range(len(b)))
    assert lengths == sorted(int((b != 0).sum(dim=1)[i]) for b in plain for i in range(len(b)))
    assert len(lengths) == 600
    padding = [sum(int((b == 0).sum()) for b in batches) for batches in (shuffled, plain)]
    assert padding[0] < padding[1] / 4  # batches of similar lengths pad little
    again = list(corpus.batches("train", representation, vocabulary, 8, np.random.default_rng(1)))
    assert all(a.equal(b) for a, b in zip(shuffled, again, strict=True))  # seeded


def test_rows_outside_the_vocabulary_are_skipped_and_warned_of_once(corpus, caplog) -> None:
    _, representation, vocabulary = corpus  # a vocabulary of carbon chains only
    mixed = SmilesCorpus(["CCC", "CCN", "CCCC", "ClCC"], holdout=False)
    for _ in range(3):  # every epoch skips the same two rows: encoded once, warned of once
        with caplog.at_level("DEBUG", logger="biomodels.generate.corpus"):
            rows = sum(len(b) for b in mixed.batches("train", representation, vocabulary, 2))
        assert rows == 2
    skipped = [r for r in caplog.records if "were skipped" in r.getMessage()]
    assert [r.levelname for r in skipped] == ["WARNING"]
    assert "2 rows of train were skipped" in skipped[0].getMessage()


def test_an_ordered_corpus_is_shuffled_over_all_rows_not_within_a_buffer(corpus) -> None:
    """A streaming shuffle buffer keeps file order at its own scale: the last rows train last.
    Each epoch's order is a permutation of every row, whatever the buffer."""
    _, representation, vocabulary = corpus
    ordered = SmilesCorpus(["C" * (1 + i // 100) for i in range(1_000)], holdout=False)  # sorted
    ordered.scan(representation, max_length=100)
    batches = ordered.batches("train", representation, vocabulary, 10, np.random.default_rng(0), window=100)
    window = list(itertools.islice(batches, 10))  # the first 100 rows drawn: one buffer
    carbons = {int(n) - 2 for b in window for n in (b != 0).sum(dim=1)}  # less <bos>, <eos>
    assert len(carbons) >= 5  # from all over the file, not its first 100 rows (all "C")
    epochs = [
        [b for b in ordered.batches("train", representation, vocabulary, 10, np.random.default_rng(e), 100)]
        for e in (0, 1)
    ]
    assert not all(a.equal(b) for a, b in zip(*epochs, strict=True))  # a fresh order each epoch
    assert sum(len(b) for b in epochs[1]) == 1_000


def test_a_store_dir_memory_maps_the_same_rows(corpus, tmp_path) -> None:
    _, representation, vocabulary = corpus
    smiles = ["C" * n for n in range(1, 40)]
    stores = []
    for store_dir in (None, tmp_path / "tokens"):
        source = SmilesCorpus(smiles, holdout=False, store_dir=store_dir)
        source.scan(representation, max_length=100)
        stores.append(source.token_store("train", representation, vocabulary))
    assert (tmp_path / "tokens" / "train" / "ids.bin").stat().st_size == sum(n + 2 for n in range(1, 40))
    assert isinstance(stores[1].ids, np.memmap) and stores[1].ids.dtype == np.uint8
    assert len(stores[0]) == len(stores[1]) == 39
    assert all(np.array_equal(stores[0].row(i), stores[1].row(i)) for i in range(39))
    assert list(stores[1].row(2)) == vocabulary.encode(["C"] * 3)
