"""biomodels bench on a tiny suite of real scripts: results.json, statuses, the dashboard, --compare."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biomodels.bench import BENCHMARKS, discover, run_suite
from biomodels.bench.run import run_benchmark
from biomodels.bench.suites import Benchmark, benchmarks_dir, require_benchmarks_dir
from biomodels.cli.main import app
from biomodels.exceptions import InputError, UnknownNameError
from biomodels.report.bench import changes, figure_tables, flat_figures, peer_status, write_dashboard
from biomodels.utils import pid_gone

ROOT = Path(__file__).resolve().parents[3]

TIMING = '''
"""Times sorting lists of several sizes (a real, tiny benchmark)."""
import argparse, json, random, time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--sizes", default="1000,20000")
parser.add_argument("--json", type=Path)
args = parser.parse_args()
rows = []
for n in map(int, args.sizes.split(",")):
    data = [random.random() for _ in range(n)]
    started = time.perf_counter()
    sorted(data)
    seconds = time.perf_counter() - started
    rows.append({"step": f"sort {n}", "n": n, "seconds": seconds, "items_per_s": n / seconds})
print(rows)
if __name__ == "__main__":
    nested = {"a": {"x": 1.0, "y": 2}, "b": {"x": 3.5, "y": float("nan")}}
    ratio = rows[-1]["seconds"] / rows[0]["seconds"]
    args.json.write_text(json.dumps({"rows": rows, "ratio": ratio, "nested": nested}))
'''
BROKEN = """
import sys
if __name__ == "__main__":
    print("could not open the data set --json")
    sys.exit(3)
"""
SLOW = """
import pathlib, subprocess, sys, time
if __name__ == "__main__":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a worker of its own
    pathlib.Path(sys.argv[0]).with_suffix(".child").write_text(str(child.pid))
    time.sleep(30)  # --json never written
"""
HELPER = '''
"""Shared helpers of the benchmarks (no __main__: not a benchmark)."""
def peak() -> float:
    return 0.0
'''


@pytest.fixture()
def tiny_suite(tmp_path) -> Path:
    folder = tmp_path / "checkout" / "benchmarks"
    folder.mkdir(parents=True)
    for name, text in (("timing", TIMING), ("broken", BROKEN), ("slow", SLOW), ("helpers", HELPER)):
        (folder / f"{name}.py").write_text(textwrap.dedent(text))
    return folder


def test_discover_lists_known_scripts_in_order_then_the_other_programs():
    found = discover(ROOT / "benchmarks")
    names = [b.name for b in found]
    assert names[: len(BENCHMARKS)] == [b.name for b in BENCHMARKS]  # every known script is present
    assert "peers" not in names  # a helper module, not a program
    assert benchmarks_dir() == ROOT / "benchmarks"


def test_every_known_benchmark_defines_its_suite_options():
    # read from the scripts' argparse definitions (starting each script would import torch)
    for benchmark in BENCHMARKS:
        source = (ROOT / "benchmarks" / benchmark.script).read_text()
        for suite in ("quick", "full"):
            for flag in [o for o in benchmark.options(suite, Path("/data")) if o.startswith("--")] + [
                "--json"
            ]:
                assert f'"{flag}"' in source, f"{benchmark.script} defines no {flag}"
    assert sum(b.quick_limit for b in BENCHMARKS) <= 15 * 60


def test_full_suite_runs_each_script_and_records_every_outcome(tiny_suite, tmp_path):
    out = tmp_path / "bench"
    record = run_suite("full", out, benchmarks=tiny_suite, only=["timing", "broken"])
    assert set(record["benchmarks"]) == {"timing", "broken"}
    timing, broken = record["benchmarks"]["timing"], record["benchmarks"]["broken"]
    assert timing["status"] == "ok" and [r["n"] for r in timing["results"]["rows"]] == [1000, 20000]
    assert (
        broken["status"] == "failed"
        and "exit code 3" in broken["reason"]
        and "could not open" in broken["reason"]
    )
    saved = json.loads((out / "results.json").read_text())  # strict JSON: NaN became null
    assert saved["benchmarks"]["timing"]["results"]["nested"]["b"]["y"] is None
    assert saved["machine"]["packages"]["biomodels"] and "commit" in saved["git"]
    assert (out / "logs" / "timing.log").read_text().startswith("[{'step'")
    with pytest.raises(UnknownNameError, match="timing"):
        run_suite("full", out, benchmarks=tiny_suite, only=["nope"])
    with pytest.raises(InputError, match="quick, full"):
        run_suite("medium", out, benchmarks=tiny_suite)


def test_quick_suite_skips_scripts_without_quick_options_and_stops_one_past_its_limit(tiny_suite, tmp_path):
    record = run_suite("quick", tmp_path / "q", benchmarks=tiny_suite, only=["timing"])
    assert record["benchmarks"]["timing"]["status"] == "skipped"
    assert "no quick options" in record["benchmarks"]["timing"]["reason"]
    slow = Benchmark("slow", "slow.py", quick=(), quick_limit=1)
    entry = run_benchmark(slow, "quick", tmp_path / "q", tiny_suite)
    assert entry["status"] == "timeout" and entry["seconds"] < 20 and entry["results"] is None
    child = int((tiny_suite / "slow.child").read_text())
    deadline = time.monotonic() + 10  # killed at once; reaped by its new parent soon after
    while not pid_gone(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid_gone(child)  # the benchmark's whole process group was stopped


def test_dashboard_tables_and_changes(tiny_suite, tmp_path):
    first = run_suite("full", tmp_path / "one", benchmarks=tiny_suite, only=["timing"])
    second = run_suite("full", tmp_path / "two", benchmarks=tiny_suite, only=["timing"])
    results = second["benchmarks"]["timing"]["results"]
    titles = [title for title, _ in figure_tables(results, "timing")]
    assert titles == ["timing", "timing / rows", "timing / nested"]  # its numbers, two record tables
    figures = dict(flat_figures(results))
    assert figures["rows[sort 1000].n"] == 1000 and "nested.b.y" not in figures  # NaN is no figure
    assert not any("samples" in path for path in flat_figures({"samples": [1.0, 2.0], "median": 1.5}))
    rows = changes(first, second)
    assert {r[1] for r in rows} >= {"rows[sort 20000].seconds"} and all(r[2] != r[3] for r in rows)
    page = write_dashboard(tmp_path / "two" / "results.json", tmp_path / "index.html", previous=first)
    text = page.read_text()
    assert "<script" not in text and "Change against the run" in text and "<svg" in text
    assert "items_per_s" in text and "sort 20000" in text and "<th>peers</th>" in text


def test_peer_status_tells_measured_from_not_found():
    assert peer_status({"rows": [{"value": 0.6, "chemprop": {"value": 0.62}}]}) == "chemprop measured"
    assert (
        peer_status({"rows": [{"value": 0.6, "chemprop": None}], "chemprop": None}) == "chemprop not measured"
    )
    assert peer_status({"rows": [{"value": 0.6}]}) == "-"


def test_cli_bench_writes_results_and_page(tiny_suite, tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMODELS_BENCHMARKS", str(tiny_suite))
    result = CliRunner().invoke(
        app, ["bench", "--suite", "full", "--only", "timing", "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 0, result.output
    assert "timing: ok" in result.output
    assert (tmp_path / "b" / "results.json").is_file() and (tmp_path / "b" / "index.html").is_file()
    monkeypatch.setenv("BIOMODELS_BENCHMARKS", str(tmp_path / "absent"))
    with pytest.raises(InputError, match="source checkout"):
        require_benchmarks_dir()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_dashboard_opens_in_headless_chromium_without_console_errors(tiny_suite, tmp_path):
    record = run_suite("full", tmp_path / "b", benchmarks=tiny_suite, only=["timing", "broken"])
    page = write_dashboard(record, tmp_path / "b" / "index.html")
    done = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         f"--screenshot={tmp_path / 'shot.png'}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (tmp_path / "shot.png").stat().st_size > 10_000
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
