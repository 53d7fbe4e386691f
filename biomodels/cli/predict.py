"""``biomodels predict``: score every row of a molecule file with a trained run."""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli import common
from biomodels.cli.common import ENCODING_HELP, ENGINE_HELP, console, counting_progress, friendly_errors


@friendly_errors
def predict(
    run_dir: Path = typer.Argument(..., help="Run directory of a model that reads molecules or text."),
    input: Path = typer.Argument(
        ..., help="Molecules (.smi, .csv(.gz), .tsv, .parquet, .sdf(.gz)) or a text table."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output .csv or .parquet."),
    smiles_col: str = typer.Option(None, help="SMILES column (detected when omitted)."),
    id_col: str = typer.Option(None, help="Id column (detected when omitted)."),
    encoding: str = typer.Option("utf-8", help=ENCODING_HELP),
    chunk_size: int = typer.Option(5000),
    workers: int = typer.Option(1, help="Parallel workers, threads of this process (0 = all cores)."),
    engine: str = typer.Option("torch", help=ENGINE_HELP),
    seed: int = typer.Option(0, help="Recorded for reproducibility; prediction is deterministic."),
    min_similarity: float = typer.Option(None, help=common.MIN_SIMILARITY_HELP),
    no_domain: bool = typer.Option(False, "--no-domain", help=common.NO_DOMAIN_HELP),
) -> None:
    """Every input row comes out in order, with predictions, uncertainty, the applicability
    domain (nn_similarity, nn_id, in_domain) and an error column."""
    from biomodels.screen.scoring import DomainOptions, predict_file

    options = {"encoding": encoding, "engine": engine, "domain": DomainOptions(not no_domain, min_similarity)}

    with counting_progress(f"predict {input.name}", "mol") as advance:
        summary = predict_file(
            run_dir, input, out, smiles_col, id_col, chunk_size, workers, advance, **options
        )
    reasons = ", ".join(f"{k} ({v})" for k, v in sorted(summary.errors.items(), key=lambda kv: -kv[1]))
    console.print(
        f"predicted {summary.scored} of {summary.rows} rows -> {out}; "
        f"{summary.invalid} could not be scored" + (f": {reasons}" if reasons else "")
    )
    if summary.in_domain is not None:
        console.print(common.domain_line(summary.in_domain, summary.scored, min_similarity))
