"""Research pipeline: train and evaluate every diagnostic model on both medical data sets, one report.

Trains, into ``OUT/<data set>/<model>/`` run directories (the common layout of
:mod:`biomodels.train.run`, plots drawn by :func:`biomodels.report.report_run`):

- PneumoniaMNIST: pixel logistic regression, small CNN, ResNet-18, convolutional autoencoder
  (normal images only, scoring pneumonia) and the conditional GAN (judged by the CNN);
- Symptom2Disease: bag-of-words logistic regression, RNN and Transformer;

then writes ``OUT/report.md`` with the test metrics and the plots of every run::

    python pipelines/diagnostics_report.py --out runs/diagnostics --seed 0 --threads 1
    python pipelines/diagnostics_report.py --out /tmp/quick --quick   # 1-2 epochs, a smoke run
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

import torch

from biomodels.diagnostics.data import TEXT_SIZES
from biomodels.report import report_run
from biomodels.train.run import TrainRunConfig, train_run
from biomodels.utils import read_json

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "medical"
IMAGE_RUNS = ("pixel-logreg", "cnn", "resnet18", "autoencoder", "gan")
TEXT_RUNS = ("bow-logreg", "rnn", "transformer")
PLOTS = ("plots/roc_pr.png", "plots/confusion_matrix.png", "plots/anomaly_roc_pr.png",
         "plots/anomaly_scores.png", "plots/training_curves.png", "model/samples.png")  # fmt: skip
HEADLINE = ("accuracy", "f1_macro", "precision_macro", "recall_macro", "roc_auc", "pr_auc", "roc_auc_ovr",
            "pr_auc_ovr", "anomaly_roc_auc", "reconstruction_mse_normal", "reconstruction_mse_anomalous",
            "class_consistency_min", "frechet_generated", "frechet_train")  # fmt: skip


def run_all(
    data_dir: Path, out: Path, seed: int, quick: bool, resnet_width: int
) -> dict[str, dict[str, Any]]:
    """Train every model and draw its plots; returns ``{"<data set>/<model>": run record}`` (the
    run's ``config.json`` and ``metrics.json``)."""
    epochs = 1 if quick else None
    records = {}
    runs = [("pneumonia", data_dir / "pneumoniamnist.npz", m) for m in IMAGE_RUNS]
    runs += [("symptoms", data_dir / "symptom2disease.csv", m) for m in TEXT_RUNS]
    for dataset, path, model in runs:
        params: dict[str, Any] = {"width": resnet_width} if model == "resnet18" else {}
        if model == "gan":
            params["judge"] = str(out / "pneumonia" / "cnn")
        options = (
            {"class_names": ["normal", "pneumonia"]} if dataset == "pneumonia" else {"sizes": TEXT_SIZES}
        )
        config = TrainRunConfig(
            data=str(path),
            model=model,
            split="stratified",
            seed=seed,
            epochs=epochs,
            params=params,
            **options,
        )
        run = train_run(config, out / dataset / model).run_dir
        report_run(run)
        records[f"{dataset}/{model}"] = {
            "config": read_json(run / "config.json"),
            "metrics": read_json(run / "metrics.json"),
        }
    return records


def write_report(records: dict[str, dict[str, Any]], out: Path) -> Path:
    """``out/report.md``: a test-metrics table per data set, then each run's plots."""
    lines = ["# Diagnostic models: test-set report", ""]
    for dataset in ("pneumonia", "symptoms"):
        runs = {k.split("/")[1]: v for k, v in records.items() if k.startswith(dataset + "/")}
        first = next(iter(runs.values()))
        data = first["metrics"]["data"]
        lines += [
            f"## {dataset}: `{first['config']['data']}`",
            "",
            f"Sizes {data['sizes']}; skipped rows {data['skipped']}; seed {first['config']['seed']}.",
            "",
        ]
        metrics = [m for m in HEADLINE if any(m in r["metrics"]["test"] for r in runs.values())]
        lines += ["| model | " + " | ".join(metrics) + " | run s |", "|---" * (len(metrics) + 2) + "|"]
        for model, record in runs.items():
            cells = [_fmt(record["metrics"]["test"].get(m)) for m in metrics]
            lines.append(f"| {model} | " + " | ".join(cells) + f" | {record['metrics']['seconds']:.1f} |")
        lines.append("")
        for model in runs:
            folder = out / dataset / model
            plots = [p for p in PLOTS if (folder / p).is_file()]
            if plots:
                lines += [f"### {dataset} / {model}", ""]
                lines += [f"![{model} {Path(p).name}]({os.path.relpath(folder / p, out)})" for p in plots]
                lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _fmt(value: Any) -> str:
    return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/diagnostics"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--resnet-width", type=int, default=32, help="ResNet-18 first-stage width (64: original)"
    )
    parser.add_argument("--quick", action="store_true", help="one epoch per model: a smoke run")
    parser.add_argument("--threads", type=int, help="torch threads (1 is fastest on a small busy machine)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    records = run_all(args.data, args.out, args.seed, args.quick, args.resnet_width)
    print(f"report: {write_report(records, args.out)}")


if __name__ == "__main__":
    main()
