"""Scoring for goal-directed optimisation: every transform, the weighted geometric mean, the
components, the diversity filter, the PMO top-10 AUC, and objective files' one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from biomodels.exceptions import InputError
from biomodels.generate.diversity import DiversityFilter, murcko_scaffold
from biomodels.generate.optimize import top_k_auc, top_k_mean
from biomodels.generate.scoring import (
    build_objective,
    double_sigmoid,
    geometric_mean,
    identity,
    load_objective,
    sigmoid,
    step,
)


def test_sigmoid_is_reinvents_and_reverses() -> None:
    values = sigmoid(np.array([0.0, 5.0, 10.0, np.nan]), low=0, high=10)
    # 1 / (1 + 10 ** (10 * 0.5 * (x - 5) / (0 - 10))): 10 ** 2.5 at x = low
    assert values[0] == pytest.approx(1 / (1 + 10**2.5)) and values[1] == pytest.approx(0.5)
    assert values[2] == pytest.approx(1 / (1 + 10**-2.5)) and values[3] == 0.0
    down = sigmoid(np.array([2.0, 6.0]), low=6, high=2)  # SA: small is good
    assert down[0] > 0.99 and down[1] < 0.01
    with pytest.raises(ValueError, match="low != high"):
        sigmoid(np.zeros(1), low=1, high=1)


def test_double_sigmoid_step_identity() -> None:
    window = double_sigmoid(np.array([200.0, 350.0, 500.0, 700.0]), low=250, high=450, width=50)
    assert window[1] > 0.99 and window[0] < 0.01 and window[3] < 0.01
    assert 0.0 < window[2] < 0.01  # at high + width: the falling sigmoid's low end
    assert step(np.array([0.3, 0.4, 0.9, np.nan]), low=0.4).tolist() == [0.0, 1.0, 1.0, 0.0]
    assert identity(np.array([-1.0, 0.3, 2.0, np.nan])).tolist() == [0.0, 0.3, 1.0, 0.0]


def test_weighted_geometric_mean_by_hand() -> None:
    d = np.array([[0.25, 1.0], [0.5, 0.5], [0.0, 1.0], [np.nan, 1.0]])
    assert geometric_mean(d, np.array([1.0, 1.0])).tolist() == pytest.approx([0.5, 0.5, 0.0, 0.0])
    weighted = geometric_mean(d[:1], np.array([2.0, 1.0]))[0]
    assert weighted == pytest.approx((0.25**2 * 1.0) ** (1 / 3))


def test_objective_scores_components_and_keeps_failing_rows() -> None:
    objective = build_objective(
        {
            "component": [
                {"type": "smarts", "smarts": "[#7]", "transform": {"type": "step", "low": 2}},
                {"type": "qed"},
                {"type": "similarity", "smiles": ["c1ccccc1N"], "weight": 2},
                {"type": "filter", "filters": "pains,lipinski"},
            ]
        }
    )
    frame = objective.score(["NCCN", "CCO", "c1ccccc1N", "not a smiles"])
    assert frame["smarts"].tolist()[:3] == [2.0, 0.0, 1.0]
    assert frame["score"][1] == 0.0 and frame["score"][2] == 0.0  # fewer than 2 nitrogens: vetoed
    assert frame["similarity"][2] == pytest.approx(1.0) and frame["pains_lipinski"][0] == 1.0
    expected = (frame["d_qed"][0] * frame["d_similarity"][0] ** 2) ** (1 / 5)
    assert frame["score"][0] == pytest.approx(expected)
    assert frame["error"].tolist()[:3] == [None, None, None] and frame["error"][3] == "not a valid SMILES"
    assert frame["score"][3] == 0.0 and len(frame) == 4


def test_diversity_filter_buckets_by_scaffold() -> None:
    flt = DiversityFilter(bucket_size=2, min_score=0.4)
    benzene = murcko_scaffold("Cc1ccccc1")
    assert benzene == "c1ccccc1" and murcko_scaffold("CCO") == ""
    assert [flt.reward(benzene, 0.8) for _ in range(3)] == [0.8, 0.8, 0.0]  # the third: bucket full
    assert flt.reward(benzene, 0.3) == 0.3  # below min_score: rewarded, fills nothing
    assert flt.reward("c1ccncc1", 0.9) == 0.9
    assert DiversityFilter(bucket_size=1, enabled=False).reward(benzene, 0.8) == 0.8
    with pytest.raises(InputError, match="diversity_filter: unknown key 'size'"):
        DiversityFilter.from_spec({"size": 3})


def test_top_k_auc_is_pmos() -> None:
    # constant 1: the curve rises from 0 over the first 100 calls, then stays at 1
    assert top_k_auc(np.ones(200), k=10, budget=200) == pytest.approx((50 + 100) / 200)
    # stopped at 100 of 200 calls: the last value is held to the budget
    assert top_k_auc(np.ones(100), k=10, budget=200) == pytest.approx((50 + 100) / 200)
    assert top_k_mean(np.array([0.1, 0.9, 0.5]), 2) == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[component]]\ntype = "qed"\nweigth = 2\n', r"component\[1\] \(qed\): unknown key 'weigth'"),
        ('[[component]]\ntype = "potency"\n', r"component\[1\]\.type: 'potency' is not a component"),
        (
            '[[component]]\ntype = "qed"\ntransform = { type = "sigmoid", low = 0.2 }\n',
            r"component\[1\]\.transform \(sigmoid\): missing key 'high'",
        ),
        ('[[component]]\ntype = "smarts"\nsmarts = "[#7"\n', r"component\[1\] \(smarts\): invalid SMARTS"),
        ('[[component]]\ntype = "activity"\n', r"component\[1\] \(activity\): needs a run directory"),
        ('[[component]]\ntype = "qed"\nweight = -1\n', r"component\[1\]\.weight: must be a positive number"),
        ("[objective\n", "not a valid TOML file"),
        ("sigma = 1\n", r"no \[\[component\]\] tables"),
    ],
)
def test_bad_objective_file_is_one_line_naming_the_key(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "objective.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as error:
        load_objective(path)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)
