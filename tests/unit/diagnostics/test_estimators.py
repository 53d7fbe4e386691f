"""Estimators: fit/predict on tiny data, save/load round trips, bad rows kept in order, checkpoints."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from biomodels.diagnostics import (
    BagOfWordsClassifier,
    CNNClassifier,
    ConditionalGANEstimator,
    DenseAutoencoderEstimator,
    ImageAutoencoder,
    PixelClassifier,
    ResNet18Classifier,
    RidgeRegressor,
    RNNClassifier,
    TransformerClassifier,
    load_estimator,
)
from biomodels.exceptions import CheckpointError
from biomodels.io.images import read_npz_images

FAST = {"trainer_options": {"device": "cpu"}}
TEXTS = [
    "itchy red rash on my arms and skin peeling",
    "dry scaly skin patches that itch and crack",
    "high fever with chills and sweating every evening",
    "fever chills headache and body aches after mosquito bites",
    "burning pain when I urinate and cloudy urine",
    "frequent urination with burning and lower belly pain",
]
LABELS = ["psoriasis", "psoriasis", "malaria", "malaria", "uti", "uti"]


@pytest.fixture(scope="module")
def tiny_images(tiny_npz: Path):
    return read_npz_images(tiny_npz, "train", ["normal", "pneumonia"])


def _image_models():
    return [
        CNNClassifier(channels=(8, 16), epochs=25, lr=1e-2, augment=False, batch_size=16, **FAST),
        ResNet18Classifier(width=4, epochs=25, lr=1e-2, augment=False, batch_size=16, **FAST),
    ]


@pytest.mark.parametrize("model", _image_models(), ids=["cnn", "resnet18"])
def test_image_classifier_memorises_tiny_set_and_round_trips(model, tiny_images, tmp_path: Path) -> None:
    x, y = tiny_images.images[:16], tiny_images.labels[:16]
    model.fit(x, y, classes=["normal", "pneumonia"])
    assert model.history_.train_loss[-1] < 0.25 * model.history_.train_loss[0]
    assert (model.predict(x) == np.array(["normal", "pneumonia"], dtype=object)[y]).mean() >= 0.9
    probs = model.predict_proba(x)
    assert probs.shape == (16, 2)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-6)
    model.save(tmp_path / "run")
    loaded = load_estimator(tmp_path / "run")
    assert type(loaded) is type(model) and loaded.classes_ == ["normal", "pneumonia"]
    np.testing.assert_array_equal(loaded.predict_proba(x), probs)
    np.testing.assert_array_equal(loaded.embed(x[:3]), model.embed(x[:3]))


def test_image_predict_table_keeps_bad_rows_in_order(tiny_images) -> None:
    model = CNNClassifier(channels=(8,), epochs=1, **FAST).fit(tiny_images.images, tiny_images.labels)
    rows = [tiny_images.images[0], np.zeros((27, 28)), None, np.full((28, 28), np.nan), tiny_images.images[1]]
    table = model.predict_table(rows, labels=[0, 1, 1, 0, 7])
    assert table["row"].tolist() == [0, 1, 2, 3, 4]
    assert table["error"].tolist()[1:4] == [
        "image is 27x28, expected 28x28",
        "no image",
        "image has non-finite pixel values",
    ]
    assert table["error"][0] is None
    assert table["error"][4] == "label 7 is not one of the model's classes (0, 1)"
    assert table["prediction"].notna().tolist() == [True, False, False, False, True]
    assert np.isnan(table.loc[1:3, ["prob_0", "prob_1"]].to_numpy()).all()
    assert np.allclose(table.loc[[0, 4], ["prob_0", "prob_1"]].sum(1), 1)


@pytest.mark.parametrize(
    "model",
    [
        RNNClassifier(embed_dim=16, hidden=16, epochs=40, lr=1e-2, token_dropout=0.0, dropout=0.0, **FAST),
        TransformerClassifier(
            d_model=16,
            heads=2,
            layers=1,
            ff_dim=32,
            epochs=40,
            lr=5e-3,
            token_dropout=0.0,
            dropout=0.0,
            **FAST,
        ),
    ],
    ids=["rnn", "transformer"],
)
def test_text_classifier_memorises_and_explains(model, tmp_path: Path) -> None:
    model.fit(TEXTS, LABELS)
    assert model.vocabulary_.tokens[:2] == ["<pad>", "<unk>"]
    assert list(model.predict(TEXTS)) == LABELS
    rows = [TEXTS[0], "", float("nan"), "!!!", 42, TEXTS[4]]
    table = model.predict_table(rows, top_tokens=2)
    assert table["error"].tolist() == [
        None,
        "empty text",
        "missing text",
        "text has no word tokens",
        "text is a int, not a string",
        None,
    ]
    assert table["prediction"].tolist() == ["psoriasis", None, None, None, None, "uti"]
    top = table["top_tokens"][0].split("; ")
    assert len(top) == 2 and all(t.split(":")[0] in TEXTS[0].split() for t in top)
    weights = model.attention([TEXTS[2], None])
    assert weights[1] is None
    assert [t for t, _ in weights[0]] == TEXTS[2].split()
    assert sum(w for _, w in weights[0]) == pytest.approx(1.0, abs=1e-5)
    model.save(tmp_path / "run")
    loaded = load_estimator(tmp_path / "run")
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert loaded.vocabulary_.tokens == model.vocabulary_.tokens


def test_transformer_attention_maps_per_text() -> None:
    model = TransformerClassifier(d_model=16, heads=2, layers=2, ff_dim=32, epochs=1, **FAST).fit(
        TEXTS, LABELS
    )
    maps = model.attention_maps(TEXTS[:2])
    assert [m.shape for m in maps[0]] == [(2, 9, 9), (2, 9, 9)]
    assert maps[1][0].shape == (2, 8, 8)
    np.testing.assert_allclose(maps[1][1].sum(-1), 1, rtol=1e-5)


def test_bag_of_words_matches_sklearn_after_reload(tmp_path: Path) -> None:
    for tfidf in (False, True):
        model = BagOfWordsClassifier(tfidf=tfidf).fit(TEXTS, LABELS)
        assert model.classes_ == ["malaria", "psoriasis", "uti"]
        expected = model.model_.predict_proba(model.vectorizer_.transform(TEXTS))
        model.save(tmp_path / f"bow{tfidf}")
        loaded = load_estimator(tmp_path / f"bow{tfidf}")
        np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, rtol=1e-12)
        table = loaded.predict_table([TEXTS[2], None], labels=["malaria", "flu"])
        assert table["error"].tolist() == [
            None,
            "missing text; label 'flu' is not one of the model's classes (malaria, psoriasis, uti)",
        ]


def test_pixel_baselines(tiny_images, tmp_path: Path) -> None:
    x, y = tiny_images.images, tiny_images.labels
    logreg = PixelClassifier().fit(x, y, classes=["normal", "pneumonia"])
    logreg.save(tmp_path / "px")
    np.testing.assert_allclose(load_estimator(tmp_path / "px").predict_proba(x), logreg.predict_proba(x))
    forest = PixelClassifier(model="random_forest", n_estimators=20).fit(x, y)
    assert (forest.predict(x) == np.array(["0", "1"], dtype=object)[y]).all()
    with pytest.raises(NotImplementedError, match="random-forest pixel baseline is not saved"):
        forest.save(tmp_path / "rf")


def test_ridge_regressor_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.25
    for alpha in (0.0, 1.0):
        model = RidgeRegressor(alpha=alpha).fit(x, y)
        model.save(tmp_path / f"r{alpha}")
        loaded = load_estimator(tmp_path / f"r{alpha}")
        np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    np.testing.assert_allclose(RidgeRegressor(alpha=0).fit(x, y).predict(x[:3]), y[:3], atol=1e-9)
    assert np.isnan(model.predict([x[0], x[0][:3]])[1])


def test_image_autoencoder_scores_other_class_higher(tiny_images, tmp_path: Path) -> None:
    x = tiny_images.images
    dark = np.clip(x * 0.2, 0, 1)  # a very different "abnormal" set
    model = ImageAutoencoder(latent_dim=8, channels=(8, 16), epochs=30, lr=1e-2, batch_size=16, **FAST)
    model.fit(np.concatenate([x, dark]), np.r_[np.zeros(len(x)), np.ones(len(x))], normal_class=0)
    assert model.history_.train_loss[-1] < 0.5 * model.history_.train_loss[0]
    scores = model.anomaly_score(np.concatenate([x, dark]))
    assert scores[len(x) :].mean() > 2 * scores[: len(x)].mean()
    assert model.transform(x[:4]).shape == (4, 8) and model.reconstruct(x[:4]).shape == (4, 28, 28)
    table = model.predict_table([x[0], np.zeros((5, 5))])
    assert table["error"].tolist() == [None, "image is 5x5, expected 28x28"]
    assert np.isnan(table["anomaly_score"][1])
    model.save(tmp_path / "ae")
    np.testing.assert_array_equal(load_estimator(tmp_path / "ae").anomaly_score(x[:5]), scores[:5])


def test_dense_autoencoder_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 30))
    x = rng.normal(size=(64, 3)) @ basis
    model = DenseAutoencoderEstimator(
        hidden=(32,), latent_dim=3, epochs=60, lr=1e-2, batch_size=16, **FAST
    ).fit(x)
    assert model.history_.train_loss[-1] < 0.2 * model.history_.train_loss[0]
    model.save(tmp_path / "dae")
    loaded = load_estimator(tmp_path / "dae")
    np.testing.assert_allclose(loaded.anomaly_score(x), model.anomaly_score(x), rtol=1e-6)
    assert loaded.predict([x[0], [1.0, 2.0]])[1] is None


def test_gan_fit_sample_and_round_trip(tiny_images, tmp_path: Path) -> None:
    gan = ConditionalGANEstimator(z_dim=8, g_channels=16, d_channels=8, epochs=2, batch_size=32, **FAST)
    gan.fit(
        tiny_images.images, tiny_images.labels, classes=["normal", "pneumonia"], sample_dir=tmp_path / "s"
    )
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    images = gan.sample(5, "pneumonia", seed=3)
    assert images.shape == (5, 28, 28) and images.min() >= 0 and images.max() <= 1
    gan.save(tmp_path / "gan")
    loaded = load_estimator(tmp_path / "gan")
    np.testing.assert_array_equal(loaded.sample(5, 1, seed=3), images)
    with pytest.raises(ValueError, match="unknown class 'flu'; the model's classes are: normal, pneumonia"):
        gan.sample(1, "flu")


def test_corrupt_checkpoint_is_one_line_error(tmp_path: Path) -> None:
    model = BagOfWordsClassifier().fit(TEXTS, LABELS)
    model.save(tmp_path / "run")
    weights = tmp_path / "run" / "arrays.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CheckpointError) as info:
        load_estimator(tmp_path / "run")
    assert "\n" not in str(info.value) and "truncated or altered" in str(info.value)
    with pytest.raises(CheckpointError, match="no config.json; not a biomodels run directory"):
        load_estimator(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"format_version": 1, "config": {"kind": "svm"}}')
    with pytest.raises(CheckpointError, match="not a diagnostic model checkpoint \\(model kind 'svm'\\)"):
        load_estimator(tmp_path / "other")


def test_predict_table_columns_for_text_baseline() -> None:
    table = BagOfWordsClassifier().fit(TEXTS, LABELS).predict_table(TEXTS[:2])
    assert list(table.columns) == [
        "row",
        "id",
        "prediction",
        "prob_malaria",
        "prob_psoriasis",
        "prob_uti",
        "error",
    ]
    assert isinstance(table, pd.DataFrame) and table["id"].tolist() == ["0", "1"]


def test_exported_names_exist_and_registry_is_complete() -> None:
    import biomodels.diagnostics as diagnostics
    from biomodels.cli.diagnostics import CLI_MODELS

    assert all(hasattr(diagnostics, name) for name in diagnostics.__all__)
    assert set(CLI_MODELS) <= set(diagnostics.ESTIMATORS.names())
    for name in diagnostics.ESTIMATORS:
        cls = diagnostics.ESTIMATORS.get(name)
        assert cls.name == name and cls.input_kind in ("image", "text", "vector")
        parameters = inspect.signature(cls.__init__).parameters
        defaults = {k: v.default for k, v in parameters.items() if k != "self"}
        assert cls().get_params() == defaults  # constructors store their arguments unchanged
        assert not cls().is_fitted
