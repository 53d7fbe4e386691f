"""``biomodels bench``: run the benchmark suite into DIR/results.json and DIR/index.html."""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli.common import console, friendly_errors


@friendly_errors
def bench(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for results.json, index.html, logs/, raw/."),
    suite: str = typer.Option(
        "quick", help="quick (at most 15 min on 2 cores) | full (the README's tables)."
    ),
    compare: Path = typer.Option(None, help="An earlier results.json: the page shows the change against it."),
    only: list[str] = typer.Option(None, help="Run only this benchmark (repeat for several)."),
    seed: int = typer.Option(0, help="PYTHONHASHSEED of the benchmark processes."),
) -> None:
    """Run every benchmark of benchmarks/ as it runs today; write results.json and a dashboard."""
    from biomodels.bench import run_suite
    from biomodels.exceptions import InputError
    from biomodels.report.bench import write_dashboard
    from biomodels.utils import read_json

    previous = None
    if compare is not None:
        if not compare.is_file():
            raise InputError(compare, "--compare: no such results.json")
        previous = read_json(compare)
    record = run_suite(suite, out, seed=seed, only=only or None)
    page = write_dashboard(record, out / "index.html", previous=previous)
    for name, entry in record["benchmarks"].items():
        reason = f" ({entry['reason']})" if entry["reason"] else ""
        console.print(f"{name}: {entry['status']} in {entry['seconds']:.0f} s{reason}", highlight=False)
    console.print(f"{suite} suite in {record['seconds']:.0f} s -> {out / 'results.json'}, {page}")
