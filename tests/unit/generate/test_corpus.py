"""Shuffled training batches are length-bucketed: every row once, little padding; rows outside
the vocabulary are skipped with one warning."""

from __future__ import annotations

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
    for _ in range(3):  # every epoch skips the same two rows
        with caplog.at_level("DEBUG", logger="biomodels.generate.corpus"):
            rows = sum(len(b) for b in mixed.batches("train", representation, vocabulary, 2))
        assert rows == 2
    skipped = [r for r in caplog.records if "were skipped" in r.getMessage()]
    assert len(skipped) == 3 and [r.levelname for r in skipped] == ["WARNING", "DEBUG", "DEBUG"]
    assert "2 rows of train were skipped" in skipped[0].getMessage()
