"""``biomodels dta train|predict``: a tiny run, every ligand x target row, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from biomodels.cli.main import app

pytestmark = pytest.mark.slow
runner = CliRunner()
LIGANDS = {"a": "CCO", "b": "c1ccccc1O", "c": "CC(=O)Nc1ccc(O)cc1", "d": "OC(=O)c1ccccc1"}
PROTEINS = {
    f"K{k}": "".join(np.random.default_rng(k).choice(list("ACDEFGHIKLMNPQRSTVWY"), 30)) for k in range(5)
}
TINY = ["--epochs", "2", "--hidden", "16", "--batch-size", "8", "--ensemble", "1"]


def deepdta(folder, folds=True):
    folder.mkdir()
    (folder / "ligands_can.txt").write_text(json.dumps(LIGANDS))
    (folder / "proteins.txt").write_text(json.dumps(PROTEINS))
    kd = np.random.default_rng(0).choice([1.0, 10.0, 100.0, 10_000.0], size=(4, 5))
    (folder / "kd.txt").write_text("\n".join(" ".join(f"{v:g}" for v in row) for row in kd) + "\n")
    if folds:
        (folder / "folds").mkdir()
        (folder / "folds" / "train_fold_setting1.txt").write_text(
            json.dumps([list(range(8)), list(range(8, 16))])
        )
        (folder / "folds" / "test_fold_setting1.txt").write_text(json.dumps(list(range(16, 20))))
    return folder


def dta_train(data, out, *extra):
    return runner.invoke(app, ["dta", "train", str(data), "--out", str(out), *extra])


def dta_predict(run, ligands, targets, out, *extra):
    args = ["dta", "predict", str(run), "--ligands", str(ligands), "--targets", str(targets), "-o", str(out)]
    return runner.invoke(app, [*args, *extra])


@pytest.fixture(scope="module")
def dta_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("dta")
    out = root / "run"
    result = dta_train(deepdta(root / "data"), out, "--split", "setting1", "--seed", "0", *TINY)
    assert result.exit_code == 0, result.output
    assert "test:" in result.output and '"ci"' in result.output
    return out


def test_predict_scores_every_ligand_against_every_target(dta_run, tmp_path):
    ligands = tmp_path / "five.smi"
    ligands.write_text("CCO one\nc1ccccc1 two\nC1CC bad\nCCN four\nCC(C)O five\n")
    targets = tmp_path / "targets.fasta"
    targets.write_text(">good1\nMKKLLPTAAAGLLLL\n>digits\nMKK12LLPT\n>good2\nMSTNPKPQRKTKRN\n")
    out = tmp_path / "out.parquet"
    result = dta_predict(dta_run, ligands, targets, out, "--chunk-size", "6")  # 2 ligands a chunk
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert len(frame) == 5 * 3 and list(frame.columns[:2]) == ["ligand_row", "ligand_id"]
    assert frame["ligand_id"].tolist() == [n for n in ("one", "two", "bad", "four", "five") for _ in range(3)]
    bad_ligand = frame["ligand_id"] == "bad"
    assert frame.loc[bad_ligand, "error"].str.startswith("ligand:").all()
    digits = (frame["target_id"] == "digits") & ~bad_ligand
    assert frame.loc[digits, "error"].str.contains("'1' at position 3").all()
    scored = ~bad_ligand & (frame["target_id"] != "digits")
    assert frame.loc[scored, "error"].isna().all() and frame.loc[scored, "affinity"].notna().all()
    assert frame.loc[~scored, "affinity"].isna().all()
    printed = " ".join(result.output.split())
    assert "= 15 rows" in printed and "7 without a value: target (4), ligand (3)" in printed


def test_predict_genbank_cds_become_targets(dta_run, tmp_path, shared_data):
    ligands = tmp_path / "two.smi"
    ligands.write_text("CCO\nc1ccccc1O\n")
    out = tmp_path / "gb.csv"
    gb = shared_data / "genomics" / "NC_005816.gb"
    result = dta_predict(dta_run, ligands, gb, out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 2 * 10 and frame["target_id"][0] == "NC_005816.1:YP_pPCP01"
    assert (frame["target_source"] == "NC_005816.1").all() and frame["affinity"].notna().all()


def test_bad_inputs_are_one_line_errors(dta_run, tmp_path):
    data = deepdta(tmp_path / "nofolds", folds=False)
    result = dta_train(data, tmp_path / "r", *TINY)
    assert result.exit_code == 2 and "train_fold_setting1.txt: not found" in " ".join(result.output.split())
    (data / "proteins.txt").write_text(json.dumps(dict(list(PROTEINS.items())[:3])))
    result = dta_train(data, tmp_path / "r", "--split", "random")
    assert result.exit_code == 2 and "kd.txt: the matrix is 4 x 5" in " ".join(result.output.split())
    empty = tmp_path / "empty.fasta"
    empty.write_text("")
    ligands = tmp_path / "one.smi"
    ligands.write_text("CCO\n")
    result = dta_predict(dta_run, ligands, empty, tmp_path / "x.parquet")
    assert result.exit_code == 2 and "empty.fasta: empty file" in " ".join(result.output.split())
