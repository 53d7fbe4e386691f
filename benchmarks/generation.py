"""Distribution learning on MOSES: train charrnn / vae, sample, score, beside MOSES's published rows.

Usage::

    python benchmarks/generation.py --speed                      # CharRNN training tokens/s by size
    python benchmarks/generation.py --models charrnn vae --max-rows 20000 --time-budget 600 \
        --samples 10000 --max-reference 20000 --json results/generation.json
    python benchmarks/generation.py --models prior --max-reference 50000   # the shipped prior
    python benchmarks/generation.py --summarise prior.json vae.json        # one table of earlier runs

    python benchmarks/generation.py --goal --activity runs/demo/run --budgets 1000,5000,10000 \
        --json results/goal.json                                  # goal-directed, vs random MOSES

``--speed`` times CharRNN training steps (batch 64, real MOSES rows, the threads torch uses;
``--threads``) for a few hidden sizes and layer counts: the median tokens/s of timed steps after
warm-up. The main run trains each model epoch by epoch (``biomodels.generate.train``, resuming)
until the next epoch would pass ``--time-budget`` seconds, samples ``--samples`` molecules
(timed: samples/s), and prints the MOSES metrics (:func:`biomodels.generate.evaluate`) beside
the rows MOSES published (Polykovskiy et al. 2020, Table 2: CharRNN and VAE, against the whole
test set). ``--models prior`` trains nothing: it scores a trained CharRNN run (``--prior``,
default the shipped one) beside the published CharRNN row, with the training seconds it recorded.

``--goal`` compares, at equal scoring budgets, :func:`biomodels.generate.optimize` (the prior of
``--prior``, default the shipped one, toward the default objective of ``--activity``) with
scoring as many random MOSES test molecules with the same objective. One optimisation runs to
the largest budget; a smaller budget is its first calls (the trajectory does not depend on the
budget). Per budget: best score, mean of the top 10 and top 100, PMO's top-10 AUC, and the
*hits* (issue 15): valid, not in the activity model's training set, predicted activity (the
ensemble mean, re-predicted through ``biomodels predict``'s path) at or above the 90th
percentile of the training labels, QED >= 0.5, nearest-neighbour Tanimoto (Morgan radius 2,
2,048 bits) to the training set >= 0.4, no PAINS alert; and the hits' Murcko scaffold count.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rdkit import Chem
from rich.console import Console
from rich.table import Table

from biomodels.chem.domain import NN_SIMILARITY
from biomodels.chem.filters import PASSES_ALL, apply_filters
from biomodels.generate import evaluate, optimize, sample, train
from biomodels.generate.corpus import SmilesCorpus
from biomodels.generate.diversity import murcko_scaffold
from biomodels.generate.metrics import canonical_smiles, read_smiles
from biomodels.generate.optimize import top_k_auc, top_k_mean
from biomodels.generate.sampling import PRIOR_DIR
from biomodels.generate.scoring import default_objective
from biomodels.screen.scoring import predict_file
from biomodels.train.estimator import make_model
from biomodels.train.run import load_run

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "moses"
_COLUMNS = ("valid", "unique@10000", "Novelty", "IntDiv", "FCD/Test", "SNN/Test")
PUBLISHED = {
    "charrnn": dict(zip(_COLUMNS, (0.975, 0.999, 0.842, 0.856, 0.073, 0.601), strict=True)),
    "vae": dict(zip(_COLUMNS, (0.977, 0.998, 0.695, 0.856, 0.099, 0.626), strict=True)),
}
"""MOSES's published rows (Polykovskiy et al. 2020, Table 2), as issue 15 quotes them."""
PRIOR = "prior"
"""``--models prior``: score a trained CharRNN run (``--prior``, default the shipped one) as is."""
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
    """Train ``name`` within ``--time-budget`` (``prior``: no training, the run of ``--prior``,
    default the shipped prior, with its recorded training seconds), sample, score."""
    if name == PRIOR:
        run = args.prior or PRIOR_DIR
        recorded = json.loads((run / "metrics.json").read_text())
        train_seconds = float(recorded.get("seconds_total", recorded["seconds"]))
        epochs = load_run(run).model.epochs_done_
    else:
        run = folder / name
        epochs, train_seconds = _train_within_budget(args, name, run)
        recorded = json.loads((run / "metrics.json").read_text())
    train_rows = recorded["data"]["train"]  # the rows it trained on (validation rows held out)
    started = time.perf_counter()
    samples = sample(run, n=args.samples, out=folder / f"{name}-samples.csv", seed=args.seed)
    sample_seconds = time.perf_counter() - started
    metrics = evaluate(
        samples, train=DATA / "train.csv.gz", test=DATA / "test.csv.gz", max_reference=args.max_reference,
        k=(1_000, 10_000),
    )  # fmt: skip
    metrics.update(
        epochs=epochs, train_rows=train_rows, train_seconds=train_seconds, test_molecules=args.max_reference,
        samples_per_s=len(samples) / sample_seconds,
    )  # fmt: skip
    return metrics


def _train_within_budget(args: argparse.Namespace, name: str, run: Path) -> tuple[int, float]:
    """Train epoch by epoch (resuming) until the next epoch would pass ``--time-budget``."""
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
    return epochs, time.perf_counter() - started


def distribution_table(result: dict[str, dict[str, float]]) -> Table:
    """The MOSES table: each of our rows (a model's metrics) beside MOSES's published row."""
    keys = ["valid", "unique@1000", "unique@10000", "Novelty", "IntDiv", "IntDiv2", "FCD/Test", "SNN/Test",
            "Frag/Test", "Scaf/Test", "Filters"]  # fmt: skip
    table = Table(title="MOSES distribution learning")
    table.add_column("model")
    for key in keys:
        table.add_column(key.replace("@10000", "@10k").replace("@1000", "@1k"), justify="right")
    for column in ("samples", "test molecules", "train s", "samples/s"):
        table.add_column(column, justify="right")
    for name, metrics in result.items():
        published = "charrnn" if name == PRIOR else name
        table.add_row(
            f"{name} (ours, {metrics['epochs']} epochs of {metrics['train_rows']:,} rows)",
            *(f"{metrics.get(k, float('nan')):.3f}" for k in keys),
            f"{metrics['samples']:,}",
            f"{metrics['test_molecules']:,}" if metrics.get("test_molecules") else "all",
            f"{metrics['train_seconds']:.0f}",
            f"{metrics['samples_per_s']:.0f}",
        )
        table.add_row(
            f"{published} (MOSES, published)",
            *(f"{PUBLISHED[published][k]:.3f}" if k in PUBLISHED[published] else "" for k in keys),
            "", "all", "", "",
        )  # fmt: skip
    return table


def _hits(smiles: list[str], activity: Path, folder: Path) -> pd.DataFrame:
    """Per molecule (valid canonical SMILES): ``hit`` as the module docstring defines it, and
    its Murcko ``scaffold``; the activity is re-predicted with ``biomodels predict``'s path."""
    run = load_run(activity)
    target = run.model.target_names_[0]
    labels = pd.read_csv(activity / "predictions_train.csv")[f"{target}_true"].dropna().to_numpy()
    training = set(canonical_smiles(run.model.domain_.smiles))
    source, scored = folder / "hit_candidates.csv", folder / "hit_predictions.csv"
    pd.DataFrame({"smiles": smiles}).to_csv(source, index=False)
    predict_file(activity, source, scored)
    predicted = pd.read_csv(scored)
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    checks = apply_filters(mols, "pains,qed>=0.5")
    hit = (
        predicted["error"].isna().to_numpy()
        & ~np.isin(smiles, list(training))
        & (predicted[target].to_numpy() >= np.percentile(labels, 90))
        & (predicted[NN_SIMILARITY].to_numpy() >= 0.4)
        & checks[PASSES_ALL].to_numpy()
    )
    return pd.DataFrame({"smiles": smiles, "hit": hit, "scaffold": [murcko_scaffold(s) for s in smiles]})


def _goal_row(scores: np.ndarray, hits: pd.DataFrame, budget: int) -> dict[str, float]:
    called, flags = scores[:budget], hits.iloc[:budget]
    return {
        "calls": len(called),
        "best": float(called.max()),
        "top10": top_k_mean(called, 10),
        "top100": top_k_mean(called, 100),
        "auc_top10": top_k_auc(called, 10, budget),
        "hits": int(flags["hit"].sum()),
        "hit_scaffolds": int(flags.loc[flags["hit"], "scaffold"].nunique()),
    }


def goal_directed(args: argparse.Namespace, folder: Path) -> dict[str, object]:
    """``optimize`` against random MOSES test molecules at each budget of ``--budgets``."""
    budgets = sorted(int(b) for b in args.budgets.split(","))
    objective = default_objective(args.activity)
    run = args.out or folder / "optimize"
    started = time.perf_counter()
    result = optimize(
        prior=args.prior, activity=args.activity, budget=budgets[-1], out=run, seed=args.seed,
        resume=(run / "checkpoint").is_dir(), progress=True,
    )  # fmt: skip
    optimize_seconds = time.perf_counter() - started
    optimized = result.molecules[result.molecules["smiles"].notna() & (result.molecules["smiles"] != "")]
    rng = np.random.default_rng(args.seed)
    test = read_smiles(DATA / "test.csv.gz")
    order = rng.permutation(len(test))
    canonical = list(
        dict.fromkeys(s for s in canonical_smiles(test[i] for i in order[: 2 * budgets[-1]]) if s)
    )
    random = canonical[: budgets[-1]]
    random_scores = objective.score(random)["score"].to_numpy()
    rows = {"optimize": [], "random MOSES": []}
    for name, smiles, scores in (
        ("optimize", optimized["smiles"].tolist(), optimized["score"].to_numpy()),
        ("random MOSES", random, random_scores),
    ):
        hits = _hits(smiles, args.activity, folder)
        rows[name] = [{"budget": b, **_goal_row(scores, hits, b)} for b in budgets]
    return {
        "prior": str(args.prior or "shipped"), "activity": str(args.activity), "seed": args.seed,
        "optimize_seconds": optimize_seconds, "optimize_metrics": result.metrics, "rows": rows,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed", action="store_true", help="Only measure CharRNN training tokens/s.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10, help="--speed: timed steps per size.")
    parser.add_argument("--models", nargs="+", default=["charrnn"], choices=[*sorted(PUBLISHED), PRIOR])
    parser.add_argument("--max-rows", type=int, default=20_000)
    parser.add_argument("--time-budget", type=float, default=600.0, help="Training seconds per model.")
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--samples", type=int, default=30_000)
    parser.add_argument(
        "--max-reference", type=int, default=None, help="A seeded random N of the test molecules."
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--goal", action="store_true", help="Goal-directed: optimize vs random MOSES test.")
    parser.add_argument("--activity", type=Path, default=None, help="--goal: the activity run directory.")
    parser.add_argument(
        "--prior", type=Path, default=None, help="--goal, --models prior: a charrnn run (the shipped prior)."
    )
    parser.add_argument("--budgets", default="1000,5000,10000", help="--goal: scoring budgets.")
    parser.add_argument(
        "--out", type=Path, default=None, help="--goal: keep the optimize run here (resumes)."
    )
    parser.add_argument(
        "--summarise", type=Path, nargs="+", default=None, help="One table from the JSON of earlier runs."
    )
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 200)  # a log file keeps whole rows
    if args.goal:
        torch.set_num_threads(args.threads)
        with tempfile.TemporaryDirectory() as folder:
            result = goal_directed(args, Path(folder))
        table = Table(title=f"Goal-directed, default objective of {args.activity} (prior: {result['prior']})")
        for column in (
            "method",
            "budget",
            "best",
            "top-10",
            "top-100",
            "top-10 AUC",
            "hits",
            "hit scaffolds",
        ):
            table.add_column(column, justify="right")
        for name, rows in result["rows"].items():
            for r in rows:
                table.add_row(
                    name, f"{r['budget']:,}", f"{r['best']:.3f}", f"{r['top10']:.3f}", f"{r['top100']:.3f}",
                    f"{r['auc_top10']:.3f}", str(r["hits"]), str(r["hit_scaffolds"]),
                )  # fmt: skip
        console.print(table)
    elif args.speed:
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
    elif args.summarise:
        result = {name: row for file in args.summarise for name, row in json.loads(file.read_text()).items()}
        console.print(distribution_table(result))
    else:
        torch.set_num_threads(args.threads)
        with tempfile.TemporaryDirectory() as folder:
            result = {name: distribution(args, name, Path(folder)) for name in args.models}
        console.print(distribution_table(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
