"""``biomodels diagnostics``: train, predict with and sample from the diagnostic models."""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli.common import console, friendly_errors
from biomodels.diagnostics import ESTIMATORS
from biomodels.diagnostics.runner import predict_run, sample_run, train_run

app = typer.Typer(
    help="Diagnostic models: image/text classifiers, autoencoder, GAN, classical baselines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CLI_MODELS = ("cnn", "resnet18", "rnn", "transformer", "autoencoder", "gan", "bow-logreg", "pixel-logreg")


def _split_names(value: str | None) -> list[str] | None:
    return None if value is None else [name.strip() for name in value.split(",") if name.strip()]


@app.command()
@friendly_errors
def train(
    data: Path = typer.Argument(
        ..., help="MedMNIST .npz, image folder (class_name/*.png) or CSV/TSV of texts."
    ),
    model: str = typer.Option("cnn", "--model", "-m", help=f"One of: {', '.join(CLI_MODELS)}."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create."),
    seed: int = typer.Option(0, help="Seed of the split and the training."),
    epochs: int = typer.Option(None, help="Training epochs (model default when omitted)."),
    text_col: str = typer.Option(None, help="Text column of a table (detected when omitted)."),
    label_col: str = typer.Option(None, help="Label column of a table (detected when omitted)."),
    class_names: str = typer.Option(None, help="Comma-separated names of an .npz file's classes 0, 1, ..."),
    judge: Path = typer.Option(
        None, help="GAN: run directory of a trained image classifier (else one is trained)."
    ),
    normal_class: str = typer.Option(
        None, help="Autoencoder: the normal class (name or index; default first)."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar over epochs."),
) -> None:
    """Train MODEL on DATA, evaluate it on the test split and write everything to OUT."""
    if model not in CLI_MODELS:
        ESTIMATORS.get(model)  # an unregistered name raises, listing the valid ones
        raise typer.BadParameter(
            f"{model!r} is not trained from the command line; choose one of: {', '.join(CLI_MODELS)}"
        )
    record = train_run(
        data, model, out, seed=seed, epochs=epochs, text_col=text_col, label_col=label_col,
        class_names=_split_names(class_names), judge=judge, normal_class=normal_class, progress=progress,
    )  # fmt: skip
    shown = {k: v for k, v in record["metrics"].items() if isinstance(v, (int, float))}
    summary = ", ".join(f"{k} {v:.4g}" for k, v in shown.items())
    console.print(
        f"trained {model} in {record['fit_seconds']:.1f} s -> {out}\ntest: {summary}", highlight=False
    )


@app.command()
@friendly_errors
def predict(
    run_dir: Path = typer.Argument(..., help="Run directory written by `diagnostics train`."),
    input: Path = typer.Argument(..., help="Images (.npz or folder) or a CSV of texts, as the model takes."),
    out: Path = typer.Option(..., "-o", "--out", help="Output CSV: one row per input row, in order."),
    top_tokens: int = typer.Option(0, help="Text models: write the K most attended tokens per row."),
    text_col: str = typer.Option(None, help="Text column (detected when omitted)."),
    label_col: str = typer.Option(None, help="Label column to carry and check (detected when omitted)."),
) -> None:
    """Predict every row of INPUT; rows that cannot be predicted say why in the `error` column."""
    table = predict_run(run_dir, input, out, top_tokens=top_tokens, text_col=text_col, label_col=label_col)
    n_bad = int(table["error"].notna().sum())
    console.print(f"predicted {len(table) - n_bad} of {len(table)} rows -> {out}; {n_bad} with an error")


@app.command()
@friendly_errors
def sample(
    run_dir: Path = typer.Argument(..., help="Run directory of a trained `gan`."),
    n: int = typer.Option(16, "--n", help="Images per class."),
    label: str = typer.Option(None, "--label", help="Class name or index (all classes when omitted)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output PNG grid."),
    seed: int = typer.Option(0, help="Noise seed."),
) -> None:
    """Generate N images of class LABEL with a trained GAN and save them as a grid."""
    path = sample_run(run_dir, n, label, out, seed=seed)
    console.print(f"saved {n} samples per class -> {path}")
