"""``biomodels diagnostics``: train, predict with and sample from the diagnostic models.

Runs are ordinary run directories (:mod:`biomodels.train.run`): ``train`` calls
:func:`~biomodels.train.run.train_run` then :func:`~biomodels.report.report_run`; ``predict``
and ``sample`` load them with :func:`~biomodels.train.run.load_run`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli.common import ENCODING_HELP, console, friendly_errors
from biomodels.registry import MODELS

app = typer.Typer(
    help="Diagnostic models: image/text classifiers, autoencoder, GAN, classical baselines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def diagnostic_models() -> list[str]:
    """The models ``diagnostics train`` trains: those of :data:`MODELS` reading images or texts."""
    return MODELS.names(input="image") + MODELS.names(input="text")


def _split_names(value: str | None) -> list[str] | None:
    return None if value is None else [name.strip() for name in value.split(",") if name.strip()]


@app.command()
@friendly_errors
def train(
    data: Path = typer.Argument(
        ..., help="MedMNIST .npz, image folder (class_name/*.png) or CSV/TSV of texts."
    ),
    model: str = typer.Option("cnn", "--model", "-m", help=f"One of: {', '.join(diagnostic_models())}."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create."),
    seed: int = typer.Option(0, help="Seed of the split and the training."),
    epochs: int = typer.Option(None, help="Training epochs (model default when omitted)."),
    text_col: str = typer.Option(None, help="Text column of a table (detected when omitted)."),
    label_col: str = typer.Option(None, help="Label column of a table (detected when omitted)."),
    encoding: str = typer.Option("utf-8", help=ENCODING_HELP + " Tables only."),
    class_names: str = typer.Option(None, help="Comma-separated names of an .npz file's classes 0, 1, ..."),
    sizes: str = typer.Option(
        None,
        help="Train,val,test fractions of a folder or table split (images 0.8,0.1,0.1; texts 0.7,0.1,0.2).",
    ),
    judge: Path = typer.Option(
        None, help="GAN: run directory of a trained image classifier (else one is trained)."
    ),
    normal_class: str = typer.Option(
        None, help="Autoencoder: the normal class (name or index; default first)."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar over epochs."),
    report: bool = typer.Option(True, help="Draw the run's plots into RUN/plots."),
) -> None:
    """Train MODEL on DATA, evaluate every partition and write the run directory OUT."""
    from biomodels.diagnostics.data import IMAGE_SIZES, TEXT_SIZES
    from biomodels.train.run import TrainRunConfig, train_run

    if model not in diagnostic_models():
        raise typer.BadParameter(
            f"unknown diagnostic model {model!r}; choose one of: {', '.join(diagnostic_models())}"
        )
    if sizes is None:
        fractions = TEXT_SIZES if MODELS.info(model)["input"] == "text" else IMAGE_SIZES
    else:
        fractions = tuple(float(f) for f in sizes.split(","))
    params = {"judge": None if judge is None else str(judge), "normal_class": normal_class}
    config = TrainRunConfig(
        data=str(data), model=model, text_col=text_col, label_col=label_col,
        class_names=_split_names(class_names), split="stratified", sizes=fractions, seed=seed,
        epochs=epochs, params={k: v for k, v in params.items() if v is not None}, progress=progress,
        encoding=encoding,
    )  # fmt: skip
    result = train_run(config, out)
    if report:
        from biomodels.report import report_run

        report_run(result.run_dir)
    test = result.metrics.get("test", {})
    shown = {k: v for k, v in test.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    summary = ", ".join(f"{k} {v:.4g}" for k, v in shown.items())
    console.print(f"trained {model} in {result.seconds:.1f} s -> {out}\ntest: {summary}", highlight=False)


@app.command()
@friendly_errors
def predict(
    run_dir: Path = typer.Argument(..., help="Run directory written by `diagnostics train`."),
    input: Path = typer.Argument(..., help="Images (.npz or folder) or a CSV of texts, as the model takes."),
    out: Path = typer.Option(..., "-o", "--out", help="Output CSV: one row per input row, in order."),
    top_tokens: int = typer.Option(0, help="Text models with attention: the K most attended tokens per row."),
    text_col: str = typer.Option(None, help="Text column (detected when omitted)."),
    label_col: str = typer.Option(None, help="Label column to carry and check (detected when omitted)."),
    encoding: str = typer.Option("utf-8", help=ENCODING_HELP + " Text tables only."),
) -> None:
    """Predict every row of INPUT; rows that cannot be predicted say why in the `error` column."""
    from biomodels.exceptions import InputError
    from biomodels.train.run import load_run
    from biomodels.utils import atomic_path

    run = load_run(run_dir)
    data: object = input
    if run.model.input_kind == "text":
        from biomodels.io.text import read_text_table

        data = read_text_table(input, text_col, label_col, encoding=encoding)
    elif text_col is not None or label_col is not None:
        raise InputError(input, f"--text-col/--label-col apply to text models; this is a {run.model.name}")
    options = {}
    if top_tokens:
        if "top_tokens" not in getattr(run.model, "prediction_options", ()):
            raise InputError(
                run_dir, f"a {run.model.name} model does not report attended tokens (--top-tokens)"
            )
        options["top_tokens"] = top_tokens
    table = run.model.predict(data, **options)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
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
    from biomodels.exceptions import InputError
    from biomodels.train.run import load_run

    run = load_run(run_dir)
    if not hasattr(run.model, "sample_grid"):
        raise InputError(run_dir, f"holds a {run.model.name!r} model, which does not generate images")
    path = run.model.sample_grid(out, n_per_class=n, label=label, seed=seed)
    console.print(f"saved {n} samples per class -> {path}")
