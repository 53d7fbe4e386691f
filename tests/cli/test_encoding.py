"""``--encoding`` on the verbs that read text files: without it a one-line error naming the line."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from biomodels.cli.main import app

runner = CliRunner()
ADVICE = "pass the file's encoding, e.g. --encoding latin-1"


def test_featurize_reads_the_named_encoding(tmp_path):
    source = tmp_path / "l.smi"
    source.write_bytes("CCO ethanol\nc1ccccc1 caf\xe9\n".encode("latin-1"))
    args = ["featurize", str(source), "-o", str(tmp_path / "f.parquet"), "-f", "morgan", "--workers", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and f"line 2: byte 0xe9 is not utf-8 text; {ADVICE}" in result.output
    result = runner.invoke(app, [*args, "--encoding", "latin-1"])
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(tmp_path / "f.parquet")["id"].tolist() == ["ethanol", "caf\xe9"]


def test_diagnostics_predict_reads_the_named_encoding(tmp_path):
    from biomodels.diagnostics import BagOfWordsClassifier
    from biomodels.io.text import texts_from_list

    texts = ["fever and cough", "cough with chills", "rash on skin", "itchy skin"]
    run = tmp_path / "run"
    BagOfWordsClassifier().fit(texts_from_list(texts, ["flu", "flu", "derm", "derm"])).save(run / "model")
    source = tmp_path / "q.csv"
    source.write_bytes("text\ncaf\xe9 fever\n\nitchy rash\n".encode("latin-1"))
    args = ["diagnostics", "predict", str(run), str(source), "-o", str(tmp_path / "o.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and f"q.csv: line 2: byte 0xe9 is not utf-8 text; {ADVICE}" in result.output
    result = runner.invoke(app, [*args, "--encoding", "latin-1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "o.csv")
    assert table["row"].tolist() == [0, 1, 2] and table["error"][1] == "empty text"
    assert table["oov_fraction"].tolist()[::2] == [0.5, 0.0]
