"""Applicability domain and distance-aware uncertainty, measured on ESOL and FreeSolv.

Three measurements, each on real data from ``../shared/data/molnet``:

1. **Uncertainty vs error** (scaffold split): trains a D-MPNN ensemble per data set with
   ``train_run`` and reads its run directory's ``metrics.json``: the Spearman correlation of the
   test molecules' absolute error with the ensemble spread alone (before) and with the reported,
   distance-aware uncertainty (after).
2. **Error by similarity** (the same test predictions): mean absolute error of the test molecules
   by ``nn_similarity`` to the training split, and for each candidate threshold the MAE below and
   at or above it: what the default ``in_domain`` threshold was chosen from.
3. **The small-molecule bar**: trains on ESOL's molecules with at most 18 heavy atoms (written to
   a temporary CSV) and predicts the rest with the ``biomodels predict`` engine
   (:func:`~biomodels.screen.scoring.predict_file`): rows in and out of the domain and their MAE.

Example (about 5 minutes on 2 cores)::

    python benchmarks/domain.py --ensemble 3 --epochs 30 --seed 0
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from biomodels import TrainRunConfig, train_run
from biomodels.screen.scoring import predict_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "molnet"
TARGETS = {"esol": "logp", "freesolv": "freesolv"}
BINS = [0.0, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0001]
THRESHOLDS = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]


def train(data: Path, target: str, out: Path, args: argparse.Namespace, split: str) -> dict:
    config = TrainRunConfig(
        data=str(data),
        targets=[target],
        split=split,
        seed=args.seed,
        epochs=args.epochs,
        params={"ensemble": args.ensemble},
    )
    return train_run(config, out, force=True).metrics


def error_by_similarity(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MAE of the rows by nn_similarity bin, and below / at or above each threshold."""
    error = (frame[f"{target}_true"] - frame[target]).abs()
    bins = pd.cut(frame["nn_similarity"], BINS, right=False)
    by_bin = error.groupby(bins, observed=True).agg(["count", "mean"]).rename(columns={"mean": "mae"})
    rows = []
    for t in THRESHOLDS:
        below = frame["nn_similarity"] < t
        rows.append(
            {
                "threshold": t,
                "below": int(below.sum()),
                "mae_below": error[below].mean(),
                "at_or_above": int((~below).sum()),
                "mae_at_or_above": error[~below].mean(),
            }
        )
    return by_bin, pd.DataFrame(rows)


def small_molecule_bar(workdir: Path, args: argparse.Namespace) -> dict:
    """Train on ESOL molecules of <= 18 heavy atoms, predict the others: in/out counts and MAE."""
    esol = pd.read_csv(DATA / "esol.csv")
    heavy = np.array([Chem.MolFromSmiles(s).GetNumHeavyAtoms() for s in esol["smiles"]])
    small, rest = workdir / "esol_small.csv", workdir / "esol_rest.csv"
    esol[heavy <= 18].to_csv(small, index=False)
    esol[heavy > 18].to_csv(rest, index=False)
    run = workdir / "esol_small_run"
    train(small, "logp", run, args, split="random")
    out = workdir / "esol_rest_pred.csv"
    summary = predict_file(run, rest, out)
    scored = pd.read_csv(out)
    error = (scored["logp"] - esol.loc[heavy > 18, "logp"].to_numpy()).abs()
    inside = scored["in_domain"].astype(bool)
    return {
        "train_rows": int((heavy <= 18).sum()),
        "predicted_rows": summary.rows,
        "with_domain_columns": int(scored[["nn_similarity", "in_domain"]].notna().all(axis=1).sum()),
        "in_domain": int(inside.sum()),
        "out_of_domain": int((~inside).sum()),
        "mae_in_domain": float(error[inside].mean()),
        "mae_out_of_domain": float(error[~inside].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", default="esol,freesolv")
    parser.add_argument("--ensemble", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "biomodels_domain_bench"
    )
    parser.add_argument("--skip-bar", action="store_true", help="leave out the small-molecule bar")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(
        "| data set (scaffold split) | test RMSE | Spearman of abs error with the spread (before) "
        "| with the reported uncertainty (after) |"
    )
    print("|---|---|---|---|")
    tables = {}
    for name in args.datasets.split(","):
        run = args.workdir / f"{name}_scaffold"
        metrics = train(DATA / f"{name}.csv", TARGETS[name], run, args, split="scaffold")["test"]["mean"]
        print(
            f"| {name} | {metrics['rmse']:.3f} | {metrics['spearman_abs_error_spread']:.3f} "
            f"| {metrics['spearman_abs_error_std']:.3f} |",
            flush=True,
        )
        tables[name] = error_by_similarity(pd.read_csv(run / "predictions_test.csv"), TARGETS[name])
    for name, (by_bin, by_threshold) in tables.items():
        print(f"\n{name}: test MAE by nn_similarity to the training split\n{by_bin.to_string()}")
        print(f"{name}: MAE below / at or above each threshold\n{by_threshold.to_string(index=False)}")
    if not args.skip_bar:
        print("\nESOL, trained on <= 18 heavy atoms, predicting the rest:")
        print(json.dumps(small_molecule_bar(args.workdir, args), indent=2))


if __name__ == "__main__":
    main()
