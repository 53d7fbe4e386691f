"""``biomodels generate``: train a molecular language model, sample molecules, score samples.

``train`` calls :func:`biomodels.generate.train`, ``sample`` :func:`biomodels.generate.sample`,
``evaluate`` :func:`biomodels.generate.evaluate` (the MOSES metrics).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from biomodels.cli.common import console, counting_progress, friendly_errors
from biomodels.registry import MODELS

app = typer.Typer(
    help="Generative chemistry: train a SMILES language model, sample molecules, MOSES metrics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
@friendly_errors
def train(
    data: Path = typer.Argument(..., help="Molecule file (e.g. MOSES train.csv.gz, one SMILES column)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create (or resume)."),
    model: str = typer.Option("charrnn", help=f"One of: {' | '.join(MODELS.names(input='smiles'))}."),
    epochs: int = typer.Option(None, help="Passes over the data (10)."),
    max_rows: int = typer.Option(None, help="Read only the first N rows."),
    representation: str = typer.Option(None, help="smiles | selfies (smiles)."),
    hidden: int = typer.Option(None, help="Recurrent width (256)."),
    layers: int = typer.Option(None, help="Recurrent layers (2)."),
    batch_size: int = typer.Option(None, help="Molecules per batch (charrnn 32, vae 64)."),
    lr: float = typer.Option(None, help="Adam learning rate (charrnn 5e-3, vae 2e-3)."),
    lr_end: float = typer.Option(None, help="Cosine-decay the learning rate to this by the end (constant)."),
    dropout: float = typer.Option(None, help="Dropout between recurrent layers (0)."),
    latent: int = typer.Option(None, help="vae: latent size (64)."),
    device: str = typer.Option(None, help="cpu | cuda | auto (cpu)."),
    resume: bool = typer.Option(False, help="Continue the run in --out from its last epoch checkpoint."),
    init: str = typer.Option(
        None, help="Start from this run's model (prior: the shipped one), a fresh schedule over --epochs."
    ),
    force: bool = typer.Option(False, help="Replace an existing, non-empty --out folder."),
    seed: int = typer.Option(0),
) -> None:
    """Train a generative model; a checkpoint after every epoch, invalid rows counted."""
    from biomodels.generate import train as train_generator

    options = {
        "representation": representation,
        "hidden": hidden,
        "layers": layers,
        "batch_size": batch_size,
        "lr": lr,
        "lr_end": lr_end,
        "dropout": dropout,
        "latent": latent,
        "device": device,
    }
    params = {k: v for k, v in options.items() if v is not None}  # the model's defaults otherwise
    result = train_generator(
        data, out, model=model, epochs=epochs, max_rows=max_rows, seed=seed, resume=resume, force=force,
        progress=True, init=init, **params,
    )  # fmt: skip
    counts = result.metrics["data"]
    last = result.metrics["history"][0][-1] if result.metrics["history"] else {}
    console.print(
        f"trained {model} on {counts['train']} molecules ({counts['invalid']} of {counts['rows']} rows "
        f"invalid) in {result.seconds:.1f} s, {last.get('tokens_per_s', 0):,.0f} tokens/s -> {out}"
    )
    console.print(f"val: {json.dumps({k: round(v, 4) for k, v in result.metrics['val'].items()})}")


@app.command()
@friendly_errors
def sample(
    run_dir: Path = typer.Argument(
        None, help="Run directory of `generate train` (default: the shipped prior)."
    ),
    n: int = typer.Option(30_000, "-n", help="Molecules to generate."),
    out: Path = typer.Option(..., "--out", "-o", help="Output CSV: smiles, raw, valid, error."),
    temperature: float = typer.Option(1.0, help="Softmax temperature (lower: likelier, less diverse)."),
    seed: int = typer.Option(0),
) -> None:
    """Generate molecules; every generated row is written, invalid ones with their error."""
    from biomodels.generate import sample as sample_molecules

    with counting_progress("sampling", "molecules") as advance:
        table = sample_molecules(run_dir, n=n, out=out, seed=seed, temperature=temperature, progress=advance)
    valid = int(table["valid"].sum())
    share = f"{100 * valid / len(table):.1f}%" if len(table) else "-"
    distinct = table.loc[table["valid"], "smiles"].nunique()
    console.print(f"sampled {len(table)} molecules -> {out}; {valid} valid ({share}), {distinct} distinct")


@app.command()
@friendly_errors
def evaluate(
    samples: Path = typer.Argument(..., help="CSV of `generate sample` (its smiles column)."),
    train: Path = typer.Option(None, "--train", help="Training molecules (Novelty)."),
    test: Path = typer.Option(None, "--test", help="Test molecules (FCD, SNN, Frag, Scaf, properties)."),
    test_scaffolds: Path = typer.Option(None, "--test-scaffolds", help="Scaffold test set (/TestSF)."),
    json_out: Path = typer.Option(None, "--json", help="Write the metrics to this JSON file."),
    max_reference: int = typer.Option(
        None, help="Use N molecules of each test set (a seeded random sample)."
    ),
    seed: int = typer.Option(0, help="Recorded for reproducibility; the metrics are deterministic."),
) -> None:
    """The MOSES metrics: validity, uniqueness, novelty, IntDiv, SNN, Frag, Scaf, Filters, FCD."""
    from biomodels.generate import evaluate as evaluate_samples

    metrics = evaluate_samples(
        samples,
        train=train,
        test=test,
        test_scaffolds=test_scaffolds,
        json=json_out,
        max_reference=max_reference,
    )
    for name, value in metrics.items():
        console.print(f"{name:>12}  {value:.4f}" if isinstance(value, float) else f"{name:>12}  {value}")


@app.command()
@friendly_errors
def optimize(
    prior: Path = typer.Option(None, help="A charrnn run of `generate train` (default: the shipped prior)."),
    activity: Path = typer.Option(None, help="Activity model: a run directory of `biomodels train`."),
    budget: int = typer.Option(5_000, help="Scoring calls: distinct molecules scored (repeats are free)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create (or resume)."),
    objective: Path = typer.Option(
        None, help="Objective TOML (default: activity x QED x domain x no PAINS)."
    ),
    batch_size: int = typer.Option(64, help="Molecules sampled per step."),
    sigma: float = typer.Option(120.0, help="Reward scale of the augmented likelihood (REINVENT: 120)."),
    lr: float = typer.Option(2e-3, help="The agent's Adam learning rate (REINVENT: 1e-4; see the README)."),
    focus_epochs: int = typer.Option(
        10, help="First train the prior this many epochs on the activity model's training molecules (0: not)."
    ),
    replay: int = typer.Option(10, help="Molecules replayed per step from the memory of the best (0: none)."),
    replay_memory: int = typer.Option(100, help="Best-rewarded molecules the replay memory keeps."),
    resume: bool = typer.Option(False, help="Continue the run in --out from its checkpoint."),
    force: bool = typer.Option(False, help="Replace an existing, non-empty --out folder."),
    seed: int = typer.Option(0),
) -> None:
    """REINVENT-style optimisation of the prior toward an activity model, within its domain."""
    from biomodels.generate.optimize import optimize as optimize_prior
    from biomodels.report import report_optimization

    result = optimize_prior(
        prior=prior, activity=activity, budget=budget, out=out, seed=seed, objective=objective, resume=resume,
        batch_size=batch_size, sigma=sigma, lr=lr, focus_epochs=focus_epochs, replay=replay,
        replay_memory=replay_memory, force=force, progress=True,
    )  # fmt: skip
    plots = report_optimization(out)
    m = result.metrics
    console.print(
        f"{m['calls']} molecules scored in {m['steps']} steps ({m['seconds']:.0f} s): "
        f"best {m['best_score']:.3f}, top-10 mean {m['top10_mean']:.3f}, "
        f"top-100 mean {m['top100_mean']:.3f}, top-10 AUC {m['auc_top10']:.3f}"
    )
    best = result.molecules[result.molecules["error"].isna()].nlargest(5, "score")
    columns = [c for c in ("score", "activity", "qed", "domain", "smiles") if c in best.columns]
    console.print(best[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"), soft_wrap=True)
    console.print(f"-> {out / 'molecules.csv'}, {', '.join(str(p) for p in plots)}", soft_wrap=True)
