"""``biomodels train``: train a property model on a molecule table into a run directory."""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli.common import ENCODING_HELP, console, friendly_errors, print_split_metrics
from biomodels.registry import MODELS


@friendly_errors
def train(
    data: Path = typer.Argument(..., help="Table with a SMILES column and target columns."),
    target: list[str] = typer.Option(..., "--target", "-t", help="Target column (repeat for several)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create."),
    model: str = typer.Option("dmpnn", help=f"One of: {', '.join(MODELS.names(input='molecule'))}."),
    split: str = typer.Option("random", help="random | scaffold | stratified"),
    split_file: Path = typer.Option(None, help="External split indices (ours or chemprop's splits.json)."),
    ensemble: int = typer.Option(None, help="GNN ensemble members (uncertainty = their spread); 1."),
    epochs: int = typer.Option(None, help="Training epochs (GNNs: 50)."),
    batch_size: int = typer.Option(None, help="GNNs: molecules per batch (50)."),
    hidden: int = typer.Option(None, help="GNNs: hidden size (300)."),
    depth: int = typer.Option(None, help="GNNs: message-passing steps (3)."),
    dropout: float = typer.Option(None, help="GNNs: dropout (0)."),
    lr: float = typer.Option(None, help="GNNs: peak learning rate (1e-3)."),
    head: str = typer.Option(None, help="GNNs: ffn | mve (mean-variance, regression)."),
    readout: str = typer.Option(
        None,
        help="GNN pooling. One of: auto (dmpnn: sum for regression and norm for one binary target; "
        "mean otherwise), mean, sum, norm (sum / 100 as in chemprop), attention.",
    ),
    extra_features: str = typer.Option(None, help="GNNs: molecule features added to the head, e.g. rdkit2d."),
    n_estimators: int = typer.Option(None, help="rf: trees per task (500)."),
    task: str = typer.Option(None, help="regression | binary | multiclass (inferred when omitted)."),
    smiles_col: str = typer.Option(None, help="SMILES column (detected when omitted)."),
    encoding: str = typer.Option("utf-8", help=ENCODING_HELP),
    device: str = typer.Option(None, help="GNNs: auto | cpu | cuda."),
    seed: int = typer.Option(0),
    report: bool = typer.Option(True, help="Draw the run's plots into RUN/plots."),
    force: bool = typer.Option(False, help="Replace an existing, non-empty --out folder (whole)."),
) -> None:
    """Train and evaluate a model; writes config, splits, metrics, predictions, plots, the model."""
    from biomodels.exceptions import UnknownNameError
    from biomodels.train.run import TrainRunConfig, train_run

    if model not in MODELS.names(input="molecule"):
        raise UnknownNameError("molecule model", model, MODELS.names(input="molecule"))
    options = {
        "ensemble": ensemble,
        "batch_size": batch_size,
        "hidden": hidden,
        "depth": depth,
        "dropout": dropout,
        "lr": lr,
        "head": head,
        "readout": readout,
        "extra_features": extra_features,
        "device": device,
        "n_estimators": n_estimators,
    }
    config = TrainRunConfig(
        data=str(data),
        model=model,
        targets=target,
        smiles_col=smiles_col,
        task=task,
        split=split,
        split_file=None if split_file is None else str(split_file),
        seed=seed,
        epochs=epochs,
        params={k: v for k, v in options.items() if v is not None},  # the model's defaults otherwise
        progress=True,
        encoding=encoding,
    )
    result = train_run(config, out, force=force)
    if report:
        from biomodels.report import report_run

        report_run(result.run_dir)
    console.print(f"trained {model} on {len(result.data.train)} molecules in {result.seconds:.1f} s -> {out}")
    print_split_metrics(result.metrics)
