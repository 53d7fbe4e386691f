"""Distribution learning on MOSES: train charrnn / vae, sample, score, beside MOSES's published rows.

Usage::

    python benchmarks/generation.py --speed                      # CharRNN training tokens/s by size
    python benchmarks/generation.py --models charrnn --max-rows 20000 --time-budget 600 \
        --samples 10000 --max-reference 20000 --json results/generation.json

``--speed`` times CharRNN training steps (batch 64, real MOSES rows, the threads torch uses;
``--threads``) for a few hidden sizes and layer counts: the median tokens/s of timed steps after
warm-up. The main run trains each model epoch by epoch (``biomodels.generate.train``, resuming)
until the next epoch would pass ``--time-budget`` seconds, samples ``--samples`` molecules
(timed: samples/s), and prints the MOSES metrics (:func:`biomodels.generate.evaluate`) beside
the rows MOSES published (Polykovskiy et al. 2020, Table 2: CharRNN and VAE, against the whole
test set).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from biomodels.generate import evaluate, sample, train
from biomodels.generate.corpus import SmilesCorpus
from biomodels.train.estimator import make_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "moses"
_COLUMNS = ("valid", "unique@10k", "Novelty", "IntDiv", "FCD/Test", "SNN/Test")
PUBLISHED = {
    "charrnn": dict(zip(_COLUMNS, (0.975, 0.999, 0.842, 0.856, 0.073, 0.601), strict=True)),
    "vae": dict(zip(_COLUMNS, (0.977, 0.998, 0.695, 0.856, 0.099, 0.626), strict=True)),
}
"""MOSES's published rows (Polykovskiy et al. 2020, Table 2), as issue 15 quotes them."""
SIZES = ((256, 2), (512, 2), (512, 3), (768, 3))


def speed(threads: int, steps: int) -> list[dict[str, float]]:
    """Training tokens/s of CharRNN at each (hidden, layers) of :data:`SIZES`: one epoch of
    ``steps`` batches of 64 MOSES rows (the model's own per-epoch count: tokens / seconds)."""
    torch.set_num_threads(threads)
    rows = [
        s for _, s in SmilesCorpus(DATA / "train.csv.gz", max_rows=64 * steps, holdout=False).smiles("all")
    ]
    out = []
    for hidden, layers in SIZES:
        model = make_model("charrnn", hidden=hidden, layers=layers, epochs=1, batch_size=64).fit(rows)
        params = sum(p.numel() for p in model.network_.parameters())
        rate = model.history_[0]["tokens_per_s"]
        out.append({"hidden": hidden, "layers": layers, "parameters": params, "tokens_per_s": rate})
    return out


def distribution(args: argparse.Namespace, name: str, folder: Path) -> dict[str, object]:
    run = folder / name
    started = time.perf_counter()
    epochs = 0
    while True:
        epochs += 1
        epoch_started = time.perf_counter()
        train(
            DATA / "train.csv.gz",
            run,
            model=name,
            epochs=epochs,
            max_rows=args.max_rows,
            seed=args.seed,
            resume=epochs > 1,
        )
        spent, last = time.perf_counter() - started, time.perf_counter() - epoch_started
        if spent + last > args.time_budget or epochs >= args.max_epochs:
            break
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    samples = sample(run, n=args.samples, out=run / "samples.csv", seed=args.seed)
    sample_seconds = time.perf_counter() - started
    metrics = evaluate(
        samples, train=DATA / "train.csv.gz", test=DATA / "test.csv.gz", max_reference=args.max_reference,
        k=(1_000, 10_000),
    )  # fmt: skip
    metrics.update(epochs=epochs, train_seconds=train_seconds, samples_per_s=len(samples) / sample_seconds)
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed", action="store_true", help="Only measure CharRNN training tokens/s.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10, help="--speed: timed steps per size.")
    parser.add_argument("--models", nargs="+", default=["charrnn"], choices=sorted(PUBLISHED))
    parser.add_argument("--max-rows", type=int, default=20_000)
    parser.add_argument("--time-budget", type=float, default=600.0, help="Training seconds per model.")
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--samples", type=int, default=30_000)
    parser.add_argument("--max-reference", type=int, default=None, help="First N test molecules.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    console = Console()
    if args.speed:
        rows = speed(args.threads, args.steps)
        table = Table(title=f"CharRNN training speed ({args.threads} threads, batch 64, MOSES rows)")
        for column in ("hidden", "layers", "parameters", "tokens/s"):
            table.add_column(column, justify="right")
        for row in rows:
            table.add_row(
                str(row["hidden"]),
                str(row["layers"]),
                f"{row['parameters']:,}",
                f"{row['tokens_per_s']:,.0f}",
            )
        console.print(table)
        result: dict[str, object] = {"speed": rows, "threads": args.threads}
    else:
        torch.set_num_threads(args.threads)
        with tempfile.TemporaryDirectory() as folder:
            result = {name: distribution(args, name, Path(folder)) for name in args.models}
        keys = [
            "valid",
            "unique@1k",
            "unique@10k",
            "Novelty",
            "IntDiv",
            "IntDiv2",
            "FCD/Test",
            "SNN/Test",
            "Frag/Test",
            "Scaf/Test",
            "Filters",
        ]
        table = Table(
            title=f"MOSES distribution learning ({args.max_rows} training rows, {args.samples} samples)"
        )
        table.add_column("model")
        for key in keys:
            table.add_column(key, justify="right")
        table.add_column("train s", justify="right")
        table.add_column("samples/s", justify="right")
        for name, metrics in result.items():
            table.add_row(
                f"{name} (ours)",
                *(f"{metrics.get(k, float('nan')):.3f}" for k in keys),
                f"{metrics['train_seconds']:.0f}",
                f"{metrics['samples_per_s']:.0f}",
            )
            table.add_row(
                f"{name} (MOSES, published)",
                *(f"{PUBLISHED[name][k]:.3f}" if k in PUBLISHED[name] else "" for k in keys),
                "",
                "",
            )
        console.print(table)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
