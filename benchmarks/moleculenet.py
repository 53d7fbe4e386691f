"""MoleculeNet accuracy and training speed, with chemprop run on the same splits in the same run.

Usage (the figures quoted in the README)::

    python benchmarks/moleculenet.py --datasets esol,freesolv,bbbp,tox21 --splits random,scaffold \\
        --seeds 5 --json results/moleculenet.json
    python benchmarks/moleculenet.py --speed-only

Each (data set, model, split, seed) is one :func:`biomodels.train.run.train_run` on an 80/10/10
split. With ``--peer chemprop`` (the default) and a chemprop 2.x executable (``--chemprop PATH``,
else ``$BIOMODELS_CHEMPROP``, else ``../.peer-chemprop/bin/chemprop``), every D-MPNN run is
followed by ``chemprop train`` on the same valid molecules, with our split written as its
``--splits-file``, the same seed and epochs, and chemprop's defaults otherwise (``--chemprop-args``
adds options). Both test metrics are computed here, by the same function, from the test-row
predictions each tool wrote (ours: ``predictions_test.csv``; chemprop: ``test_predictions.csv``).
Wall time is that of our :func:`train_run` (featurisation, with an empty feature cache, training,
evaluation, saving) and of the whole ``chemprop train`` command; chemprop's start-up (its
``train --help``) is timed once and printed, so the reader can take it off.

The table shows per data set: ours and chemprop's test metric as mean +- std over seeds, the paired
difference (ours - chemprop) and in how many seeds ours was better, and the seconds per run.
Without chemprop the peer's columns say "not measured". ``--speed`` times the whole
``biomodels train`` command (defaults, 50 epochs, seed 0) on ESOL against the whole
``chemprop train`` command on the same split file, alternating ``--speed-repeats`` times, for
the ratio of the median wall times.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shlex
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from rich.console import Console
from rich.table import Table

from biomodels.train.metrics import compute_metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402  (benchmarks/peers.py, beside this script)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "molnet"
TOX21_TASKS = [
    "NR-AR",
    "NR-AR-LBD",
    "NR-AhR",
    "NR-Aromatase",
    "NR-ER",
    "NR-ER-LBD",
    "NR-PPAR-gamma",
    "SR-ARE",
    "SR-ATAD5",
    "SR-HSE",
    "SR-MMP",
    "SR-p53",
]
DATASETS = {
    "esol": ("esol.csv", ["logp"], "rmse", "regression"),
    "freesolv": ("freesolv.csv", ["freesolv"], "rmse", "regression"),
    "bbbp": ("bbbp.csv", ["p_np"], "roc_auc", "binary"),
    "tox21": ("tox21.csv", TOX21_TASKS, "roc_auc", "binary"),
    "hiv": ("hiv.csv.gz", ["HIV_active"], "roc_auc", "binary"),
}
FULL = "hiv"
"""Added to ``--datasets`` by ``--full``: 41,127 molecules, hours of CPU for both tools."""
VARIANTS = {
    "default": ({}, []),
    "descriptors": ({"extra_features": "rdkit2d"}, ["--molecule-featurizers", "v1_rdkit_2d_normalized"]),
}
"""Per variant: our parameters and chemprop's options that give both tools the same kind of input."""
LOWER_IS_BETTER = {"rmse", "mae"}
BARS = {
    ("esol", "random"): 0.60,
    ("freesolv", "random"): 1.15,
    ("bbbp", "random"): 0.91,
    ("tox21", "random"): 0.84,
}


@contextlib.contextmanager
def cold_cache(folder: Path) -> Iterator[None]:
    """Featurise into an empty cache inside: every run pays for its featurisation, as chemprop's."""
    before = os.environ.get("BIOMODELS_CACHE_DIR")
    os.environ["BIOMODELS_CACHE_DIR"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("BIOMODELS_CACHE_DIR", None)
        else:
            os.environ["BIOMODELS_CACHE_DIR"] = before


def run_split(run_dir: Path) -> dict[str, np.ndarray]:
    """The run's ``splits.json``: train / val / test indices into its valid molecules."""
    split = json.loads((run_dir / "splits.json").read_text())
    return {name: np.asarray(split.get(name, []), dtype=np.int64) for name in ("train", "val", "test")}


def truth_and_prediction(frame: pd.DataFrame, targets: Sequence[str]) -> tuple[list[str], list[str]]:
    """The truth and prediction columns of a run's ``predictions_<partition>.csv``.

    Truth is ``<target>_true`` and the prediction ``<target>``, or (older runs) truth ``<target>``
    and the prediction ``<target>_pred``.
    """
    if all(f"{t}_true" in frame for t in targets):
        return [f"{t}_true" for t in targets], list(targets)
    return list(targets), [f"{t}_pred" for t in targets]


def valid_molecules(run_dir: Path, split: dict[str, np.ndarray], targets: Sequence[str]) -> pd.DataFrame:
    """The run's valid molecules in the order its split indexes them: ``row, smiles`` and targets.

    Rebuilt from the run's ``predictions_{train,val,test}.csv``: row ``k`` of a partition's file
    is molecule ``split[partition][k]``, and ``row`` is its record in the data file.
    """
    parts = []
    for name in ("train", "val", "test"):
        indices = split[name]
        if not len(indices):
            continue
        frame = pd.read_csv(run_dir / f"predictions_{name}.csv")
        if len(frame) != len(indices):
            raise ValueError(f"predictions_{name}.csv has {len(frame)} rows for {len(indices)} indices")
        truth, _ = truth_and_prediction(frame, targets)
        part = frame[["row", "smiles", *truth]].set_axis(["row", "smiles", *targets], axis=1)
        parts.append(part.set_index(pd.Index(indices)))
    valid = pd.concat(parts).sort_index()
    if not np.array_equal(valid.index.to_numpy(), np.arange(len(valid))):
        raise ValueError("the split does not cover the valid molecules 0..n-1")
    return valid.reset_index(drop=True)


def score(task: str, metric: str, truth: np.ndarray, prediction: np.ndarray) -> float:
    """The mean test metric over tasks; the same function scores ours and chemprop's predictions."""
    return float(compute_metrics(task, truth, prediction)["mean"][metric])


def score_ours(run_dir: Path, targets: Sequence[str], task: str, metric: str) -> float:
    """Our test metric, from the run's ``predictions_test.csv``."""
    frame = pd.read_csv(run_dir / "predictions_test.csv")
    truth, prediction = truth_and_prediction(frame, targets)
    return score(task, metric, frame[truth].to_numpy(float), frame[prediction].to_numpy(float))


def run_chemprop(
    executable: Path,
    valid: pd.DataFrame,
    split: dict[str, np.ndarray],
    targets: Sequence[str],
    task: str,
    metric: str,
    seed: int,
    epochs: int,
    folder: Path,
    extra_args: Sequence[str] = (),
    threads: int | None = None,
) -> dict:
    """``chemprop train`` on the same valid molecules and split; its test metric, scored here."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data.csv"
    valid[["smiles", *targets]].to_csv(data, index=False)
    splits = peers.write_splits_file(folder / "splits.json", [split])
    command = peers.chemprop_train_command(
        executable,
        data,
        targets,
        folder / "out",
        task=task,
        splits_file=splits,
        seed=seed,
        epochs=epochs,
        extra_args=extra_args,
    )
    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)} if threads else None
    timed = peers.run_timed(command, folder / "chemprop.log", env=env)
    predictions = peers.chemprop_test_predictions(folder / "out")
    test = split["test"]
    expected = valid["smiles"].to_numpy()[test]
    if len(predictions) != len(test) or not (predictions["smiles"].to_numpy() == expected).all():
        raise ValueError("chemprop's test predictions are not the split's test molecules in order")
    truth = valid[list(targets)].to_numpy(float)[test]
    value = score(task, metric, truth, predictions[list(targets)].to_numpy(float))
    return {"value": value, "seconds": timed.seconds, "cpu_seconds": timed.cpu_seconds}


def _cpu_self() -> float:
    """CPU seconds of this process and of its reaped children (featurisation pool workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def add_dataset(path: Path) -> str:
    """Register a MoleculeNet-style CSV that the project does not ship (``--dataset-file``).

    Its targets are every column but the SMILES one (``smiles``, ``mol`` or the first); a data set
    whose labels are all 0/1 is binary and scored by ROC-AUC, any other by RMSE. Returns its name
    (the file's stem).
    """
    frame = pd.read_csv(path)
    smiles = next((c for c in frame.columns if c.lower() in ("smiles", "mol")), frame.columns[0])
    targets = [c for c in frame.columns if c != smiles]
    labels = frame[targets].to_numpy(float)
    binary = bool(np.isin(labels[~np.isnan(labels)], (0.0, 1.0)).all())
    DATASETS[path.stem] = (
        path.resolve(),
        targets,
        "roc_auc" if binary else "rmse",
        "binary" if binary else "regression",
    )
    return path.stem


def run_accuracy(
    args: argparse.Namespace, console: Console, chemprop: Path | None, output: dict
) -> list[dict]:
    """Every (variant, data set, model, split, seed): ours, then chemprop on the same split.

    Rows are appended to ``output["accuracy"]``, which is rewritten to ``--json`` after each one,
    so a long run that is stopped keeps what it measured.
    """
    results = output.setdefault("accuracy", [])
    datasets = [name for name in args.datasets.split(",") if name]
    datasets += [FULL] if args.full and FULL not in datasets else []
    datasets += [add_dataset(path) for path in args.dataset_file]
    datasets = list(dict.fromkeys(datasets))  # a --dataset-file also named in --datasets runs once
    for variant in args.variants.split(","):
        ours_params, chemprop_variant_args = VARIANTS[variant]
        params: dict[str, Any] = {**ours_params, **args.params}
        if args.extra_features:
            params["extra_features"] = args.extra_features
        chemprop_args = [*chemprop_variant_args, *args.chemprop_args]
        for dataset in datasets:
            for model in args.models.split(","):
                for split in args.splits.split(","):
                    for seed in range(args.first_seed, args.first_seed + args.seeds):
                        run = {"dataset": dataset, "variant": variant, "model": model, "split": split}
                        row = run_pair(args, console, chemprop, {**run, "seed": seed}, params, chemprop_args)
                        results.append(row)
                        if args.json:
                            args.json.write_text(json.dumps(output, indent=2, default=str))
    return results


def run_pair(
    args: argparse.Namespace,
    console: Console,
    chemprop: Path | None,
    run: dict[str, Any],
    params: dict[str, Any],
    chemprop_args: list[str],
) -> dict:
    """One seed of one data set: our :func:`train_run`, then ``chemprop train`` on its split."""
    file, targets, metric, task = DATASETS[run["dataset"]]
    file = DATA / file
    name = "-".join(str(run[key]) for key in ("dataset", "variant", "model", "split", "seed"))
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(args.runs or tmp) / name
        cpu = _cpu_self()
        with cold_cache(Path(tmp) / "cache"):
            result = peers.train_ours(
                file,
                targets,
                run_dir,
                model=run["model"],
                split=run["split"],
                seed=run["seed"],
                epochs=args.epochs,
                params=params,
            )
        cpu = _cpu_self() - cpu
        value = score_ours(Path(result.run_dir), targets, task, metric)
        reported = result.metrics["test"]["mean"][metric]
        if not np.isclose(value, reported, rtol=1e-4, equal_nan=True):
            console.print(f"[red]{name}: test {metric} {value} from the file, {reported} reported")
        row = {
            **run,
            "epochs": args.epochs,
            "params": params,
            "metric": metric,
            "value": value,
            "seconds": result.seconds,
            "cpu_seconds": cpu,
            "chemprop": None,
        }
        if chemprop is not None and run["model"] == "dmpnn":
            split_indices = run_split(Path(result.run_dir))
            valid = valid_molecules(Path(result.run_dir), split_indices, targets)
            row["chemprop"] = run_chemprop(
                chemprop,
                valid,
                split_indices,
                targets,
                task,
                metric,
                run["seed"],
                args.epochs,
                Path(args.runs or tmp) / f"{name}-chemprop",
                chemprop_args,
                args.threads,
            )
    peer = row["chemprop"]
    console.print(
        f"{name}: {metric} ours {value:.4f} ({result.seconds:.0f} s), chemprop "
        + (f"{peer['value']:.4f} ({peer['seconds']:.0f} s)" if peer else peers.NOT_MEASURED)
    )
    return row


def summarise(results: list[dict]) -> list[dict]:
    """Per (data set, model, split): both tools' mean and std, the paired difference, the wins."""
    groups: dict[tuple, list[dict]] = {}
    for row in results:
        key = (
            row["dataset"],
            row.get("variant", "default"),
            row["model"],
            row["split"],
            row["metric"],
            row.get("epochs"),
            str(row.get("params")),
        )
        groups.setdefault(key, []).append(row)
    summary = []
    for (dataset, variant, model, split, metric, _, _), rows in groups.items():
        ours = np.array([r["value"] for r in rows])
        entry: dict[str, Any] = {
            "dataset": dataset,
            "variant": variant,
            "model": model,
            "split": split,
            "metric": metric,
            "seeds": len(rows),
            "ours_mean": float(ours.mean()),
            "ours_std": float(ours.std()),
            "ours_seconds": float(np.mean([r["seconds"] for r in rows])),
            "ours_cpu_seconds": float(np.mean([r["cpu_seconds"] for r in rows])),
            "chemprop_seeds": 0,
        }
        paired = [r for r in rows if r.get("chemprop")]
        if paired:
            mine = np.array([r["value"] for r in paired])
            theirs = np.array([r["chemprop"]["value"] for r in paired])
            difference = mine - theirs
            better = difference < 0 if metric in LOWER_IS_BETTER else difference > 0
            entry.update(
                chemprop_seeds=len(paired),
                chemprop_mean=float(theirs.mean()),
                chemprop_std=float(theirs.std()),
                difference_mean=float(difference.mean()),
                ours_better=int(better.sum()),
                chemprop_seconds=float(np.mean([r["chemprop"]["seconds"] for r in paired])),
                chemprop_cpu_seconds=float(np.mean([r["chemprop"]["cpu_seconds"] for r in paired])),
                cpu_ratio=float(
                    np.sum([r["chemprop"]["cpu_seconds"] for r in paired])
                    / np.sum([r["cpu_seconds"] for r in paired])
                ),
                speed_ratio=float(
                    np.sum([r["chemprop"]["seconds"] for r in paired])
                    / np.sum([r["seconds"] for r in paired])
                ),
            )
        summary.append(entry)
    return summary


TABLE_COLUMNS = (
    "data set",
    "variant",
    "model",
    "split",
    "metric",
    "seeds",
    "ours",
    "chemprop",
    "ours - chemprop",
    "ours better",
    "bar",
    "ours s/run",
    "chemprop s/run",
    "chemprop s / ours s",
    "ours CPU s/run",
    "chemprop CPU s/run",
    "chemprop CPU / ours CPU",
)


def table_rows(summary: list[dict]) -> list[list[str]]:
    """One row of text per summary entry; the peer's cells say "not measured" when it did not run."""
    rows = []
    for entry in summary:
        metric, paired = entry["metric"], entry["chemprop_seeds"] > 0
        bar = BARS.get((entry["dataset"], entry["split"]))
        if bar is None:
            bar_text = ""
        else:
            lower = metric in LOWER_IS_BETTER
            met = entry["ours_mean"] <= bar if lower else entry["ours_mean"] >= bar
            bar_text = f"{'<=' if lower else '>='} {bar} {'ok' if met else 'MISSED'}"
        rows.append(
            [
                entry["dataset"],
                entry.get("variant", "default"),
                entry["model"],
                entry["split"],
                metric,
                str(entry["seeds"]),
                f"{entry['ours_mean']:.3f} +- {entry['ours_std']:.3f}",
                f"{entry['chemprop_mean']:.3f} +- {entry['chemprop_std']:.3f}"
                if paired
                else peers.NOT_MEASURED,
                f"{entry['difference_mean']:+.3f}" if paired else peers.NOT_MEASURED,
                f"{entry['ours_better']}/{entry['chemprop_seeds']}" if paired else peers.NOT_MEASURED,
                bar_text,
                f"{entry['ours_seconds']:.0f}",
                peers.peer_text(entry.get("chemprop_seconds"), "{:.0f}"),
                peers.peer_text(entry.get("speed_ratio"), "{:.2f}"),
                f"{entry['ours_cpu_seconds']:.0f}",
                peers.peer_text(entry.get("chemprop_cpu_seconds"), "{:.0f}"),
                peers.peer_text(entry.get("cpu_ratio"), "{:.2f}"),
            ]
        )
    return rows


def markdown_table(summary: list[dict]) -> str:
    """The comparison as a Markdown table (for the README)."""
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in table_rows(summary)])


def accuracy_table(summary: list[dict], startup: float | None = None) -> Table:
    title = "MoleculeNet test metrics (mean +- std over seeds, 80/10/10), chemprop on the same splits"
    if startup is not None:
        title += f"; chemprop's start-up ({startup:.1f} s) is inside its s/run"
    table = Table(title=title)
    for column in TABLE_COLUMNS:
        table.add_column(column)
    for row in table_rows(summary):
        table.add_row(*row)
    return table


def run_speed(console: Console, chemprop: Path | None, args: argparse.Namespace) -> dict:
    """Whole-command training wall time on ESOL, 50 epochs, seed 0, the same split file for both:
    ``biomodels train`` (defaults, start-up, featurisation, run directory and plots included)
    against ``chemprop train`` (its defaults), in this run, alternating ``--speed-repeats`` times
    (ours, chemprop, ours, chemprop...) so that both see the same state of the machine. The ratio
    is that of the medians; every run's seconds are kept."""
    from biomodels.data.splits import random_split

    epochs, data = 50, DATA / "esol.csv"  # every ESOL SMILES parses, so file rows are the indices
    split = random_split(len(pd.read_csv(data)), seed=0)
    env = {"OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    runs: dict[str, list[peers.Timed]] = {"ours": [], "chemprop": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        splits = peers.write_splits_file(
            folder / "splits.json", [{p: getattr(split, p) for p in ("train", "val", "test")}]
        )
        for repeat in range(args.speed_repeats):
            ours = [sys.executable, "-m", "biomodels.cli.main", "train", data, "--target", "logp"]
            ours += ["--out", folder / f"ours-{repeat}", "--epochs", str(epochs), "--seed", "0"]
            ours += ["--split-file", splits]
            with cold_cache(folder / f"cache-{repeat}"):
                runs["ours"].append(peers.run_timed(ours, folder / "ours.log", env=env))
            if chemprop is not None:
                command = peers.chemprop_train_command(
                    chemprop, data, ["logp"], folder / f"chemprop-{repeat}", splits_file=splits, seed=0,
                    epochs=epochs, extra_args=["--accelerator", "cpu", *args.chemprop_args],
                )  # fmt: skip
                runs["chemprop"].append(peers.run_timed(command, folder / "chemprop.log", env=env))

    def median(tool: str, field: str) -> float | None:
        values = [getattr(timed, field) for timed in runs[tool]]
        return float(np.median(values)) if values else None

    speed: dict[str, Any] = {
        "epochs": epochs,
        "repeats": args.speed_repeats,
        "seconds": median("ours", "seconds"),
        "cpu_seconds": median("ours", "cpu_seconds"),
        "chemprop_seconds": median("chemprop", "seconds"),
        "chemprop_cpu_seconds": median("chemprop", "cpu_seconds"),
        "runs": {tool: [t.seconds for t in timed] for tool, timed in runs.items()},
    }
    ratio = speed["seconds"] / speed["chemprop_seconds"] if speed["chemprop_seconds"] else None
    speed["ours_over_chemprop"] = ratio
    title = f"ESOL training, {epochs} epochs, seed 0, same split file, whole commands, CPU"
    table_out = Table(title=f"{title}, median of {args.speed_repeats} alternating runs")
    columns = ("biomodels train s", "chemprop train s", "biomodels / chemprop", "CPU s ours / chemprop")
    for column in (*columns, "every run s, ours / chemprop"):
        table_out.add_column(column)
    every = " ".join(f"{t:.1f}" for t in speed["runs"]["ours"]) + " / "
    every += " ".join(f"{t:.1f}" for t in speed["runs"]["chemprop"]) or "-"
    table_out.add_row(
        f"{speed['seconds']:.1f}",
        peers.peer_text(speed["chemprop_seconds"], "{:.1f}"),
        peers.peer_text(ratio, "{:.2f}x"),
        f"{speed['cpu_seconds']:.0f} / " + peers.peer_text(speed["chemprop_cpu_seconds"], "{:.0f}"),
        every,
    )
    console.print(table_out)
    return speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="esol,freesolv,bbbp,tox21")
    parser.add_argument("--models", default="dmpnn")
    parser.add_argument("--splits", default="random")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds run are first-seed .. first-seed + seeds - 1 (split one study over processes; "
        "--summarise pools their JSON files)",
    )
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument(
        "--variants",
        default="default",
        help="default (both tools at their defaults) and/or descriptors (ours rdkit2d, chemprop "
        "v1_rdkit_2d_normalized), comma-separated",
    )
    parser.add_argument("--full", action="store_true", help=f"add {FULL} (hours of CPU)")
    parser.add_argument(
        "--dataset-file",
        type=Path,
        action="append",
        default=[],
        help="also a CSV this project does not ship (SMILES + label columns), named by its stem",
    )
    parser.add_argument(
        "--extra-features",
        default="",
        help="molecule features added to our head only, e.g. morgan "
        "(--variants descriptors gives both tools rdkit2d)",
    )
    parser.add_argument(
        "--params",
        type=json.loads,
        default={},
        help='our model parameters as JSON, e.g. \'{"readout": "norm"}\'',
    )
    parser.add_argument("--peer", choices=peers.PEERS, default="chemprop", help="peer run on the same splits")
    parser.add_argument("--chemprop", default=None, help="chemprop executable (default: see the module doc)")
    parser.add_argument(
        "--chemprop-args", type=shlex.split, default=[], help="extra chemprop train options, one string"
    )
    parser.add_argument("--speed", action="store_true", help="also run the training-speed benchmark")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument(
        "--speed-repeats", type=int, default=3, help="alternating runs of each tool in the speed benchmark"
    )
    parser.add_argument("--runs", type=Path, default=None, help="keep run directories here")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--summarise",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="only print the tables of runs saved by --json (rows of several files pooled)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console(width=None if sys.stdout.isatty() else 200)
    if args.summarise:
        saved = [json.loads(path.read_text()) for path in args.summarise]
        summary = summarise([row for output in saved for row in output.get("accuracy", [])])
        startups = [o["chemprop"]["startup_seconds"] for o in saved if o.get("chemprop")]
        console.print(accuracy_table(summary, max(startups) if startups else None))
        print(markdown_table(summary), flush=True)
        return
    chemprop = peers.find_chemprop(args.chemprop, args.peer)
    output: dict = {"options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    if chemprop is None:
        console.print(f"peer {args.peer}: no chemprop executable found; its columns say not measured")
        output["chemprop"] = None
    else:
        with tempfile.TemporaryDirectory() as tmp:
            startup = peers.run_timed([chemprop, "train", "--help"], Path(tmp) / "help.log").seconds
        output["chemprop"] = {
            "path": str(chemprop),
            "version": peers.chemprop_version(chemprop),
            "startup_seconds": startup,
        }
        console.print(f"chemprop {output['chemprop']['version']} at {chemprop} (start-up {startup:.1f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
    if not args.speed_only:
        run_accuracy(args, console, chemprop, output)
        output["summary"] = summarise(output["accuracy"])
        console.print(
            accuracy_table(output["summary"], output["chemprop"] and output["chemprop"]["startup_seconds"])
        )
    if args.speed or args.speed_only:
        output["speed"] = run_speed(console, chemprop, args)
    if args.json:
        args.json.write_text(json.dumps(output, indent=2, default=str))


if __name__ == "__main__":
    main()
