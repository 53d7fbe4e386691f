"""Command-line start-up time: ``biomodels --help``, ``--version`` and each verb's ``--help``.

Usage: python benchmarks/cli_startup.py [--repeats 7] [--json out.json]

Each command runs ``--repeats`` times in a fresh interpreter, the way the ``biomodels`` console
script starts (``from biomodels.cli.main import app; app()``), against this checkout. The table
gives the minimum and median wall time, which heavy modules (torch, pandas, RDKit, scikit-learn,
matplotlib) the command imported, and its costliest top-level imports from ``python -X
importtime`` (one extra run). ``python -c pass`` is the floor: the interpreter alone. The target
is a minimum of at most 0.5 s for ``--help`` and ``--version``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "pandas", "rdkit", "sklearn", "matplotlib")
TARGET_SECONDS = 0.5
ENTRY = "import sys; from biomodels.cli.main import app; sys.exit(app(prog_name='biomodels'))"
WATCH = (
    "import atexit, json, os, sys\n"
    "atexit.register(lambda: open(os.environ['BIOMODELS_MODULES'], 'w').write("
    "json.dumps(sorted(m for m in {heavy!r} if m in sys.modules))))\n"
)
COMMANDS = {
    "python -c pass": None,
    "import biomodels.cli.main": [],
    "biomodels --help": ["--help"],
    "biomodels --version": ["--version"],
    **{f"biomodels {verb} --help": [verb, "--help"] for verb in ("train", "predict", "screen", "report")},
}


def _argv(args: list[str] | None, prelude: str = "") -> list[str]:
    if args is None:
        return [sys.executable, "-c", prelude + "pass"]
    if not args:
        return [sys.executable, "-c", prelude + "import biomodels.cli.main"]
    return [sys.executable, "-c", prelude + ENTRY, *args]


def _run(argv: list[str], env: dict[str, str], extra: list[str] = ()) -> subprocess.CompletedProcess:
    done = subprocess.run([argv[0], *extra, *argv[1:]], capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-500:]}")
    return done


def measure(args: list[str] | None, repeats: int) -> dict:
    """Wall times of ``repeats`` runs, then one watched run: heavy modules, costliest imports."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        _run(_argv(args), env)
        times.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        env["BIOMODELS_MODULES"] = str(Path(tmp) / "modules.json")
        done = _run(_argv(args, WATCH.format(heavy=HEAVY)), env, ["-X", "importtime"])
        heavy = json.loads(Path(env["BIOMODELS_MODULES"]).read_text())
    return {
        "min_s": min(times),
        "median_s": statistics.median(times),
        "heavy": heavy,
        "top_imports": top_imports(done.stderr),
    }


def top_imports(importtime: str, n: int = 3) -> list[tuple[str, float]]:
    """The ``n`` top-level imports with the largest cumulative time (``-X importtime`` output)."""
    found = []
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):  # top level: one space after the bar, no nesting indent
            found.append((name.strip(), int(cumulative) / 1e6))
    return sorted(found, key=lambda item: -item[1])[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per command (at least 5)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    results = {label: measure(argv, args.repeats) for label, argv in COMMANDS.items()}
    table = Table(title=f"CLI start-up, {args.repeats} runs each ({sys.executable})")
    for column in ("command", "min s", "median s", "heavy modules imported", "costliest imports (s)"):
        table.add_column(column, justify="right" if column.endswith(" s") else "left")
    for label, r in results.items():
        top = ", ".join(f"{name} {seconds:.3f}" for name, seconds in r["top_imports"])
        table.add_row(label, f"{r['min_s']:.3f}", f"{r['median_s']:.3f}", ", ".join(r["heavy"]) or "-", top)
    console = Console()
    console.print(table)
    slow = [
        label
        for label in ("biomodels --help", "biomodels --version")
        if results[label]["min_s"] > TARGET_SECONDS or results[label]["heavy"]
    ]
    console.print(f"target: min <= {TARGET_SECONDS} s and no heavy import: " + (", ".join(slow) or "met"))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
