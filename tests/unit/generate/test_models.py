"""charrnn and vae: each memorises a tiny set; save/load; every row kept; one-line errors."""

from __future__ import annotations

import pytest

from biomodels.exceptions import InputError
from biomodels.train.estimator import Estimator, make_model

TINY = ["CCO", "c1ccccc1Cl", "CC(=O)Nc1ccc(O)cc1", "C1CC%10CC1%10", "N[C@@H](C)C(=O)O", "Brc1ccc[nH]1"]
SMALL = {
    "charrnn": dict(embedding=16, hidden=64, layers=1, dropout=0.0, epochs=120, batch_size=8, lr=1e-2),
    "vae": dict(
        embedding=16, encoder_hidden=32, hidden=64, layers=1, latent=8, epochs=120, batch_size=8, lr=1e-2,
        kl_weight=0.001,
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def fitted():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks train fastest on one thread
    try:
        return {name: make_model(name, **params).fit(TINY) for name, params in SMALL.items()}
    finally:
        torch.set_num_threads(before)


def test_charrnn_reproduces_memorised_molecules(fitted) -> None:
    samples = fitted["charrnn"].sample(200, seed=0, temperature=0.5)
    assert list(samples.columns) == ["smiles", "raw", "valid", "error"] and len(samples) == 200
    canonical = {make_canonical(s) for s in TINY}
    assert samples["valid"].mean() > 0.9
    assert samples["smiles"].isin(canonical).mean() > 0.9
    assert len(set(samples["smiles"]) & canonical) >= 5  # not one molecule over and over


def test_vae_reconstructs_the_tiny_set(fitted) -> None:
    model = fitted["vae"]
    assert model.history_[-1]["train_nll"] < 0.2
    path = model.interpolate(TINY[1], TINY[2], steps=4)
    assert list(path["t"]) == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert path["raw"].iloc[0] == TINY[1] and path["raw"].iloc[-1] == TINY[2]
    samples = model.sample(50, seed=0)
    assert len(samples) == 50 and samples["valid"].any()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_predict_keeps_every_row_and_round_trips(name: str, fitted, tmp_path) -> None:
    model = fitted[name]
    table = model.predict([*TINY, "C[Si](C)C", ""])
    assert len(table) == len(TINY) + 2
    assert table["error"].iloc[:-2].isna().all() and table["nll"].iloc[:-2].notna().all()
    assert "'[Si]'" in table["error"].iloc[-2] and table["error"].iloc[-1] == "empty SMILES"
    loaded = Estimator.load(model.save(tmp_path / "model"))
    assert loaded.name == name and loaded.vocabulary_ == model.vocabulary_
    assert loaded.predict(TINY)["nll"].tolist() == pytest.approx(table["nll"].iloc[:-2].tolist(), rel=1e-5)
    assert loaded.sample(20, seed=3).equals(model.sample(20, seed=3))


def test_all_invalid_training_data_is_one_error() -> None:
    with pytest.raises(InputError, match=r"no usable training SMILES among 3 rows"):
        make_model("charrnn", epochs=1).fit(["C1CC", "xyz", ""])


def make_canonical(smiles: str) -> str:
    from rdkit import Chem

    return Chem.CanonSmiles(smiles)


def test_learning_rate_decays_by_cosine_to_lr_end() -> None:
    model = make_model("charrnn", lr=1e-3, lr_end=1e-4)
    assert model._learning_rate(0.0) == pytest.approx(1e-3)
    assert model._learning_rate(0.5) == pytest.approx(5.5e-4)
    assert model._learning_rate(1.0) == pytest.approx(1e-4)
    assert make_model("charrnn", lr=1e-3)._learning_rate(0.7) == 1e-3  # constant without lr_end


def test_lr_end_above_lr_is_one_error() -> None:
    with pytest.raises(InputError, match=r"lr_end must be in \(0, lr=0.001\], got 0.01"):
        make_model("charrnn", lr=1e-3, lr_end=1e-2).check_params()
