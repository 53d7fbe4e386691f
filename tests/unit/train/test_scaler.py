"""Feature and target standardisation of the predictors."""

import json

import numpy as np

from biomodels.train.property import Scaler


def test_bounded_scaler_clips_to_the_training_range():
    train = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, np.nan]])
    scaler = Scaler.fit(train, bounded=True)
    seen = scaler.transform(train)
    far = scaler.transform(np.array([[1e13, -5.0]]))
    assert far[0, 0] == seen[:, 0].max()  # an Ipc-sized value stays at the training maximum
    assert far[0, 1] == 0.0  # a constant column keeps scale 1 and its single value
    restored = Scaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(restored.transform(np.array([[1e13, -5.0]])), far)


def test_unbounded_scaler_is_a_plain_standardisation():
    values = np.array([[0.0], [2.0]])
    scaler = Scaler.fit(values)
    assert "low" not in scaler.to_dict()
    np.testing.assert_allclose(scaler.transform(np.array([[102.0]])), [[101.0]])
