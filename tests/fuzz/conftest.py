"""Fixtures of the fuzz suite: tiny saved models (a random-weight D-MPNN, a bag-of-words classifier)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCREEN_CONFTEST = Path(__file__).resolve().parents[1] / "unit" / "screen" / "conftest.py"


def _save_model():
    """:func:`tests/unit/screen/conftest.py:save_model`, loaded by path (tests are no package)."""
    spec = importlib.util.spec_from_file_location("screen_conftest", SCREEN_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.save_model


@pytest.fixture(scope="session")
def molecule_run(tmp_path_factory) -> Path:
    """A one-member D-MPNN with random weights predicting ``logp``, saved as a run directory."""
    return _save_model()(tmp_path_factory.mktemp("fuzz") / "mol", ["logp"], ensemble=1, seed=0)


@pytest.fixture(scope="session")
def text_run(tmp_path_factory) -> Path:
    """A bag-of-words classifier fitted on six texts, saved as a run directory."""
    from biomodels.diagnostics import BagOfWordsClassifier
    from biomodels.io.text import texts_from_list

    texts = ["fever and cough", "cough with chills", "fever chills", "rash on skin", "itchy skin", "red rash"]
    labels = ["flu"] * 3 + ["derm"] * 3
    run = tmp_path_factory.mktemp("fuzz") / "text"
    BagOfWordsClassifier().fit(texts_from_list(texts, labels)).save(run / "model")
    return run
