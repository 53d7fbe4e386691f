"""Tuned against default D-MPNN: test RMSE on ESOL and FreeSolv (scaffold split), trials and time.

Usage::

    python benchmarks/tuning.py --datasets esol,freesolv --trials 20 --epochs 30 [--json out.json]

Per data set, on the same scaffold split (80/10/10, seed 0) and the same epochs: one
``train_run`` with the estimator's defaults, and one ``tune_run`` of ``--trials`` trials (TPE,
median pruning on the validation loss per epoch) whose best configuration is retrained; both
test RMSEs come from their run directories' ``metrics.json``. The tuner chooses by validation
loss only; the test partition is never seen while tuning. Seconds are wall time of each step.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from biomodels import TrainRunConfig, train_run
from biomodels.tune import TuneConfig, tune_run

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "molnet"
DATASETS = {"esol": ("esol.csv", "logp"), "freesolv": ("freesolv.csv", "freesolv")}


def bench_dataset(name: str, trials: int, epochs: int, folder: Path) -> dict:
    """Default and tuned runs of one data set; their test RMSE, trial counts and seconds."""
    file, target = DATASETS[name]
    run = TrainRunConfig(data=str(DATA / file), targets=[target], split="scaffold", seed=0, epochs=epochs)
    started = time.perf_counter()
    default = train_run(run, folder / f"{name}-default")
    default_seconds = time.perf_counter() - started
    started = time.perf_counter()
    tuned = tune_run(TuneConfig(run, trials=trials), folder / f"{name}-tune")
    return {
        "dataset": name,
        "split": "scaffold",
        "epochs": epochs,
        "default_test_rmse": default.metrics["test"]["mean"]["rmse"],
        "tuned_test_rmse": tuned.best.metrics["test"]["mean"]["rmse"],
        "default_val_rmse": default.metrics["val"]["mean"]["rmse"],
        "tuned_val_rmse": tuned.best.metrics["val"]["mean"]["rmse"],
        "trials_complete": tuned.counts["complete"],
        "trials_pruned": tuned.counts["pruned"],
        "trials_failed": tuned.counts["fail"],
        "default_seconds": default_seconds,
        "tune_seconds": time.perf_counter() - started,
        "best_params": tuned.study.best_trial.params,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", default="esol,freesolv", help=f"comma-separated, of {', '.join(DATASETS)}"
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        parser.error(f"unknown data set {unknown[0]!r}; choose from {', '.join(DATASETS)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            rows.append(bench_dataset(name, args.trials, args.epochs, Path(tmp)))
            if args.json:  # after each data set, so a run cut short keeps its rows
                args.json.write_text(
                    json.dumps({"trials": args.trials, "epochs": args.epochs, "rows": rows}, indent=2)
                )
    table = Table(
        title=f"default vs tuned D-MPNN, scaffold split, {args.epochs} epochs, {args.trials} trials"
    )
    for column in (
        "data set",
        "default test RMSE",
        "tuned test RMSE",
        "trials (pruned)",
        "tune s",
        "default s",
    ):
        table.add_column(column, justify="left" if column == "data set" else "right")
    for r in rows:
        table.add_row(
            r["dataset"],
            f"{r['default_test_rmse']:.3f}",
            f"{r['tuned_test_rmse']:.3f}",
            f"{r['trials_complete'] + r['trials_pruned']} ({r['trials_pruned']})",
            f"{r['tune_seconds']:.0f}",
            f"{r['default_seconds']:.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
