"""Scoring bad input: every physical row comes out once, with its reason; nothing odd reaches the
output; an output that is the library is refused; other encodings are read when named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biomodels.cli.main import app
from biomodels.exceptions import InputError
from biomodels.screen import ScreenConfig, screen
from biomodels.screen.scoring import predict_file
from biomodels.train.run import load_run

runner = CliRunner()


def test_in_memory_smiles_with_whitespace_are_error_rows(run_a):
    table = load_run(run_a).predict(["CCO", "c1ccccc1 Cl"])
    assert table["error"].isna()[0] and table["error"][1] == "SMILES contains whitespace"
    assert np.isfinite(table["logp"][0]) and np.isnan(table["logp"][1])


def test_predict_keeps_every_row_and_no_control_character_reaches_the_csv(run_a, tmp_path):
    source = tmp_path / "s.csv"
    source.write_bytes(b'smiles,id\nCCO,a\nc1ccccc1 Cl,c\n"CC\nN",d\n\n   ,e\nC\x00C,f\x01\n')
    out = tmp_path / "o.csv"
    summary = predict_file(run_a, source, out)
    assert (summary.rows, summary.scored) == (6, 1)
    data = out.read_bytes()
    assert not any(byte < 0x20 and byte not in b"\n" for byte in data)
    table = pd.read_csv(out, keep_default_na=False)
    assert table["row"].tolist() == [0, 1, 2, 3, 4, 5]
    assert table["smiles"].tolist()[2:] == ["CC\\nN", "", "   ", "C\\x00C"]
    assert table["id"].tolist()[-1] == "f\\x01"
    assert table["error"].tolist()[1:] == [
        "SMILES contains whitespace",
        "SMILES contains a line break",
        "empty SMILES",
        "empty SMILES",
        "SMILES contains a control character: '\\x00' at position 1",
    ]


def test_predict_reads_the_named_encoding_and_names_the_line_otherwise(run_a, tmp_path):
    source = tmp_path / "l.csv"
    source.write_bytes("smiles,name\nCCO,ethanol\nc1ccccc1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"l\.csv: line 3: byte 0xe9 is not utf-8 text"):
        predict_file(run_a, source, tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()
    result = runner.invoke(app, ["predict", str(run_a), str(source), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "--encoding latin-1" in result.output
    args = ["predict", str(run_a), str(source), "-o", str(tmp_path / "o.csv"), "--encoding", "latin-1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "o.csv")["id"].tolist() == ["ethanol", "caf\xe9"]


def test_screen_reads_the_named_encoding(run_a, tmp_path):
    source = tmp_path / "l.smi"
    source.write_bytes("CCO ethanol\nc1ccccc1 caf\xe9\n".encode("latin-1"))
    config = ScreenConfig(properties=(), workers=1, encoding="latin-1")
    summary = screen([run_a], source, tmp_path / "o.csv", config)
    assert summary.rows == 2
    assert pd.read_csv(tmp_path / "o.csv")["id"].tolist() == ["ethanol", "caf\xe9"]


@pytest.mark.parametrize("name", ["lib.csv", "lib.top.csv"])
def test_screen_refuses_to_write_over_its_library(run_a, tmp_path, name):
    library = tmp_path / name
    library.write_text("smiles\nCCO\n")
    out = library if name == "lib.csv" else tmp_path / "lib.csv"  # lib.top.csv: the top list of lib.csv
    with pytest.raises(InputError, match="is also the library file"):
        screen([run_a], library, out, ScreenConfig(properties=(), workers=1))
    assert library.read_text() == "smiles\nCCO\n"
