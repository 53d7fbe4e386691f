"""MOSES metrics on small fixed examples, checked against values worked out by hand or with
RDKit's own BulkTanimotoSimilarity; FCD of a set against itself is ~0; bad input is one error."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from biomodels.exceptions import InputError
from biomodels.generate.metrics import (
    cosine_similarity,
    evaluate,
    fraction_unique,
    internal_diversity,
    moses_fingerprints,
    novelty,
    passes_filters,
    scaffold_counts,
    snn,
)

A, B, C = "CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"


def _rdkit_tanimoto(x: str, ys: list[str]) -> list[float]:
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    fp = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in [x, *ys]]
    return DataStructs.BulkTanimotoSimilarity(fp[0], fp[1:])


def _fps(smiles: list[str]) -> np.ndarray:
    return moses_fingerprints([Chem.MolFromSmiles(s) for s in smiles])


def test_uniqueness_and_novelty_by_hand() -> None:
    assert fraction_unique([A, A, B, C], 3) == pytest.approx(2 / 3)
    assert fraction_unique([A, A], 10) == 0.5  # fewer than k: all of them
    assert novelty([A, A, B], {A}) == 0.5  # distinct {A, B}, B is new


def test_internal_diversity_is_moses_formula() -> None:
    t = _rdkit_tanimoto(B, [C])[0]
    fps = _fps([B, C])
    # the 2 x 2 similarity matrix [[1, t], [t, 1]], diagonal included as in MOSES
    assert internal_diversity(fps, p=1) == pytest.approx(1 - (1 + t) / 2)
    assert internal_diversity(fps, p=2) == pytest.approx(1 - np.sqrt((1 + t**2) / 2))


def test_snn_is_mean_nearest_tanimoto() -> None:
    reference = [B, C, "CCN"]
    expected = np.mean([max(_rdkit_tanimoto(q, reference)) for q in (A, "Oc1ccccc1C")])
    assert snn(_fps([A, "Oc1ccccc1C"]), _fps(reference)) == pytest.approx(expected)


def test_cosine_of_counts_and_scaffolds() -> None:
    assert cosine_similarity(Counter(a=2, b=1), Counter(a=1)) == pytest.approx(2 / np.sqrt(5))
    assert np.isnan(cosine_similarity(Counter(), Counter(a=1)))
    mols = [Chem.MolFromSmiles(s) for s in ("c1ccccc1CCc1ccccc1", "c1ccccc1O", "c1ccccc1CCc1ccccc1C")]
    assert scaffold_counts(mols) == Counter({"c1ccc(CCc2ccccc2)cc1": 2})  # 1-ring scaffold left out


@pytest.mark.parametrize(
    ("smiles", "passes"),
    [
        (C, True),
        ("C[N+](C)(C)C", False),  # charge
        ("C1CCCCCCC1", False),  # ring of 8
        ("CC[Si](C)C", False),  # atom outside C N S O F Cl Br H
        ("CCC=O", False),  # MCF7 aldehyde
        ("O=C1C=CC(=O)C=C1", False),  # PAINS quinone
    ],
)
def test_filters(smiles: str, passes: bool) -> None:
    assert passes_filters(Chem.MolFromSmiles(smiles)) is passes


def test_evaluate_by_hand_and_fcd_of_a_set_with_itself(tmp_path) -> None:
    generated = [A, A, B, C, "C1CC", ""]
    reference = [A, B, C, "CCN", "c1ccccc1CCc1ccccc1"]
    metrics = evaluate(generated, train=[B], test=reference, k=(2, 4), json=tmp_path / "m.json")
    assert metrics["valid"] == pytest.approx(4 / 6)
    assert metrics["unique@2"] == 0.5 and metrics["unique@4"] == 0.75
    assert metrics["Novelty"] == pytest.approx(2 / 3)
    assert metrics["Filters"] == 1.0
    assert (tmp_path / "m.json").is_file()
    itself = evaluate(reference, test=reference)
    assert abs(itself["FCD/Test"]) < 1e-3
    assert itself["SNN/Test"] == pytest.approx(1.0)
    assert itself["Frag/Test"] == pytest.approx(1.0) and itself["weight"] == pytest.approx(0.0)


def test_reference_chemnet_statistics_are_cached_and_damage_rebuilds(tmp_path, monkeypatch) -> None:
    import biomodels.generate.metrics as metrics

    reference = [A, B, C, "CCN", "c1ccccc1CCc1ccccc1"]
    computed = metrics.cached_chemnet_statistics(reference, cache_dir=tmp_path)
    (entry,) = (tmp_path / "chemnet").glob("*.npz")

    def not_again(smiles):
        raise AssertionError("ChemNet ran although the statistics were cached")

    with monkeypatch.context() as patched:
        patched.setattr(metrics, "chemnet_statistics", not_again)
        cached = metrics.cached_chemnet_statistics(reference, cache_dir=tmp_path)
        np.testing.assert_array_equal(cached[0], computed[0])
        np.testing.assert_array_equal(cached[1], computed[1])
        with pytest.raises(AssertionError, match="ChemNet ran"):  # other molecules: another entry
            metrics.cached_chemnet_statistics(reference[:4], cache_dir=tmp_path)
    entry.write_bytes(entry.read_bytes()[:100])
    rebuilt = metrics.cached_chemnet_statistics(reference, cache_dir=tmp_path)
    np.testing.assert_allclose(rebuilt[1], computed[1])


def test_evaluate_bad_input_is_one_line(tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty file"):
        evaluate(empty)
    bad = tmp_path / "bad.csv"
    bad.write_text("smiles,raw,valid,error\n,C1C,False,x\n,xx,False,y\n")
    with pytest.raises(InputError, match="none of the 2 samples is a valid molecule"):
        evaluate(bad)


def test_max_reference_samples_the_reference_at_random_not_its_first_rows() -> None:
    ordered = ["CCO"] * 60 + ["c1ccccc1"] * 60  # an ordered file, as MOSES's are
    generated = ["c1ccccc1", "Cc1ccccc1"]
    sampled = evaluate(generated, test=ordered, max_reference=60)
    assert sampled["SNN/Test"] == pytest.approx(evaluate(generated, test=ordered)["SNN/Test"])
    first = evaluate(generated, test=ordered[:60])  # what "the first 60 rows" would have given
    assert sampled["SNN/Test"] > first["SNN/Test"] + 0.3
    again = evaluate(generated, test=ordered, max_reference=60)
    assert sampled == pytest.approx(again, nan_ok=True)  # seeded
