"""``biomodels tune``: search GNN hyper-parameters with Optuna, retrain the best into RUN/best."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biomodels.cli.common import ENCODING_HELP, console, friendly_errors, print_split_metrics
from biomodels.registry import MODELS


@friendly_errors
def tune(
    data: Path = typer.Argument(..., help="Table with a SMILES column and target columns."),
    target: list[str] = typer.Option(..., "--target", "-t", help="Target column (repeat for several)."),
    trials: int = typer.Option(20, help="Finished trials the study should hold, earlier runs' included."),
    epochs: int = typer.Option(30, help="Training epochs of every trial and of the retrained best."),
    out: Path = typer.Option(..., "--out", "-o", help="Tuning folder: trials.csv, plots, best/."),
    storage: str = typer.Option(None, help="Optuna storage URL (default sqlite:///OUT/study.db)."),
    study_name: str = typer.Option("biomodels-tune", help="Study name within the storage."),
    timeout: float = typer.Option(None, help="Start no new trial after this many seconds."),
    model: str = typer.Option("dmpnn", help=f"A GNN among: {', '.join(MODELS.names(input='molecule'))}."),
    split: str = typer.Option("random", help="random | scaffold | stratified"),
    task: str = typer.Option(None, help="regression | binary | multiclass (inferred when omitted)."),
    smiles_col: str = typer.Option(None, help="SMILES column (detected when omitted)."),
    encoding: str = typer.Option("utf-8", help=ENCODING_HELP),
    device: str = typer.Option(None, help="auto | cpu | cuda."),
    seed: int = typer.Option(0, help="Seeds the split, the models and the sampler."),
    report: bool = typer.Option(True, help="Draw Optuna's history and importance plots into OUT/plots."),
) -> None:
    """Tune a GNN (TPE sampler, median pruning per epoch); a killed run resumes from its storage."""
    from biomodels.train.run import TrainRunConfig
    from biomodels.tune import TuneConfig, tune_run

    run = TrainRunConfig(
        data=str(data),
        model=model,
        targets=target,
        smiles_col=smiles_col,
        task=task,
        split=split,
        seed=seed,
        epochs=epochs,
        params={} if device is None else {"device": device},
        progress=True,
        encoding=encoding,
    )
    config = TuneConfig(run, trials=trials, storage=storage, study_name=study_name, timeout=timeout)
    result = tune_run(config, out)
    if report:
        from biomodels.report.tune import report_tune

        report_tune(out)
    counts = ", ".join(f"{n} {state}" for state, n in result.counts.items() if n)
    best = result.study.best_trial
    console.print(f"study {study_name!r}: {counts}; this run {result.seconds:.1f} s -> {out}")
    console.print(f"best trial {best.number}: validation loss {best.value:.4g}, {json.dumps(best.params)}")
    print_split_metrics(result.best.metrics, prefix="best retrained, ")
