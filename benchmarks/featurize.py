"""Featurisation throughput: parse and parse + graph featurise, one core and all cores.

Usage: python benchmarks/featurize.py [--data ../shared/data/molnet/hiv.csv.gz] [--json out.json]

Reports molecules per second (per core for the multi-process rows too) and peak RSS. If
chemprop is importable, its ``SimpleMoleculeMolGraphFeaturizer`` is timed on the same molecules.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from biomodels.featurize import get_featurizer, iter_featurized_chunks
from biomodels.featurize.batch import featurize_raw_chunk
from biomodels.io.molecules import MoleculeParser, iter_raw_chunks

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "molnet" / "hiv.csv.gz"


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def time_single(raw_chunks, fn) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for raws in raw_chunks:
        fn(raws)
        count += len(raws)
    return time.perf_counter() - started, count


def time_chemprop(smiles: list[str]) -> float | None:
    try:
        from chemprop.featurizers import SimpleMoleculeMolGraphFeaturizer
        from rdkit import Chem
    except ImportError:
        return None
    featurizer = SimpleMoleculeMolGraphFeaturizer()
    started = time.perf_counter()
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        if mol is not None:
            featurizer(mol)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"data set not found: {args.data} (see shared/data/SOURCES.md)")

    raw_chunks = list(iter_raw_chunks(args.data, chunk_size=args.chunk_size))
    n = sum(len(c) for c in raw_chunks)
    mol_parser = MoleculeParser()
    graph = get_featurizer("graph")
    rows = []

    seconds, _ = time_single(raw_chunks, mol_parser.parse_chunk)
    rows.append(("parse (RDKit, sanitised)", 1, seconds))
    seconds, _ = time_single(raw_chunks, lambda raws: featurize_raw_chunk(raws, graph, mol_parser))
    rows.append(("parse + graph featurise", 1, seconds))
    rss_single = peak_rss_mb()
    started = time.perf_counter()
    total = sum(
        len(c.meta)
        for c in iter_featurized_chunks(args.data, graph, workers=args.workers, chunk_size=args.chunk_size)
    )
    assert total == n
    rows.append(("parse + graph featurise (file, pool)", args.workers, time.perf_counter() - started))
    chemprop_seconds = time_chemprop([r.text for c in raw_chunks for r in c])
    if chemprop_seconds is not None:
        rows.append(("chemprop SimpleMoleculeMolGraphFeaturizer (parse incl.)", 1, chemprop_seconds))

    table = Table(title=f"Featurisation of {args.data.name}: {n:,} molecules, {os.cpu_count()} cores")
    for column in ("step", "processes", "seconds", "mol/s", "mol/s per core"):
        table.add_column(column, justify="right" if column != "step" else "left")
    results = []
    for step, procs, secs in rows:
        rate = n / secs
        table.add_row(step, str(procs), f"{secs:.2f}", f"{rate:,.0f}", f"{rate / procs:,.0f}")
        results.append(
            {
                "step": step,
                "processes": procs,
                "seconds": secs,
                "mol_per_s": rate,
                "mol_per_s_per_core": rate / procs,
            }
        )
    console = Console()
    console.print(table)
    console.print(f"peak RSS: single process {rss_single:.0f} MB, including workers {peak_rss_mb():.0f} MB")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"data": str(args.data), "molecules": n, "rows": results, "peak_rss_mb": peak_rss_mb()},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
