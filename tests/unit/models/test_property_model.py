"""PropertyModel and ModelConfig: JSON round trip, validation, output shapes, postprocess."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rdkit import Chem

import biomodels.models
import biomodels.nn
from biomodels.data.graphs import collate_graphs
from biomodels.exceptions import UnknownNameError
from biomodels.featurize.graph import featurize_graphs
from biomodels.models import ModelConfig, PropertyModel

SMILES = ["CCO", "c1ccccc1O", "C", "CC(=O)NC"]


def _batch(extra: np.ndarray | None = None):
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    return collate_graphs(featurize_graphs(mols), range(len(mols)), extra_features=extra)


def _model(**options) -> PropertyModel:
    torch.manual_seed(0)
    return PropertyModel(ModelConfig(hidden=16, ffn_hidden=16, **options))


@pytest.mark.parametrize("module", [biomodels.nn, biomodels.models])
def test_exported_names_exist(module):
    assert all(hasattr(module, name) for name in module.__all__)


def test_config_json_round_trip():
    config = ModelConfig(
        encoder="gat", encoder_options={"heads": 2}, task="multiclass", n_classes=3, n_tasks=2, extra_dim=5
    )
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError, match="hiden"):
        ModelConfig.from_dict({"hiden": 3})


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"encoder": "transformer"}, UnknownNameError, "dmpnn"),
        ({"readout": "median"}, UnknownNameError, "attention"),
        ({"task": "ranking"}, ValueError, "regression"),
        ({"task": "multiclass"}, ValueError, "n_classes"),
        ({"task": "binary", "n_classes": 2}, ValueError, "n_classes"),
        ({"task": "binary", "head": "mve"}, ValueError, "mve"),
    ],
)
def test_config_validation(options, error, match):
    with pytest.raises(error, match=match):
        ModelConfig(**options)


@pytest.mark.parametrize(
    ("options", "shape", "has_variance"),
    [
        ({"n_tasks": 2}, (4, 2), False),
        ({"n_tasks": 2, "head": "mve"}, (4, 2, 2), True),
        ({"n_tasks": 3, "task": "binary"}, (4, 3), False),
        ({"n_tasks": 2, "task": "multiclass", "n_classes": 4}, (4, 2, 4), False),
    ],
)
def test_outputs_and_postprocess(options, shape, has_variance):
    model = _model(**options)
    outputs = model(_batch())
    assert outputs.shape == shape
    prediction, variance = model.postprocess(outputs)
    assert (variance is not None) == has_variance
    if has_variance:
        assert prediction.shape == variance.shape == shape[:2] and (variance > 0).all()
    if options.get("task") == "binary":
        assert ((prediction > 0) & (prediction < 1)).all()
    if options.get("task") == "multiclass":
        torch.testing.assert_close(prediction.sum(-1), torch.ones(shape[:2]))


def test_extra_features_are_used():
    extra = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    model = _model(extra_dim=3).eval()
    assert model.embed(_batch(extra)).shape == (4, 16 + 3)
    changed = model(_batch(extra + 1.0))
    assert not torch.allclose(model(_batch(extra)), changed)
    with pytest.raises(ValueError, match="features of width 3"):
        model(_batch())


def test_graph_level_encoder_skips_readout():
    model = _model(encoder="attentivefp", batch_norm=True)
    assert model.readout is None
    assert model(_batch()).shape == (4, 1)
