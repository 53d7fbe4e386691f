"""``biomodels dta``: train a drug-target affinity model, score ligands x targets with it.

``train`` calls :func:`biomodels.dta.train` (a run directory, as ``biomodels train`` writes);
``predict`` calls :func:`biomodels.dta.predict`, which streams the ligand file in chunks.
"""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli.common import console, counting_progress, friendly_errors, print_split_metrics

app = typer.Typer(
    help="Drug-target affinity: compounds plus protein sequences (FASTA, GenBank) -> affinity.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
@friendly_errors
def train(
    data: Path = typer.Argument(..., help="DeepDTA-format directory (e.g. Davis) or a pair table."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create."),
    split: str = typer.Option("setting1", help="setting1 | random | cold-drug | cold-target | cold-both"),
    seed: int = typer.Option(0),
    epochs: int = typer.Option(None, help="Training epochs (30)."),
    batch_size: int = typer.Option(None, help="Pairs per batch (256)."),
    lr: float = typer.Option(None, help="Peak learning rate (1e-3)."),
    ensemble: int = typer.Option(None, help="Networks averaged, seeds seed, seed+1, ... (3)."),
    ligand_encoder: str = typer.Option(None, help="Ligand encoder: morgan | gin | dmpnn | ... (morgan)."),
    protein_encoder: str = typer.Option(None, help="Protein encoder: kmer | cnn (kmer)."),
    hidden: int = typer.Option(None, help="Ligand encoder width (128)."),
    device: str = typer.Option(None, help="auto | cpu | cuda."),
    force: bool = typer.Option(False, help="Replace an existing, non-empty --out folder (whole)."),
) -> None:
    """Train and evaluate an affinity model; writes config, splits, metrics, predictions, model."""
    from biomodels.dta import train as train_dta

    options = {
        "batch_size": batch_size,
        "lr": lr,
        "ensemble": ensemble,
        "ligand_encoder": ligand_encoder,
        "protein_encoder": protein_encoder,
        "hidden": hidden,
        "device": device,
    }
    params = {k: v for k, v in options.items() if v is not None}  # the model's defaults otherwise
    result = train_dta(data, out, split=split, seed=seed, epochs=epochs, force=force, progress=True, **params)
    console.print(f"trained dta on {len(result.data.train)} pairs in {result.seconds:.1f} s -> {out}")
    print_split_metrics(result.metrics)


@app.command()
@friendly_errors
def predict(
    run_dir: Path = typer.Argument(..., help="Run directory of `biomodels dta train`."),
    ligands: Path = typer.Option(
        ..., "--ligands", help="Molecules: .smi, .csv(.gz), .tsv, .parquet, .sdf(.gz)."
    ),
    targets: Path = typer.Option(..., "--targets", help="Protein FASTA, nucleotide FASTA or GenBank."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .parquet or .csv (ligand x target rows)."),
    chunk_size: int = typer.Option(100_000, help="Rows (ligand x target) scored together; bounds memory."),
    seed: int = typer.Option(0, help="Recorded for reproducibility; prediction is deterministic."),
) -> None:
    """Every ligand x every target, one row each: ligand_id, target_id, affinity, error."""
    from biomodels.dta import predict as predict_dta

    with counting_progress(f"dta predict {ligands.name}", "ligands") as advance:
        summary = predict_dta(run_dir, ligands, targets, out, chunk_size=chunk_size, progress=advance)
    reasons = ", ".join(f"{k} ({v})" for k, v in sorted(summary.errors.items(), key=lambda kv: -kv[1]))
    console.print(
        f"predicted {summary.ligands} ligands x {summary.targets} targets = {summary.rows} rows -> {out}; "
        f"{summary.failed} without a value" + (f": {reasons}" if reasons else "")
    )
