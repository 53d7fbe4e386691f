"""Run a benchmark suite into ``DIR/results.json``: every script as it runs today, one record.

Each benchmark of :mod:`biomodels.bench.suites` runs as its own process (``python SCRIPT OPTIONS
--json DIR/raw/NAME.json``, from the checkout and importing the checkout's biomodels), with its
output in ``DIR/logs/NAME.log``; the JSON it wrote is read back whole, so every figure it reports
is in the record. A benchmark that fails, runs past its time limit or is not in the suite is
recorded with its status and reason, never dropped, and the suite goes on. The page of the record
is drawn by :func:`biomodels.report.bench.write_dashboard`.

``results.json``::

    {"suite", "seed", "started", "seconds",
     "machine": {python, packages, platform, cpus, cuda...},   # biomodels.train.rundir
     "git": {"commit", "dirty"},
     "benchmarks": {NAME: {"script", "command", "status": ok | failed | timeout | skipped,
                           "reason", "seconds", "results": <the script's JSON>}}}
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from biomodels.bench.suites import Benchmark, check_suite, data_dir, discover, require_benchmarks_dir
from biomodels.exceptions import UnknownNameError
from biomodels.train.rundir import environment_info
from biomodels.utils import read_json, write_json

logger = logging.getLogger(__name__)

__all__ = ["git_state", "run_benchmark", "run_suite"]


def run_suite(
    suite: str,
    out: str | Path,
    *,
    seed: int = 0,
    only: list[str] | None = None,
    benchmarks: Path | None = None,
) -> dict[str, Any]:
    """Run every benchmark of ``suite`` (or the ``only`` ones) and write ``out/results.json``.

    Args:
        seed: ``PYTHONHASHSEED`` of the benchmark processes (the scripts seed their own runs).
        only: benchmark names to run (others are not recorded); None: all.
        benchmarks: the ``benchmarks/`` folder (default: :func:`require_benchmarks_dir`).

    Returns:
        The record written to ``results.json``.

    Raises:
        InputError: unknown suite or benchmark name, or no ``benchmarks/`` folder.
    """
    check_suite(suite)
    folder = benchmarks or require_benchmarks_dir()
    found = discover(folder)
    if only is not None:
        names = [b.name for b in found]
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise UnknownNameError("benchmark", unknown[0], names)
        found = [b for b in found if b.name in only]
    out = Path(out)
    started = time.perf_counter()
    record: dict[str, Any] = {
        "suite": suite,
        "seed": seed,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": environment_info(),
        "git": git_state(folder),
        "benchmarks": {},
    }
    for benchmark in found:
        logger.info("benchmark %s (%s suite)", benchmark.name, suite)
        entry = run_benchmark(benchmark, suite, out, folder, seed)
        record["benchmarks"][benchmark.name] = entry
        logger.info(
            "benchmark %s: %s in %.0f s %s",
            benchmark.name,
            entry["status"],
            entry["seconds"],
            entry["reason"] or "",
        )
        record["seconds"] = time.perf_counter() - started
        write_json(out / "results.json", record)  # after each benchmark: a cut-short suite keeps its figures
    record["seconds"] = time.perf_counter() - started
    write_json(out / "results.json", record)
    return record


def run_benchmark(benchmark: Benchmark, suite: str, out: Path, folder: Path, seed: int = 0) -> dict[str, Any]:
    """Run one benchmark script; its record (see the module docstring)."""
    options = benchmark.options(suite, data_dir(folder))
    entry: dict[str, Any] = {"script": benchmark.script, "command": None, "status": "skipped", "reason": None}
    entry.update(seconds=0.0, results=None)
    if options is None:
        entry["reason"] = f"not in the {suite} suite (no {suite} options in biomodels.bench.suites)"
        return entry
    raw = out / "raw" / f"{benchmark.name}.json"
    log = out / "logs" / f"{benchmark.name}.log"
    raw.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    raw.unlink(missing_ok=True)
    command = [sys.executable, str(folder / benchmark.script), *options, "--json", str(raw.resolve())]
    entry["command"] = " ".join(command[1:])
    # the checkout's biomodels, not whichever one is installed, is what its benchmarks measure
    path = os.pathsep.join(p for p in (str(folder.parent.resolve()), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": path}
    limit = benchmark.limit(suite)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        # its own process group, so that a stop ends the pools and peer processes it started too
        process = subprocess.Popen(
            command, cwd=folder.parent, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            returncode = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:  # past its limit, or this process interrupted: the benchmark's whole group goes
            if process.poll() is None or returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    entry["seconds"] = time.perf_counter() - started
    if raw.is_file():
        try:
            entry["results"] = read_json(raw)  # Python's reader takes the NaN some scripts write
        except ValueError as exc:
            entry["reason"] = f"{raw}: unreadable JSON ({exc})"
    if returncode is None:
        entry["status"], entry["reason"] = "timeout", f"stopped after its limit of {limit:g} s; see {log}"
    elif returncode != 0:
        entry["status"], entry["reason"] = "failed", f"exit code {returncode}: {_last_line(log)}"
    elif entry["results"] is None:
        entry["status"] = "failed"
        entry["reason"] = entry["reason"] or f"wrote no {raw.name}; see {log}"
    else:
        entry["status"] = "ok"
    return entry


def git_state(folder: Path) -> dict[str, Any]:
    """The commit of the checkout holding ``folder`` and whether it has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=folder, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    return json.dumps(lines[-1][:300]) if lines else "no output"
