"""``biomodels export`` and ``--engine onnxruntime`` on ``predict`` and ``screen``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biomodels.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("export")
    esol = pd.read_csv(shared_data / "molnet" / "esol.csv").head(120)
    esol.to_csv(folder / "esol.csv", index=False)
    args = ["train", str(folder / "esol.csv"), "--target", "logp", "--out", str(folder / "run")]
    args += ["--epochs", "1", "--hidden", "16", "--depth", "2", "--ensemble", "2", "--seed", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    library = folder / "library.csv"
    pd.DataFrame({"smiles": [*esol["smiles"][:40], "not a smiles", "C1CC"]}).to_csv(library, index=False)
    return folder / "run", library


def test_export_then_predict_and_screen_with_onnxruntime(tiny_run, tmp_path):
    run, library = tiny_run
    result = runner.invoke(app, ["export", str(run), "--format", "onnx", "-o", str(run / "model.onnx")])
    assert result.exit_code == 0, result.output
    assert "exported dmpnn (fp32)" in result.output and (run / "model.onnx").is_file()
    frames = {}
    for engine in ("torch", "onnxruntime"):
        out = tmp_path / f"{engine}.csv"
        result = runner.invoke(app, ["predict", str(run), str(library), "-o", str(out), "--engine", engine])
        assert result.exit_code == 0, result.output
        assert "predicted 40 of 42 rows" in result.output
        frames[engine] = pd.read_csv(out)
    torch_frame, onnx_frame = frames["torch"], frames["onnxruntime"]
    assert list(onnx_frame.columns) == list(torch_frame.columns)
    assert onnx_frame["error"].isna().tolist() == torch_frame["error"].isna().tolist()
    np.testing.assert_allclose(onnx_frame["logp"], torch_frame["logp"], atol=1e-4)
    np.testing.assert_allclose(onnx_frame["logp_std"], torch_frame["logp_std"], atol=1e-4)
    screened = tmp_path / "screen.csv"
    args = ["screen", str(run), str(library), "-o", str(screened), "--engine", "onnxruntime", "--no-report"]
    result = runner.invoke(app, [*args, "--workers", "1", "--top", "0"])
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(pd.read_csv(screened)["logp"], torch_frame["logp"], atol=1e-4)


def test_engine_and_format_errors_are_one_line(tiny_run, tmp_path):
    run, library = tiny_run
    result = runner.invoke(
        app, ["predict", str(run), str(library), "-o", str(tmp_path / "o.csv"), "--engine", "tpu"]
    )
    assert (
        result.exit_code == 2 and "unknown engine 'tpu'" in result.output and "onnxruntime" in result.output
    )
    result = runner.invoke(app, ["export", str(run), "--format", "tflite"])
    assert result.exit_code == 2 and "unknown format 'tflite'" in result.output
    result = runner.invoke(app, ["export", str(run), "--quantize", "int4", "-o", str(tmp_path / "m.onnx")])
    assert result.exit_code == 2 and "unknown quantisation 'int4'" in result.output
