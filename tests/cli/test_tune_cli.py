"""biomodels tune's command line: settings refused in one line before anything trains."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from biomodels.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--trials", "0"], "--trials must be at least 1"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--model", "rf"], "tune searches GNN models"),
        (["--model", "nope"], "unknown model 'nope'"),
        (["--timeout", "0"], "--timeout must be a number of seconds > 0"),
    ],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, options, message):
    data = tmp_path / "d.csv"
    data.write_text("smiles,y\nCCO,1\n")
    result = runner.invoke(app, ["tune", str(data), "--target", "y", "--out", str(tmp_path / "t"), *options])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "t").exists()  # refused before the folder is made
