"""The benchmark suites ``biomodels bench`` runs: each benchmark script of ``benchmarks/`` with the
options of a ``quick`` or a ``full`` run.

The scripts live in a source checkout, not in the installed package (``benchmarks/`` is never
imported by biomodels): :func:`benchmarks_dir` finds them from ``$BIOMODELS_BENCHMARKS``, else
beside the ``biomodels`` package of a checkout, and :func:`require_benchmarks_dir` says in one line
where it looked when they are absent. Every script takes ``--json PATH`` and writes its figures
there; the runner adds that option. ``{data}`` in an option is the shared data folder
(``../shared/data`` beside the checkout, or ``$BIOMODELS_DATA``).

``full`` is what the README's tables come from; ``quick`` is sized to finish in at most 15 minutes
on a 2-core machine (each benchmark has a time limit within that budget). Adding a benchmark is
one :class:`Benchmark` entry. A script of ``benchmarks/`` without an entry (say the generation or
affinity benchmark, once it exists) is still found by :func:`discover`: the full suite runs it
with its own defaults, the quick suite lists it as skipped until its entry gives quick options.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from biomodels.exceptions import InputError

__all__ = [
    "BENCHMARKS",
    "SUITES",
    "Benchmark",
    "benchmarks_dir",
    "check_suite",
    "data_dir",
    "discover",
    "require_benchmarks_dir",
]

SUITES = ("quick", "full")


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script and its options per suite.

    Attributes:
        name: the key in ``results.json`` and the dashboard's section title.
        script: the file name in ``benchmarks/``.
        quick, full: the script's options in each suite (``--json`` is added); ``quick`` None:
            not part of the quick suite.
        quick_limit: seconds the quick run may take before it is stopped (its share of 15 min).
    """

    name: str
    script: str
    quick: tuple[str, ...] | None
    full: tuple[str, ...] = ()
    quick_limit: float = 60

    def options(self, suite: str, data: Path) -> list[str] | None:
        """The script's options in ``suite``, ``{data}`` replaced by the data folder; None: the
        benchmark is not part of ``suite``."""
        check_suite(suite)
        options = getattr(self, suite)
        return None if options is None else [option.replace("{data}", str(data)) for option in options]

    def limit(self, suite: str) -> float | None:
        """The time limit in ``suite`` (none in ``full``)."""
        return self.quick_limit if suite == "quick" else None


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("cli_startup", "cli_startup.py", ("--repeats", "5"), ("--repeats", "7"), 45),
    Benchmark(
        "featurize",
        "featurize.py",
        ("--data", "{data}/molnet/tox21.csv"),
        ("--data", "{data}/molnet/hiv.csv.gz"),
        45,
    ),
    Benchmark(
        "message_passing", "message_passing.py", ("--device", "cpu", "--quick"), ("--device", "cpu"), 60
    ),
    Benchmark(
        "moleculenet",
        "moleculenet.py",
        ("--datasets", "esol", "--splits", "random", "--seeds", "1", "--epochs", "3"),
        ("--datasets", "esol,freesolv,bbbp,tox21", "--splits", "random,scaffold", "--seeds", "5")
        + ("--variants", "default,descriptors"),
        180,
    ),
    Benchmark(
        "screening",
        "screening.py",
        ("--sizes", "2000", "--variants", "score"),
        ("--sizes", "50000,200000", "--variants", "score,screen,dask"),
        150,
    ),
    Benchmark(
        "diagnostics",
        "diagnostics.py",
        ("--seeds", "1", "--models", "pixel-logreg,cnn,bow-logreg,rnn", "--jobs", "2", "--threads", "1"),
        ("--seeds", "5", "--jobs", "2", "--threads", "1"),
        240,
    ),
    Benchmark(
        "tuning",
        "tuning.py",
        ("--datasets", "freesolv", "--trials", "2", "--epochs", "3"),
        ("--datasets", "esol,freesolv", "--trials", "20", "--epochs", "30"),
        150,
    ),
)
"""The known benchmarks, in the order the suites run them (see :func:`discover` for others)."""


def check_suite(suite: str) -> str:
    """``suite`` if it is a suite name.

    Raises:
        InputError: an unknown name (the message lists the suites).
    """
    if suite not in SUITES:
        raise InputError(None, f"unknown suite {suite!r}; choose one of: {', '.join(SUITES)}")
    return suite


def discover(folder: Path) -> list[Benchmark]:
    """The benchmarks of ``folder``: the known ones whose script is there, in order, then every
    other script that runs as a program and takes ``--json`` (helper modules are left out)."""
    known = [b for b in BENCHMARKS if (folder / b.script).is_file()]
    listed = {b.script for b in BENCHMARKS}
    others = []
    for path in sorted(folder.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.name not in listed and "__main__" in text and "--json" in text:
            others.append(Benchmark(path.stem, path.name, quick=None))
    return known + others


def benchmarks_dir() -> Path | None:
    """The ``benchmarks/`` folder: ``$BIOMODELS_BENCHMARKS``, else beside the package in a checkout."""
    env = os.environ.get("BIOMODELS_BENCHMARKS")
    candidate = Path(env) if env else Path(__file__).resolve().parents[2] / "benchmarks"
    return candidate if candidate.is_dir() else None


def require_benchmarks_dir() -> Path:
    """:func:`benchmarks_dir`, or a one-line error saying where it looked.

    Raises:
        InputError: no ``benchmarks/`` folder (an installed wheel ships none).
    """
    found = benchmarks_dir()
    if found is None:
        where = os.environ.get("BIOMODELS_BENCHMARKS") or Path(__file__).resolve().parents[2] / "benchmarks"
        raise InputError(
            where,
            "no benchmarks/ folder: the scripts ship with a source checkout of biomodels, not with the "
            "installed package; run from a checkout or set BIOMODELS_BENCHMARKS to its benchmarks/",
        )
    return found


def data_dir(benchmarks: Path) -> Path:
    """The shared data folder: ``$BIOMODELS_DATA``, else ``../shared/data`` beside the checkout."""
    env = os.environ.get("BIOMODELS_DATA")
    return Path(env) if env else benchmarks.resolve().parents[1] / "shared" / "data"
