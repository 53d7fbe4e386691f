"""``biomodels screen``: a full run, and one-line errors for bad run directories and arguments."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from biomodels.cli.main import app

runner = CliRunner()


def test_screen_command_writes_output_top_and_report(run_a, run_b, library, tmp_path):
    out = tmp_path / "hits.parquet"
    result = runner.invoke(
        app,
        [
            "screen",
            str(run_a),
            str(run_b),
            str(library),
            "-o",
            str(out),
            "--filters",
            "lipinski",
            "--rank-by",
            "a:logp,b:potency",
            "--weights",
            "1,-1",
            "--top",
            "5",
            "--diverse",
            "3",
            "--chunk-size",
            "64",
            "--workers",
            "1",
            "--properties",
            "mw,qed",
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "screened 300 rows" in result.output and "296 scored" in result.output
    assert "pass_lipinski:" in result.output
    frame = pd.read_parquet(out)
    assert frame["row"].tolist() == list(range(300)) and {"mw", "qed", "a:logp", "b:potency"} <= set(frame)
    assert len(pd.read_csv(tmp_path / "hits.top.csv")) == 5
    assert not (tmp_path / "hits.report.html").exists()


def test_screen_command_draws_the_report_after_screening(run_a, library, tmp_path):
    out = tmp_path / "hits.csv"
    args = ["screen", str(run_a), str(library), "-o", str(out), "--top", "4", "--workers", "1"]
    result = runner.invoke(app, [*args, "--properties", "mw", "--filters", "pains"])
    assert result.exit_code == 0, result.output
    report = tmp_path / "hits.report.html"
    assert f"report -> {report}\n" in result.output
    html = report.read_text()
    assert html.count("<svg") == 2  # the top grid, and the top beside their nearest training compounds
    assert html.count('<img src="data:image/png;base64,') == 4  # nn_similarity, logp, logp_std, mw
    assert "&quot;properties&quot;: [" in html and str(library) in html  # the run's settings
    for mol_id in pd.read_csv(tmp_path / "hits.top.csv")["id"].astype(str):
        assert f"<td>{mol_id}</td>" in html


def test_screen_ranks_in_domain_rows_unless_told_and_sanity_filters_by_default(run_a, library, tmp_path):
    out = tmp_path / "hits.csv"
    args = ["screen", str(run_a), str(library), "-o", str(out), "--top", "30", "--workers", "1"]
    result = runner.invoke(app, [*args, "--properties", "none", "--min-similarity", "0.35", "--no-report"])
    assert result.exit_code == 0, result.output
    frame, top = pd.read_csv(out), pd.read_csv(tmp_path / "hits.top.csv")
    inside = frame["in_domain"].fillna(False).astype(bool)
    assert f"in domain (nn_similarity >= 0.35): {int(inside.sum())} of 296 scored rows" in result.output
    assert 0 < len(top) <= inside.sum() and (top["nn_similarity"] >= 0.35).all() and top["in_domain"].all()
    assert {"pass_organic", "pass_fragments<=1", "pass_heavy_atoms>=8", "pass_heavy_atoms<=70"} <= set(frame)
    assert top["passes_all"].all() and not frame["passes_all"].all()  # NCI has metals, mixtures, tiny ones
    result = runner.invoke(app, [*args, "--properties", "none", "--include-out-of-domain", "--no-report"])
    assert result.exit_code == 0, result.output
    everything = pd.read_csv(tmp_path / "hits.top.csv")
    assert len(everything) == 30 and not everything["in_domain"].all()
    result = runner.invoke(app, [*args, "--no-domain", "--sanity", "none", "--no-report"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert "nn_similarity" not in frame and "pass_organic" not in frame and "in domain" not in result.output


@pytest.mark.parametrize("damage", ["missing", "no_model", "corrupt_weights"])
def test_bad_run_directory_is_one_line_error(run_a, library, tmp_path, damage):
    run = tmp_path / "run"
    if damage != "missing":
        shutil.copytree(run_a, run)
    if damage == "no_model":
        shutil.rmtree(run / "model")
    elif damage == "corrupt_weights":
        weights = next((run / "model").rglob("*.safetensors"))
        weights.write_bytes(weights.read_bytes()[:100])
    result = runner.invoke(app, ["screen", str(run), str(library), "-o", str(tmp_path / "o.parquet")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error") and str(run) in " ".join(result.output.split())
    assert not (tmp_path / "o.parquet.parts").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "at least one run directory and then the library"),
        (["--acquisition", "ei"], "unknown acquisition 'ei'"),
        (["--rank-by", "nope"], "cannot rank by nope"),
        (["--filters", "pains,,qed"], "bad filter term"),
    ],
)
def test_bad_arguments_are_one_line_errors(run_a, library, tmp_path, args, message):
    paths = [str(library)] if not args else [str(run_a), str(library)]
    result = runner.invoke(app, ["screen", *paths, "-o", str(tmp_path / "o.parquet"), *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
