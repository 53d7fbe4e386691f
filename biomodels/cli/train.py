"""``biomodels train``: train a property model on a molecule table into a run directory."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biomodels.cli.common import console, friendly_errors
from biomodels.train.run import TrainRunConfig, train_run


@friendly_errors
def train(
    data: Path = typer.Argument(..., help="Table with a SMILES column and target columns."),
    target: list[str] = typer.Option(..., "--target", "-t", help="Target column (repeat for several)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create."),
    model: str = typer.Option("dmpnn", help="dmpnn | gin | gcn | gat | attentivefp | rf"),
    split: str = typer.Option("random", help="random | scaffold | stratified"),
    ensemble: int = typer.Option(1, help="Ensemble members (uncertainty = their spread)."),
    epochs: int = typer.Option(50),
    batch_size: int = typer.Option(50),
    hidden: int = typer.Option(300),
    depth: int = typer.Option(3),
    dropout: float = typer.Option(0.0),
    lr: float = typer.Option(1e-3, help="Peak learning rate."),
    head: str = typer.Option("ffn", help="ffn | mve (mean-variance, regression)"),
    readout: str = typer.Option("mean", help="mean | sum | attention"),
    extra_features: str = typer.Option(None, help="Molecule features added to the head, e.g. rdkit2d."),
    task: str = typer.Option(None, help="regression | binary | multiclass (inferred when omitted)."),
    smiles_col: str = typer.Option(None, help="SMILES column (detected when omitted)."),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    seed: int = typer.Option(0),
) -> None:
    """Train and evaluate a model; writes config, splits, metrics, predictions, plots, checkpoints."""
    config = TrainRunConfig(
        data=str(data),
        targets=target,
        smiles_col=smiles_col,
        task=task,
        model=model,
        split=split,
        ensemble=ensemble,
        epochs=epochs,
        batch_size=batch_size,
        hidden=hidden,
        depth=depth,
        dropout=dropout,
        lr=lr,
        head=head,
        readout=readout,
        extra_features=extra_features,
        seed=seed,
        device=device,
        progress=True,
    )
    result = train_run(config, out)
    console.print(
        f"trained {model} on {len(result.split.train)} molecules in {result.seconds:.1f} s -> {out}"
    )
    for name in ("val", "test"):
        if name in result.metrics:
            mean = {k: round(v, 4) for k, v in result.metrics[name]["mean"].items()}
            console.print(f"{name}: {json.dumps(mean)}")
