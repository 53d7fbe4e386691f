"""The CharRNN prior that ships in the package: small, documented, and it samples with no
training and no download (the MOSES bars are measured in benchmarks/, not here)."""

from __future__ import annotations

from biomodels.generate import sample
from biomodels.generate.models import CharRNNModel
from biomodels.generate.sampling import PRIOR_DIR, load_generator


def test_the_prior_is_at_most_10_mb_and_has_a_model_card() -> None:
    size = sum(p.stat().st_size for p in PRIOR_DIR.rglob("*") if p.is_file())
    assert size <= 10 * 2**20
    card = (PRIOR_DIR / "MODEL_CARD.md").read_text()
    assert "biomodels generate train" in card and "validity" in card.lower()


def test_sampling_without_a_run_uses_the_prior() -> None:
    assert isinstance(load_generator(None), CharRNNModel)
    table = sample(n=300, seed=0)
    assert len(table) == 300 and table["valid"].mean() >= 0.85  # 0.958 over 30,000 (model card)
    assert table.loc[table["valid"], "smiles"].str.len().gt(0).all()
    assert table.equals(sample(n=300, seed=0))  # seeded
