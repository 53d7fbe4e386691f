"""Peer tools run in the same benchmark run as biomodels: chemprop 2.x through its command line.

The benchmarks never divide by a stored peer figure. When the peer's executable is found, it is
run on the same data, split, seed and epochs as biomodels, and its wall time and its predictions
come from that run; when it is not found, its columns say "not measured".

chemprop is found at ``--chemprop PATH``, else ``$BIOMODELS_CHEMPROP``, else
``../.peer-chemprop/bin/chemprop`` next to the repository (``shared/tools/chemprop-venv.sh``
builds that virtual environment).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
NOT_MEASURED = "not measured"
PEERS = ("chemprop", "none")


def train_ours(
    data: str | Path,
    targets: list[str],
    out: str | Path,
    *,
    model: str = "dmpnn",
    split: str = "random",
    seed: int = 0,
    epochs: int = 50,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """The benchmarks' one call into the training API: ``train_run``; returns its result.

    ``params`` holds the hyperparameters (``extra_features``, ``ensemble``, ``hidden``...): the
    ``params`` field of :class:`~biomodels.train.run.TrainRunConfig`, or its own fields in the
    form before that field existed.
    """
    from biomodels.train.run import TrainRunConfig, train_run

    common = {"data": str(data), "model": model, "targets": targets, "split": split, "seed": seed}
    if "params" in {f.name for f in fields(TrainRunConfig)}:
        config = TrainRunConfig(**common, epochs=epochs, params=dict(params or {}))
    else:
        config = TrainRunConfig(**common, epochs=epochs, **dict(params or {}))
    return train_run(config, out)


def default_chemprop() -> Path | None:
    """``$BIOMODELS_CHEMPROP``, else ``../.peer-chemprop/bin/chemprop`` beside the repository."""
    env = os.environ.get("BIOMODELS_CHEMPROP")
    return Path(env) if env else ROOT.parent / ".peer-chemprop" / "bin" / "chemprop"


def find_chemprop(path: str | Path | None = None, peer: str = "chemprop") -> Path | None:
    """The chemprop executable to run, or None when ``peer`` is "none" or it is not there."""
    if peer == "none":
        return None
    candidate = Path(path) if path else default_chemprop()
    if candidate is None or not candidate.is_file() or not os.access(candidate, os.X_OK):
        return None
    return candidate


def chemprop_version(executable: Path) -> str:
    """The chemprop package version of the executable's environment."""
    python = executable.parent / "python"
    done = subprocess.run(
        [str(python), "-c", "import chemprop; print(chemprop.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def write_splits_file(path: str | Path, splits: Sequence[Mapping[str, Sequence[int] | np.ndarray]]) -> Path:
    """Write chemprop 2.x's ``--splits-file``: a JSON list of ``{"train", "val", "test"}`` index lists.

    One dictionary per replicate; the indices are rows of the data file given to chemprop.
    """
    path = Path(path)
    payload = [{name: [int(i) for i in split[name]] for name in ("train", "val", "test")} for split in splits]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))
    return path


@dataclass
class Timed:
    """One peer command: its wall time, the CPU time of its process tree, its exit code."""

    command: list[str]
    seconds: float
    cpu_seconds: float
    returncode: int


def run_timed(
    command: Sequence[str], log: str | Path, env: Mapping[str, str] | None = None, check: bool = True
) -> Timed:
    """Run ``command`` with its output in ``log``; wall time of the whole command and its CPU time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    with open(log, "w") as handle:
        done = subprocess.run(
            [str(c) for c in command],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            check=False,
        )
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and done.returncode:
        tail = Path(log).read_text()[-2000:]
        raise RuntimeError(f"{Path(command[0]).name} {command[1]} failed ({done.returncode}): {tail}")
    return Timed(
        [str(c) for c in command], seconds, usage.ru_utime + usage.ru_stime - cpu_before, done.returncode
    )


def chemprop_train_command(
    executable: Path,
    data: Path,
    targets: Sequence[str],
    out_dir: Path,
    *,
    task: str = "regression",
    smiles_col: str = "smiles",
    splits_file: Path | None = None,
    seed: int = 0,
    epochs: int = 50,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """``chemprop train`` with our seed and epochs, chemprop's defaults otherwise."""
    command = [
        str(executable),
        "train",
        "-i",
        str(data),
        "-s",
        smiles_col,
        "--target-columns",
        *targets,
        "-t",
        "classification" if task == "binary" else "regression",
        "--epochs",
        str(epochs),
        "--data-seed",
        str(seed),
        "--pytorch-seed",
        str(seed),
        "-o",
        str(out_dir),
    ]
    if epochs <= 2:  # chemprop needs more epochs than its 2 warm-up epochs
        command += ["--warmup-epochs", str(epochs - 1)]
    if splits_file is not None:
        command += ["--splits-file", str(splits_file)]
    return [*command, *extra_args]


def chemprop_model(out_dir: Path) -> Path:
    """The best checkpoint (``best.pt``) of a single-replicate, single-model training run."""
    found = sorted(Path(out_dir).rglob("best.pt"))
    if not found:
        raise FileNotFoundError(f"no best.pt under {out_dir}")
    return found[0]


def chemprop_test_predictions(out_dir: Path) -> pd.DataFrame:
    """chemprop's ``test_predictions.csv`` (test rows in the splits file's order)."""
    found = sorted(Path(out_dir).rglob("test_predictions.csv"))
    if not found:
        raise FileNotFoundError(f"no test_predictions.csv under {out_dir}")
    return pd.read_csv(found[0])


def peer_text(value: float | None, fmt: str = "{:.3f}") -> str:
    """A peer figure, or "not measured" when the peer did not run."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return NOT_MEASURED
    return fmt.format(value)
