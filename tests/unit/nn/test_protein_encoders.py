"""Protein encoders: cached inputs, per-batch trimming, one embedding per protein."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biomodels.nn import PROTEIN_ENCODERS

SEQUENCES = ["MKKLLPTAAAG", "MST", "MAHHHHHHVDDDDKGSWWQ"]


@pytest.mark.parametrize("name", PROTEIN_ENCODERS.names())
def test_each_encoder_embeds_each_protein_once(name):
    cls = PROTEIN_ENCODERS.get(name)
    inputs = cls.featurize(SEQUENCES, max_length=16)
    assert len(inputs) == 3
    encoder = cls().eval()
    out = encoder(cls.collate(torch.from_numpy(inputs)))
    assert out.shape == (3, encoder.out_dim) and torch.isfinite(out).all()
    assert not torch.allclose(out[0], out[1])  # different proteins, different embeddings


def test_cnn_inputs_are_cut_to_max_length_and_batches_trimmed_to_their_longest():
    cls = PROTEIN_ENCODERS.get("cnn")
    tokens = cls.featurize(SEQUENCES, max_length=16)
    assert tokens.shape == (3, 16) and (tokens[2] != 0).all()
    assert cls.collate(torch.from_numpy(tokens[:2])).shape == (2, 11)


def test_kmer_inputs_are_scaled_frequencies_and_embeddings_do_not_depend_on_the_batch():
    cls = PROTEIN_ENCODERS.get("kmer")
    x = cls.featurize(SEQUENCES, max_length=0)
    assert x.shape == (3, 20 + 400 + 8000)
    # each block: frequencies (summing to 1) divided by the uniform frequency 20**-k, times 0.1
    for block, k in ((x[:, :20], 1), (x[:, 20:420], 2), (x[:, 420:], 3)):
        assert np.allclose(block.sum(axis=1), 0.1 * 20**k, rtol=1e-5)
    encoder = cls().eval()
    together = encoder(torch.from_numpy(x))
    assert torch.allclose(together[1], encoder(torch.from_numpy(x[1:2]))[0], atol=1e-6)
