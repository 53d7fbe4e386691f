"""Run directories: atomic JSON/CSV, log capture, environment record."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest

from biomodels.train.rundir import RunDirectory
from biomodels.train.trainer import TrainHistory
from biomodels.utils import atomic_path


def test_write_json_is_strict_and_converts_numpy_and_dataclasses(tmp_path):
    run = RunDirectory(tmp_path / "a" / "b")
    history = TrainHistory(train_loss=[1.0], val_loss=[math.nan])
    path = run.write_json(
        "metrics.json", {"x": np.float32(1.5), "v": np.arange(2), "nan": math.nan, "h": history, "t": (1, 2)}
    )
    data = json.loads(path.read_text())
    assert data["x"] == 1.5 and data["v"] == [0, 1] and data["nan"] is None and data["t"] == [1, 2]
    assert data["h"]["val_loss"] == [None]
    assert run.read_json("metrics.json") == data


def test_write_table_and_failed_writes_leave_no_trace(tmp_path):
    run = RunDirectory(tmp_path)
    run.write_table("preds.csv", pd.DataFrame({"row": [0, 1], "pred": [0.5, 1.5]}))
    assert pd.read_csv(tmp_path / "preds.csv").to_dict("list") == {"row": [0, 1], "pred": [0.5, 1.5]}
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "preds.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds.csv"]
    assert (tmp_path / "preds.csv").read_text().startswith("row,pred")


def test_log_to_captures_biomodels_info_lines_only_inside_the_block(tmp_path):
    run = RunDirectory(tmp_path)
    logger = logging.getLogger("biomodels.train.test")
    before = logging.getLogger("biomodels").level
    with run.log_to():
        logger.info("inside %d", 1)
        logging.getLogger("elsewhere").warning("not ours")
    logger.info("after")
    text = (tmp_path / "run.log").read_text()
    assert "INFO biomodels.train.test: inside 1" in text
    assert "not ours" not in text and "after" not in text
    assert logging.getLogger("biomodels").level == before


def test_record_environment(tmp_path):
    info = RunDirectory(tmp_path).record_environment()
    saved = json.loads((tmp_path / "environment.json").read_text())
    assert saved == info
    assert {"python", "packages", "platform", "cpu_count", "cuda"} <= info.keys()
    assert info["packages"]["torch"] and info["packages"]["numpy"]
    assert "available" in info["cuda"]
