"""Quality and CPU time of the diagnostic models on PneumoniaMNIST and Symptom2Disease, over seeds.

Usage::

    python benchmarks/diagnostics.py --seeds 5 --json diagnostics.json [--jobs 2] [--threads 1]

Per seed: on PneumoniaMNIST (its shipped train / val / test split) the pixel logistic regression,
the small CNN (optionally ResNet-18), the convolutional autoencoder (trained on normal images,
scoring pneumonia) and the conditional GAN (judged by that seed's CNN); on Symptom2Disease (a
stratified split with 20 % test, seeded) the bag-of-words logistic regression, the RNN and the
Transformer. Every model is read, split, fitted on the training partition (the validation
partition chooses the best epoch of the neural models) and scored on the test partition through
the estimator protocol, as ``biomodels diagnostics train`` does. The table shows mean +- std
over seeds, the distance of each text model from the baseline, wall and CPU seconds of each
fit, and whether the quality bars are met.

``--jobs N`` runs N (seed, data set) tasks at once in separate processes, each with ``--threads``
torch threads; on a small shared machine one thread per process is much faster for these small
models than several threads fighting for the cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from biomodels.diagnostics.data import TEXT_SIZES
from biomodels.train.estimator import Estimator, TrainingData
from biomodels.train.run import TrainRunConfig

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "medical"
IMAGE_MODELS = ("pixel-logreg", "cnn", "autoencoder", "gan")
TEXT_MODELS = ("bow-logreg", "rnn", "transformer")
DEFAULT_MODELS = IMAGE_MODELS + TEXT_MODELS
# (model, metric, bar): the acceptance bars of the issue.
BARS = [
    ("cnn", "roc_auc", 0.96), ("cnn", "accuracy", 0.88),
    ("resnet18", "roc_auc", 0.96), ("resnet18", "accuracy", 0.88),
    ("rnn", "f1_macro", 0.95), ("transformer", "f1_macro", 0.95),
    ("gan", "class_consistency_min", 0.80),
]  # fmt: skip
SHOWN = {
    "pixel-logreg": ("accuracy", "roc_auc", "pr_auc", "f1_macro"),
    "cnn": ("accuracy", "roc_auc", "pr_auc", "f1_macro"),
    "resnet18": ("accuracy", "roc_auc", "pr_auc", "f1_macro"),
    "autoencoder": (
        "anomaly_roc_auc",
        "mse_roc_auc",
        "reconstruction_mse_normal",
        "reconstruction_mse_anomalous",
    ),
    "gan": ("consistency_normal", "consistency_pneumonia", "frechet_generated", "frechet_train"),
    "bow-logreg": ("accuracy", "f1_macro", "roc_auc_ovr"),
    "rnn": ("accuracy", "f1_macro", "roc_auc_ovr", "f1_minus_baseline"),
    "transformer": ("accuracy", "f1_macro", "roc_auc_ovr", "f1_minus_baseline"),
}
PNEUMONIA_CLASSES = ["normal", "pneumonia"]


def run_group(
    seed: int, group: str, data_dir: Path, models: list[str], threads: int, resnet_width: int
) -> dict[str, Any]:
    """Fit and score one seed's image or text models; returns ``{model: {metric: value}}``.

    Each model is built, its data read and split, fitted (``fit(train, val=val)``) and scored on
    the test partition exactly as ``biomodels diagnostics train`` does (``train_run``), without
    writing run directories. The GAN is judged by this seed's CNN (saved to a temporary folder
    and passed as its ``judge``).
    """
    torch.set_num_threads(threads)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if group == "image":
            path, options = data_dir / "pneumoniamnist.npz", {"class_names": PNEUMONIA_CLASSES}
        else:
            path, options = data_dir / "symptom2disease.csv", {"sizes": TEXT_SIZES}
        data: TrainingData | None = None
        judge: Path | None = None
        for name in sorted(models, key=lambda m: m == "gan"):  # the GAN needs the CNN as judge
            params: dict[str, Any] = {"width": resnet_width} if name == "resnet18" else {}
            if name == "gan":
                if judge is None:
                    raise SystemExit(
                        "the gan benchmark needs 'cnn' in --models (it judges the generated images)"
                    )
                params["judge"] = str(judge)
            config = TrainRunConfig(
                data=str(path), model=name, split="stratified", seed=seed, params=params, **options
            )
            model = config.build_model()
            data = data if data is not None else model.training_data(config)
            scores, timing = _fit_and_score(model, data)
            if name == "cnn":
                judge = model.save(Path(tmp) / "cnn")
            results[name] = {**_flatten(scores), **timing}
    for name in ("rnn", "transformer"):
        if name in results and "bow-logreg" in results:
            results[name]["f1_minus_baseline"] = results[name]["f1_macro"] - results["bow-logreg"]["f1_macro"]
    logging.getLogger(__name__).info("seed %d, %s models done", seed, group)
    return results


def _fit_and_score(model: Estimator, data: TrainingData) -> tuple[dict[str, Any], dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(data.train, val=data.val)
    timing = {"fit_seconds": time.perf_counter() - wall, "fit_cpu_seconds": time.process_time() - cpu}
    return model.evaluate(data.test), timing


def _flatten(scores: dict[str, Any]) -> dict[str, float]:
    flat = {k: float(v) for k, v in scores.items() if isinstance(v, (int, float))}
    for cls, value in scores.get("class_consistency", {}).items():
        flat[f"consistency_{cls}"] = float(value)
    return flat


def summarise(per_seed: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """``{model: {metric: {"mean", "std", "values"}}}`` over seeds (std with ddof=1)."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for model in per_seed[0]:
        summary[model] = {}
        for metric in per_seed[0][model]:
            values = np.array([seed[model][metric] for seed in per_seed], dtype=float)
            std = float(values.std(ddof=1)) if len(values) > 1 else math.nan
            summary[model][metric] = {"mean": float(values.mean()), "std": std, "values": values.tolist()}
    return summary


def bar_checks(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each applicable bar with the mean and worst seed, and whether the mean meets it."""
    checks = []
    for model, metric, bar in BARS:
        if model in summary and metric in summary[model]:
            stats = summary[model][metric]
            checks.append(
                {
                    "model": model,
                    "metric": metric,
                    "bar": bar,
                    "mean": stats["mean"],
                    "worst": min(stats["values"]),
                    "passed": stats["mean"] >= bar,
                }
            )
    return checks


def format_table(summary: dict[str, Any], n_seeds: int) -> str:
    """A Markdown table: one row per model, shown metrics and fit times as mean +- std."""
    lines = [
        f"| model | metrics (mean ± std over {n_seeds} seeds) | fit wall s | fit CPU s |",
        "|---|---|---|---|",
    ]
    for model, stats in summary.items():
        shown = [m for m in SHOWN.get(model, ()) if m in stats]
        cells = "; ".join(f"{m} {_pm(stats[m])}" for m in shown)
        lines.append(
            f"| {model} | {cells} | {_pm(stats['fit_seconds'], 1)} | {_pm(stats['fit_cpu_seconds'], 1)} |"
        )
    return "\n".join(lines)


def _pm(stats: dict[str, float], digits: int = 3) -> str:
    std = "" if math.isnan(stats["std"]) else f" ± {stats['std']:.{digits}f}"
    return f"{stats['mean']:.{digits}f}{std}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0 .. N-1)")
    parser.add_argument("--json", type=Path, help="write per-seed results and the summary here")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the two data files")
    parser.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated; default {','.join(DEFAULT_MODELS)} (resnet18 available)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="seeds run in parallel processes")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per process")
    parser.add_argument("--resnet-width", type=int, default=16, help="first-stage width of resnet18")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger(__name__).setLevel(logging.INFO)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    started, cpu = time.perf_counter(), time.process_time()
    groups = {
        "image": [m for m in models if m not in TEXT_MODELS],
        "text": [m for m in models if m in TEXT_MODELS],
    }
    # one task per (seed, data set), the long image tasks first, so parallel workers stay busy
    tasks = [
        (seed, group, args.data, groups[group], args.threads, args.resnet_width)
        for group in ("image", "text")
        for seed in range(args.seeds)
        if groups[group]
    ]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            outputs = list(pool.map(run_group, *zip(*tasks, strict=True)))
    else:
        outputs = [run_group(*task) for task in tasks]
    per_seed: list[dict[str, Any]] = [{} for _ in range(args.seeds)]
    for task, output in zip(tasks, outputs, strict=True):
        per_seed[task[0]].update(output)
    total = time.perf_counter() - started
    summary = summarise(per_seed)
    checks = bar_checks(summary)
    print(format_table(summary, args.seeds))
    print()
    for check in checks:
        verdict = "PASS" if check["passed"] else "FAIL"
        print(
            f"{verdict} {check['model']} {check['metric']} >= {check['bar']}: mean {check['mean']:.3f}, "
            f"worst seed {check['worst']:.3f}"
        )
    fit_cpu = sum(stats["fit_cpu_seconds"]["mean"] for stats in summary.values()) * args.seeds
    print(
        f"\ntotal wall time {total:.0f} s ({args.jobs} process(es) x {args.threads} thread(s)); "
        f"CPU time of the fits {fit_cpu:.0f} s"
    )
    if args.json:
        record = {
            "seeds": args.seeds,
            "models": models,
            "jobs": args.jobs,
            "threads": args.threads,
            "total_seconds": total,
            "summary": summary,
            "bars": checks,
            "per_seed": per_seed,
            "main_process_cpu_seconds": time.process_time() - cpu,
        }
        args.json.write_text(json.dumps(record, indent=2, allow_nan=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
