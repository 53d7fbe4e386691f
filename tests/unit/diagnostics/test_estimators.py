"""Every registered diagnostic model: memorises a tiny set through its production ``fit``, saves
and loads to the same predictions, keeps bad rows in order, and refuses corrupt model folders."""

from __future__ import annotations

import copy
import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from biomodels.diagnostics import (
    BagOfWordsClassifier,
    CNNClassifier,
    ConditionalGANEstimator,
    ImageAutoencoder,
    PixelClassifier,
    RidgeRegressor,
    TransformerClassifier,
)
from biomodels.exceptions import CheckpointError, ColumnNotFoundError
from biomodels.io.images import ImageSet, images_from_arrays, read_npz_images
from biomodels.io.text import TextSet, texts_from_list
from biomodels.io.vectors import VectorSet
from biomodels.registry import MODELS
from biomodels.train.estimator import Estimator, make_model
from biomodels.train.run import TrainRunConfig

CPU = {"device": "cpu"}
SMALL_CNN = dict(channels=(16, 32), dropout=0.0, epochs=60, lr=3e-3, augment=False, batch_size=4)
TEXTS = [
    "itchy red rash on my arms and skin peeling",
    "dry scaly skin patches that itch and crack",
    "silvery plaques on elbows and knees that flake",
    "high fever with chills and sweating every evening",
    "fever chills headache and body aches after mosquito bites",
    "shaking chills then fever that comes back every two days",
    "burning pain when I urinate and cloudy urine",
    "frequent urination with burning and lower belly pain",
    "strong smelling urine and pressure in the bladder",
]
LABELS = ["psoriasis"] * 3 + ["malaria"] * 3 + ["uti"] * 3
DIAGNOSTIC = sorted(
    n for n in MODELS.names() if MODELS.info(n)["input"] not in ("molecule", "pair", "surrogate", "smiles")
)
# Small settings under which each model memorises its tiny set in a few seconds on one CPU thread.
SETTINGS: dict[str, dict[str, Any]] = {
    "cnn": dict(**SMALL_CNN, **CPU),
    "resnet18": dict(width=4, epochs=25, lr=1e-2, augment=False, batch_size=4, **CPU),
    "pixel-logreg": dict(C=10.0),
    "autoencoder": dict(latent_dim=8, channels=(8, 16), epochs=30, lr=1e-2, batch_size=16, **CPU),
    "gan": dict(
        z_dim=8, g_channels=16, d_channels=8, epochs=20, batch_size=4, lr=2e-3, eval_samples=20,
        judge_params=SMALL_CNN, **CPU,
    ),
    "rnn": dict(embed_dim=16, hidden=16, epochs=40, lr=1e-2, token_dropout=0.0, dropout=0.0, **CPU),
    "transformer": dict(
        d_model=16, heads=2, layers=1, ff_dim=32, epochs=40, lr=5e-3, token_dropout=0.0, dropout=0.0, **CPU
    ),
    "bow-logreg": dict(C=10.0),
    "ridge": dict(alpha=0.0),
    "dense-autoencoder": dict(hidden=(32,), latent_dim=3, epochs=60, lr=1e-2, batch_size=16, **CPU),
}  # fmt: skip


@pytest.fixture(scope="module")
def train_images(tiny_npz: Path) -> ImageSet:
    """16 training images, 8 of each class."""
    images = read_npz_images(tiny_npz, "train", ["normal", "pneumonia"])
    return images.subset(np.r_[0:8, 32:40])


def _dark_and_normal(images: ImageSet) -> ImageSet:
    """The normal images labelled ``normal`` and darkened copies labelled ``dark``."""
    normal = images.images[images.labels == 0]
    stacked = np.concatenate([normal, np.clip(normal * 0.2, 0, 1)])
    return images_from_arrays(
        list(stacked), labels=np.repeat([0, 1], len(normal)), classes=["normal", "dark"]
    )


def _vectors() -> VectorSet:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)) @ rng.normal(size=(3, 12))  # rank 3 in 12 dimensions
    return VectorSet(x, targets=x @ np.linspace(-1, 1, 12) + 0.25, labels=["ok"] * 16)


def _data(name: str, images: ImageSet) -> Any:
    kind = MODELS.info(name)["input"]
    if name == "autoencoder":
        return _dark_and_normal(images)
    if kind == "image":
        return images
    if kind == "text":
        return texts_from_list(TEXTS, LABELS)
    return _vectors()


@pytest.fixture(scope="module")
def fitted(train_images: ImageSet) -> dict[str, tuple[Estimator, Any]]:
    """Each model, fitted once on its tiny set (shared by the memorisation and round-trip tests)."""
    cache: dict[str, tuple[Estimator, Any]] = {}

    def get(name: str) -> tuple[Estimator, Any]:
        if name not in cache:
            data = _data(name, train_images)
            before = copy.deepcopy(data)
            model = make_model(name, **SETTINGS[name]).fit(data)
            _assert_same_set(data, before)  # fit never mutates its argument
            cache[name] = model, data
        return cache[name]

    return get  # type: ignore[return-value]


def _assert_same_set(a: Any, b: Any) -> None:
    for field in vars(b):
        x, y = getattr(a, field), getattr(b, field)
        if isinstance(y, np.ndarray):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y, field


def test_every_diagnostic_model_has_settings() -> None:
    assert set(SETTINGS) == set(DIAGNOSTIC)


@pytest.mark.parametrize("name", DIAGNOSTIC)
def test_model_memorises_tiny_set(name: str, fitted) -> None:
    model, data = fitted(name)
    assert model.is_fitted and model.name == name
    if MODELS.info(name)["input"] in ("image", "text") and name not in ("gan", "autoencoder"):
        assert model.evaluate(data)["accuracy"] == 1.0
        table = model.predict(data)
        assert (table["prediction"] == table["label"]).all()
    elif name == "gan":
        real = model.predict(data)["realness"].mean()
        fake = model.predict(model.sample(16, "normal", seed=1))["realness"].mean()
        assert real > fake + 0.5  # the discriminator tells its training images from generated ones
        assert model.judge_.evaluate(data)["accuracy"] == 1.0
        assert model.history_.val_metrics[-1]["d_real"] > model.history_.val_metrics[-1]["d_fake"]
    elif name == "ridge":
        np.testing.assert_allclose(model.predict(data)["y"], data.targets[:, 0], atol=1e-8)
        assert model.evaluate(data)["mean"]["r2"] == pytest.approx(1.0)
    else:  # autoencoders: the normal rows are reconstructed much better than at the start
        losses = model.history_.train_loss
        assert losses[-1] < 0.5 * losses[0]
    if name == "autoencoder":
        assert model.normal_ == "normal"
        metrics = model.evaluate(data)
        assert metrics["anomaly_roc_auc"] == 1.0 and metrics["reconstruction_mse_normal"] < 0.5
    if name == "dense-autoencoder":
        noise = np.random.default_rng(1).normal(size=(16, 12)) * data.X.std()
        assert np.median(model.anomaly_score(noise)) > 5 * np.median(model.anomaly_score(data.X))


@pytest.mark.parametrize("name", DIAGNOSTIC)
def test_save_load_round_trip_gives_the_same_predictions(name: str, fitted, tmp_path: Path) -> None:
    model, data = fitted(name)
    model.save(tmp_path / "model")
    loaded = Estimator.load(tmp_path / "model")
    assert (
        type(loaded) is type(model)
        and loaded.get_params() == json.loads((tmp_path / "model" / "model.json").read_text())["params"]
    )
    pd.testing.assert_frame_equal(loaded.predict(data), model.predict(data))
    assert loaded.history() == []  # histories belong to the run, not the model


def test_gan_samples_and_saves_its_probe_grids(fitted, tmp_path: Path) -> None:
    gan, _ = fitted("gan")
    images = gan.sample(5, "pneumonia", seed=3)
    assert images.shape == (5, 28, 28) and images.min() >= 0 and images.max() <= 1
    gan.save(tmp_path / "gan")
    grids = sorted(p.name for p in (tmp_path / "gan" / "samples").iterdir())
    assert grids == [f"epoch_{e:03d}.png" for e in range(1, 21)]
    assert (tmp_path / "gan" / "samples.png").read_bytes()[:4] == b"\x89PNG"
    loaded = Estimator.load(tmp_path / "gan")
    np.testing.assert_array_equal(loaded.sample(5, 1, seed=3), images)
    assert loaded.evaluate(loaded.sample(8, 0, seed=9))["n_generated"] == 40
    with pytest.raises(ValueError, match="unknown class 'flu'; the model's classes are: normal, pneumonia"):
        gan.sample(1, "flu")
    grid = tmp_path / "gan" / "samples" / "epoch_003.png"
    grid.write_bytes(grid.read_bytes()[:-8])  # the sample grids are checksummed like the weights
    with pytest.raises(CheckpointError, match=r"epoch_003\.png: file is corrupt or altered"):
        Estimator.load(tmp_path / "gan")


def test_gan_takes_a_saved_judge(fitted, train_images: ImageSet, tmp_path: Path) -> None:
    cnn, _ = fitted("cnn")
    cnn.save(tmp_path / "run" / "model")  # a run directory's model folder
    small = dict(z_dim=8, g_channels=16, d_channels=8, epochs=1, eval_samples=4, **CPU)
    gan = ConditionalGANEstimator(judge=str(tmp_path / "run"), **small).fit(train_images)
    pd.testing.assert_frame_equal(gan.judge_.predict(train_images), cnn.predict(train_images))
    assert len(gan.history()) == 1  # a given judge brings no training history
    PixelClassifier().fit(train_images).save(tmp_path / "px")
    with pytest.raises(ValueError, match="must be a neural image classifier"):
        ConditionalGANEstimator(judge=str(tmp_path / "px"), **small).fit(train_images)
    renamed = images_from_arrays(list(train_images.images), labels=train_images.labels, classes=["a", "b"])
    with pytest.raises(ValueError, match=r"the judge's classes \['normal', 'pneumonia'\] differ"):
        ConditionalGANEstimator(judge=str(tmp_path / "run"), **small).fit(renamed)


def test_image_predict_keeps_bad_rows_in_order(train_images: ImageSet) -> None:
    model = CNNClassifier(channels=(8,), epochs=1, **CPU).fit(train_images)
    x = train_images.images
    rows = [x[0], np.zeros((27, 28)), None, np.full((28, 28), np.nan), x[1]]
    table = model.predict(rows)
    assert table["row"].tolist() == [0, 1, 2, 3, 4] and "label" not in table
    assert table["error"].tolist()[1:4] == [
        "image is 27x28, expected 28x28",
        "no image",
        "image has non-finite pixel values",
    ]
    assert table["error"][0] is None and table["error"][4] is None
    assert table["prediction"].notna().tolist() == [True, False, False, False, True]
    assert np.isnan(table.loc[1:3, ["prob_normal", "prob_pneumonia"]].to_numpy()).all()
    assert np.allclose(table.loc[[0, 4], ["prob_normal", "prob_pneumonia"]].sum(1), 1)
    labelled = images_from_arrays([x[0], x[1]], labels=[0, 1], classes=["normal", "flu"])
    table = model.predict(labelled)
    assert table["label"].tolist() == ["normal", "flu"]
    assert table["error"].tolist() == [
        None,
        "label 'flu' is not one of the model's classes (normal, pneumonia)",
    ]


def test_text_predict_explains_and_keeps_bad_rows(fitted) -> None:
    model, _ = fitted("rnn")
    rows = [TEXTS[0], "", float("nan"), "!!!", 42, TEXTS[6]]
    table = model.predict(rows, top_tokens=2)
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
    frame = model.predict(pd.DataFrame({"text": TEXTS[:2], "label": ["psoriasis", "flu"]}))
    assert frame["label"].tolist() == ["psoriasis", "flu"] and frame["error"][1].startswith("label 'flu'")
    weights = model.attention([TEXTS[3], None])
    assert weights[1] is None and [t for t, _ in weights[0]] == TEXTS[3].split()
    assert sum(w for _, w in weights[0]) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(TypeError, match="takes no option 'top_k'"):
        model.predict(TEXTS, top_k=2)


def test_transformer_attention_maps_per_text() -> None:
    model = TransformerClassifier(d_model=16, heads=2, layers=2, ff_dim=32, epochs=1, **CPU)
    maps = model.fit(texts_from_list(TEXTS, LABELS)).attention_maps(TEXTS[:2])
    assert [m.shape for m in maps[0]] == [(2, 9, 9), (2, 9, 9)]
    assert maps[1][0].shape == (2, 8, 8)
    np.testing.assert_allclose(maps[1][1].sum(-1), 1, rtol=1e-5)


def test_bag_of_words_matches_sklearn_after_reload(tmp_path: Path) -> None:
    for tfidf in (False, True):
        model = BagOfWordsClassifier(tfidf=tfidf).fit(texts_from_list(TEXTS, LABELS))
        assert model.classes_ == ["malaria", "psoriasis", "uti"]
        expected = model.model_.predict_proba(model.vectorizer_.transform(TEXTS))
        model.save(tmp_path / f"bow{tfidf}")
        loaded = Estimator.load(tmp_path / f"bow{tfidf}")
        np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, rtol=1e-12)
        assert list(loaded.predict(TEXTS[:2]).columns) == [
            "row", "id", "prediction", "prob_malaria", "prob_psoriasis", "prob_uti", "oov_fraction", "error",
        ]  # fmt: skip


def test_pixel_forest_is_not_saved(train_images: ImageSet, tmp_path: Path) -> None:
    forest = PixelClassifier(model="random_forest", n_estimators=20).fit(train_images)
    assert forest.evaluate(train_images)["accuracy"] == 1.0
    with pytest.raises(NotImplementedError, match="random-forest pixel baseline is not saved"):
        forest.save(tmp_path / "rf")


def test_vector_models_read_tables_by_feature_name(fitted, tmp_path: Path) -> None:
    ridge, data = fitted("ridge")
    frame = pd.DataFrame(data.X[:3], columns=data.feature_names).iloc[:, ::-1]  # columns reordered
    frame["y"] = data.targets[:3, 0]
    frame.to_csv(tmp_path / "v.csv", index=False)
    table = ridge.predict(tmp_path / "v.csv")
    np.testing.assert_allclose(table["y"], data.targets[:3, 0], atol=1e-8)
    assert list(table.columns) == ["row", "id", "y_true", "y", "error"]
    assert ridge.predict([data.X[0], data.X[0][:3]])["error"].tolist() == [
        None,
        "vector has 3 values, expected 12",
    ]
    with pytest.raises(ColumnNotFoundError, match="column 'x0' not found"):
        ridge.predict(frame.drop(columns="x0"))


def test_fit_refuses_unusable_training_rows(train_images: ImageSet) -> None:
    bad = ImageSet(
        train_images.images, train_images.ids, train_images.labels, train_images.classes,
        ["unreadable image (x)"] + train_images.errors[1:],
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"training rows \[0\] are unusable \(row 0: unreadable image"):
        CNNClassifier(epochs=1).fit(bad)
    with pytest.raises(ValueError, match="must be a labelled TextSet"):
        BagOfWordsClassifier().fit(TextSet(TEXTS, [str(i) for i in range(9)], None, [None] * 9))
    with pytest.raises(ValueError, match="normal class 'pneumonia'"):
        ImageAutoencoder(normal_class="pneumonia", epochs=1).fit(_dark_and_normal(train_images))
    with pytest.raises(ValueError, match="needs targets"):
        RidgeRegressor().fit(VectorSet(np.ones((3, 2))))


def test_corrupt_model_folder_is_a_one_line_error(fitted, tmp_path: Path) -> None:
    model, _ = fitted("cnn")
    folder = model.save(tmp_path / "model")
    weights = folder / "member_0" / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        Estimator.load(folder)
    assert "\n" not in str(info.value) and "corrupt or altered" in str(info.value)
    assert str(weights) in str(info.value)
    bow = BagOfWordsClassifier().fit(texts_from_list(TEXTS, LABELS)).save(tmp_path / "bow")
    arrays = bow / "arrays.safetensors"
    arrays.write_bytes(arrays.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="corrupt or altered"):
        Estimator.load(bow)
    meta = json.loads((folder / "model.json").read_text())
    meta["state"]["mean"] = 0.0
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="altered after it was saved"):
        Estimator.load(folder)
    with pytest.raises(CheckpointError, match="no model.json; not a biomodels model folder"):
        Estimator.load(tmp_path / "missing")


def test_missing_text_column_is_a_one_line_error_listing_the_columns(tiny_texts: Path) -> None:
    config = TrainRunConfig(data=str(tiny_texts), model="rnn", text_col="symptoms", split="stratified")
    with pytest.raises(ColumnNotFoundError) as info:
        make_model("rnn").training_data(config)
    message = str(info.value)
    assert "\n" not in message
    assert message == f"{tiny_texts}: column 'symptoms' not found; columns are: index, label, text"


def test_training_data_splits_and_counts(tiny_npz: Path, tiny_texts: Path) -> None:
    data = CNNClassifier.training_data(
        TrainRunConfig(data=str(tiny_npz), model="cnn", class_names=["n", "p"])
    )
    assert [len(p) for p in data.partitions().values()] == [64, 16, 24]
    assert data.split["method"] == "predefined" and data.split["test"][0] == "test_0"
    assert data.train.classes == ["n", "p"] and data.summary["skipped"] == {"train": 0, "val": 0, "test": 0}
    config = TrainRunConfig(
        data=str(tiny_texts), model="rnn", split="stratified", sizes=(0.7, 0.1, 0.2), seed=1
    )
    texts = make_model("rnn").training_data(config)
    assert [len(p) for p in texts.partitions().values()] == [28, 4, 8]
    assert texts.split["method"] == "stratified" and texts.summary["classes"] == sorted(
        set(texts.train.labels)
    )
    with pytest.raises(Exception, match="scaffold split does not apply"):
        make_model("rnn").training_data(TrainRunConfig(data=str(tiny_texts), model="rnn", split="scaffold"))
    with pytest.raises(Exception, match="trains on images"):
        CNNClassifier.training_data(TrainRunConfig(data=str(tiny_texts), model="cnn"))


def test_registry_entries_and_constructors() -> None:
    import biomodels.diagnostics as diagnostics

    assert all(hasattr(diagnostics, name) for name in diagnostics.__all__)
    for name in DIAGNOSTIC:
        cls = MODELS.get(name)
        assert issubclass(cls, Estimator) and cls.input_kind == MODELS.info(name)["input"]
        parameters = inspect.signature(cls.__init__).parameters
        defaults = {k: v.default for k, v in parameters.items() if k != "self"}
        assert cls().get_params() == defaults  # constructors store their arguments unchanged
        assert not cls().is_fitted and cls().name == name


@pytest.mark.parametrize("name", ["rnn", "transformer", "bow-logreg"])
def test_text_predict_flags_out_of_vocabulary_rows(fitted, name, tmp_path, caplog) -> None:
    model, _ = fitted(name)
    rows = [TEXTS[0], "quantum lattice chromodynamics gluon fever", ""]
    with caplog.at_level("WARNING", logger="biomodels"):
        table = model.predict(rows)
    assert table["oov_fraction"].dtype == np.float64
    assert table["oov_fraction"].tolist()[:2] == [0.0, pytest.approx(0.8)]
    assert np.isnan(table["oov_fraction"][2]) and table["error"][2] == "empty text"
    assert "1 of 2 texts have mostly out-of-vocabulary tokens (rows 1)" in caplog.text
    model.save(tmp_path / "model")
    loaded = Estimator.load(tmp_path / "model").predict(rows)
    assert loaded["oov_fraction"].tolist()[:2] == table["oov_fraction"].tolist()[:2]
