"""Screening throughput and memory on MOSES prefixes: molecules/s, peak memory of the process tree.

Each measurement runs ``biomodels.screen.screen`` in a fresh subprocess (so that imports, pool
start-up and the final assembly are all counted) while this process polls the memory of that
subprocess and all its children: the sum of RSS (shared pages counted once per process, an upper
bound) and of PSS (shared pages split between the processes that map them). Library prefixes are
streamed from the head of the gzipped MOSES training set into a work folder; the model is a
D-MPNN (hidden 300, depth 3) trained briefly on ESOL (accuracy is not the point), or with
``--model demo`` the demo's model: a 3-member D-MPNN ensemble trained briefly on the 1,017
compounds of CHEMBL2321810 (``biomodels demo``'s data).

Variants:
    score    prediction only (``properties=[]``, no sane-chemistry filters), what ``chemprop
             predict`` does, in one process with ``--workers`` threads (the default pool); the
             applicability-domain columns (``nn_similarity``, ``nn_id``, ``in_domain``) included;
    score-no-domain  ``score`` without the domain columns (``--no-domain``): its cost is the
             difference;
    score-processes  ``score`` with one worker process per core;
    screen   the default properties (MW, cLogP, TPSA, HBD, HBA, rotatable bonds), the default
             sane-chemistry filters, the Lipinski filter, top 100 and the HTML report;
    dask     ``score`` on a Dask LocalCluster of ``--workers`` single-threaded workers;
    cascade  ``score`` as a cascade (``--cascade``, defaults ``--sample 0.02 --keep 0.05``): the
             full model on a sample, a surrogate on every row, the full model on the surrogate's
             best. With ``score`` in the same run, the true recall of the exhaustive top 1% and
             0.1% (by the full model's score) is printed beside the surrogate's Spearman.

``--invalid N`` replaces N evenly spaced rows of each prefix by SMILES RDKit cannot parse (every
variant must report them); ``--run DIR`` screens with a trained run directory instead of the
briefly trained one (e.g. the ESOL D-MPNN of ``biomodels train ... --epochs 30``).

``--domain-size N`` gives the model a training-set reference of N other MOSES molecules (from
``test.csv.gz``, disjoint from the screened prefixes; the weights are unchanged), to time the
nearest-neighbour search against a large training set.

The peer (``--peer chemprop``, the default, with the executable from ``--chemprop PATH``, else
``$BIOMODELS_CHEMPROP``, else ``../.peer-chemprop/bin/chemprop``) is timed in the same run:
``chemprop predict`` on the same prefix's valid molecules (parsed by RDKit, unscored rows left
out), with chemprop's D-MPNN of the same architecture (its defaults: hidden 300, depth 3, one
300-wide FFN layer) trained briefly by ``chemprop train`` on ESOL. It is measured like our variants
(a subprocess tree: wall time, CPU time, peak memory), and the ``x chemprop`` column and the
summary lines divide by that run's figure. Without chemprop they say "not measured". When both
``score`` and ``dask`` ran, the Dask/threads throughput ratio is printed too.

Example (the full set takes about an hour on 2 cores)::

    python benchmarks/screening.py --sizes 50000,200000 --variants score,screen,dask
    nohup python benchmarks/screening.py --sizes full --variants score > screen_full.log 2>&1 &
    python benchmarks/screening.py --sizes 200000 --model demo --variants score,score-no-domain --peer none
    python benchmarks/screening.py --sizes 20000 --model demo --domain-size 100000 \
        --variants score,score-no-domain --peer none
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402  (benchmarks/peers.py, beside this script)

ROOT = Path(__file__).resolve().parents[1]
MOSES = ROOT.parent / "shared" / "data" / "moses" / "train.csv.gz"
MOSES_OTHER = ROOT.parent / "shared" / "data" / "moses" / "test.csv.gz"
ESOL = ROOT.parent / "shared" / "data" / "molnet" / "esol.csv"

SCORE = {"properties": [], "sanity": None, "report": False, "top": 100}
VARIANTS = {
    "score": SCORE,
    "score-no-domain": {**SCORE, "domain": False},
    "score-processes": {**SCORE, "pool": "processes"},
    "screen": {"filters": "lipinski", "report": True, "top": 100},
    "dask": {**SCORE, "scheduler": "local"},
    "cascade": {**SCORE, "cascade": {}},
}
BAD_SMILES = ("C1CC", "N(C)(C)(C)(C)C", "not_a_smiles", "c1cccc1", "C(C)(C)(C)(C)C")
"""What ``--invalid`` puts in place of valid rows: an open ring, two pentavalent atoms, text, a
ring RDKit cannot kekulise."""

_RUN = """
import json, sys
from biomodels.screen import CascadeConfig, RankingConfig, ScreenConfig, screen
spec = json.loads(sys.argv[1])
config = ScreenConfig(**spec["config"])
cascade = CascadeConfig(**spec["cascade"]) if spec["cascade"] is not None else None
summary = screen(
    [spec["run"]], spec["library"], spec["out"], config, RankingConfig(top=spec["top"]), cascade=cascade
)
if spec["report"]:
    from biomodels.report.screen import write_screen_report
    write_screen_report(summary)
print(json.dumps({"rows": summary.rows, "scored": summary.scored, "errors": summary.invalid,
                  "screen_seconds": summary.seconds, "cascade": summary.cascade}))
"""


def prefix_file(n: int | None, workdir: Path, invalid: int = 0) -> Path:
    """The first ``n`` MOSES rows (all when None) as a CSV, streamed from the gzip head; with
    ``invalid``, that many evenly spaced rows (of the first ``n``, or of the first 1,584,663)
    hold :data:`BAD_SMILES` instead."""
    path = workdir / f"moses_{n or 'full'}{f'_bad{invalid}' if invalid else ''}.csv"
    if path.exists():
        return path
    spacing = (n or 1_584_663) // (invalid + 1)
    bad = {spacing * (k + 1): BAD_SMILES[k % len(BAD_SMILES)] for k in range(invalid)}
    tmp = path.with_suffix(".tmp")
    with gzip.open(MOSES, "rt") as source, open(tmp, "w") as target:
        for index, line in enumerate(source):
            if n is not None and index > n:  # the header plus n rows
                break
            if index - 1 in bad:
                line = bad[index - 1] + line[len(line.split(",")[0].rstrip("\n")) :]
            target.write(line)
    tmp.rename(path)
    return path


def trained_run(workdir: Path, epochs: int, model: str = "esol") -> Path:
    """A D-MPNN (hidden 300, depth 3) trained for ``epochs`` on ESOL, or the demo's 3-member
    ensemble on CHEMBL2321810; reused when present."""
    run = workdir / f"{model}_dmpnn300_e{epochs}"
    if (run / "model" / "model.json").exists():
        return run
    if model == "demo":
        from biomodels.screen.demo import ACTIVITY, activity_table

        data = activity_table(workdir)
        peers.train_ours(data, [ACTIVITY], run, epochs=epochs, params={"ensemble": 3})
    else:
        peers.train_ours(ESOL, ["logp"], run, epochs=epochs, params={"hidden": 300, "depth": 3})
    return run


def with_domain_of(run: Path, size: int, workdir: Path) -> Path:
    """A copy of ``run`` whose training-set reference is the first ``size`` MOSES test molecules."""
    import pandas as pd
    from rdkit import Chem

    from biomodels.chem.domain import ApplicabilityDomain
    from biomodels.chem.similarity import packed_fingerprints
    from biomodels.train.run import load_run

    copy = workdir / f"{run.name}_domain{size}"
    if (copy / "model" / "model.json").exists():
        return copy
    smiles = pd.read_csv(MOSES_OTHER, nrows=size)["SMILES"].tolist()
    model = load_run(run).model
    bits = packed_fingerprints([Chem.MolFromSmiles(s) for s in smiles])
    model.domain_ = ApplicabilityDomain.fit(bits, smiles)
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("model"))
    model.save(copy / "model")
    return copy


def measure(command: list[str], poll: float = 1.0, reports: bool = True) -> dict[str, float]:
    """Run ``command``; wall time, CPU time and the peak RSS and PSS sums over its process tree.

    CPU time counts every process of the tree (each reaps its children, so their times reach
    ``RUSAGE_CHILDREN`` here): on a machine shared with other work it is the fairer speed.
    ``reports``: the command prints a JSON summary as its last line (ours do; chemprop does not).
    """
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = psutil.Popen(
        command,
        stdout=subprocess.PIPE if reports else subprocess.DEVNULL,
        stderr=None if reports else subprocess.DEVNULL,
        text=True,
    )
    peak_rss = peak_pss = 0
    while process.poll() is None:
        rss = pss = 0
        for member in [process, *process.children(recursive=True)]:
            try:
                info = member.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss, pss = rss + info.rss, pss + info.pss
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(poll)
    if process.returncode:
        raise RuntimeError(f"{' '.join(command[:3])} failed with code {process.returncode}")
    result = json.loads(process.stdout.read().strip().splitlines()[-1]) if reports else {}
    return {
        **result,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": _children_cpu() - cpu_before,
        "peak_rss_mb": peak_rss / 2**20,
        "peak_pss_mb": peak_pss / 2**20,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_variant(variant: str, library: Path, run: Path, workdir: Path, args: argparse.Namespace) -> dict:
    options = dict(VARIANTS[variant])
    cascade = options.pop("cascade", None)
    spec = {
        "run": str(run),
        "library": str(library),
        "out": str(workdir / f"out_{variant}.parquet"),
        "top": options.pop("top"),
        "report": options.pop("report"),
        "config": {"chunk_size": args.chunk_size, "workers": args.workers, **options},
        "cascade": None if cascade is None else {**cascade, "sample": args.sample, "keep": args.keep},
    }
    shutil.rmtree(workdir / f"out_{variant}.parquet.parts", ignore_errors=True)
    return measure([sys.executable, "-c", _RUN, json.dumps(spec)])


def cascade_recall(workdir: Path) -> dict[str, float]:
    """The cascade's true recall of the exhaustive screen's top 1% and 0.1% (by the full model's
    prediction, over every scored row), from the two outputs of the same run."""
    import numpy as np
    import pandas as pd

    exhaustive = pd.read_parquet(workdir / "out_score.parquet", columns=["logp"])["logp"].to_numpy(float)
    cascade = pd.read_parquet(workdir / "out_cascade.parquet", columns=["scored_by"])["scored_by"]
    full = (cascade == "full").to_numpy()
    order = np.argsort(-np.nan_to_num(exhaustive, nan=-np.inf), kind="stable")
    scored = int(np.isfinite(exhaustive).sum())
    recalls = {}
    for share in (0.01, 0.001):
        top = order[: int(round(share * scored))]
        recalls[f"recall_top_{share:g}"] = float(full[top].mean())
    return recalls


def valid_prefix(library: Path) -> tuple[Path, int]:
    """The library's molecules RDKit parses, as a ``SMILES`` CSV for chemprop, and their count."""
    import pandas as pd
    from rdkit import Chem, RDLogger

    path = library.with_name(library.stem + "_valid.csv")
    smiles = pd.read_csv(library)["SMILES"]
    if not path.exists():
        RDLogger.DisableLog("rdApp.*")
        valid = smiles[[Chem.MolFromSmiles(s) is not None for s in smiles]]
        valid.to_frame("SMILES").to_csv(path.with_suffix(".tmp"), index=False)
        path.with_suffix(".tmp").rename(path)
    with open(path) as handle:
        return path, sum(1 for _ in handle) - 1


def chemprop_model(executable: Path, workdir: Path, epochs: int) -> Path:
    """chemprop's D-MPNN (its defaults: hidden 300, depth 3) trained ``epochs`` on ESOL, reused."""
    model_dir = workdir / f"chemprop_esol_e{epochs}"
    if not model_dir.exists():
        command = peers.chemprop_train_command(
            executable, ESOL, ["logp"], model_dir.with_suffix(".tmp"), epochs=epochs
        )
        model_dir.with_suffix(".tmp").mkdir(parents=True, exist_ok=True)
        peers.run_timed(command, workdir / "chemprop_train.log")
        model_dir.with_suffix(".tmp").rename(model_dir)
    return peers.chemprop_model(model_dir)


def chemprop_predict(executable: Path, library: Path, workdir: Path, epochs: int) -> dict:
    """``chemprop predict`` on the library's valid molecules, measured like our variants."""
    model = chemprop_model(executable, workdir, epochs)
    valid, rows = valid_prefix(library)
    out = workdir / "chemprop_preds.csv"
    command = [
        str(executable),
        "predict",
        "-i",
        str(valid),
        "-s",
        "SMILES",
        "--model-paths",
        str(model),
        "-o",
        str(out),
    ]
    result = measure(command, reports=False)
    with open(out) as handle:
        predicted = sum(1 for _ in handle) - 1
    if predicted != rows:
        raise RuntimeError(f"chemprop predicted {predicted} of {rows} molecules")
    return {"rows": rows, "scored": predicted, **result}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="50000,200000", help="comma-separated row counts or 'full'")
    parser.add_argument("--variants", default="score,screen,dask", help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1, help="training epochs of both models (speed only)")
    parser.add_argument("--model", choices=("esol", "demo"), default="esol", help="the screening model")
    parser.add_argument("--domain-size", type=int, help="training-set reference of this many MOSES molecules")
    parser.add_argument("--peer", choices=peers.PEERS, default="chemprop", help="peer timed in the same run")
    parser.add_argument("--chemprop", default=None, help="chemprop executable (default: see above)")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "biomodels_screen_bench"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="measure every variant (and the peer) this many times, "
        "interleaved; the ratios use the fastest of each (a machine shared with other work)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--invalid", type=int, default=0, help="rows of each prefix made unparsable")
    parser.add_argument("--run", type=Path, help="screen with this trained run directory")
    parser.add_argument("--sample", type=float, default=0.02, help="cascade: share scored first")
    parser.add_argument("--keep", type=float, default=0.05, help="cascade: share rescored")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    run = args.run or trained_run(args.workdir, args.epochs, args.model)
    if args.domain_size:
        run = with_domain_of(run, args.domain_size, args.workdir)
    chemprop = peers.find_chemprop(args.chemprop, args.peer)
    cores = os.cpu_count() or 1
    print(f"{cores} cores, workers={args.workers}, chunk size {args.chunk_size}, model {run}", flush=True)
    if chemprop is None:
        print(
            f"peer {args.peer}: no chemprop executable found; its figures say {peers.NOT_MEASURED}",
            flush=True,
        )
    else:
        print(f"chemprop {peers.chemprop_version(chemprop)} at {chemprop}", flush=True)
    print(
        "| rows | variant | seconds | mol/s | x chemprop (this run) | CPU s | mol per CPU s "
        "| peak RSS tree (MB) | peak PSS tree (MB) | s per 1M | core-h per 1M |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    results = []
    for size in args.sizes.split(","):
        library = prefix_file(None if size == "full" else int(size), args.workdir, args.invalid)
        best: dict[str, dict] = {}  # the fastest of the repeats, per variant
        for repeat in range(args.repeats):
            if chemprop is not None:
                measured = chemprop_predict(chemprop, library, args.workdir, args.epochs)
                results.append({"size": size, "variant": "chemprop predict", "repeat": repeat, **measured})
                _keep_fastest(best, results[-1])
            for variant in args.variants.split(","):
                measured = run_variant(variant, library, run, args.workdir, args)
                results.append({"size": size, "variant": variant, "repeat": repeat, **measured})
                _keep_fastest(best, results[-1])
            if args.json:
                args.json.write_text(json.dumps(results, indent=2))
        peer = best.get("chemprop predict")
        peer_rate = peer["rows"] / peer["seconds"] if peer else None
        for result in results:
            if result["size"] == size:
                _print_row(result, cores, peer_rate, numbered=args.repeats > 1)
        if peer is None:
            print(f"| {size} | chemprop predict | {peers.NOT_MEASURED} | | | | | | | | |", flush=True)
        fastest = f" (fastest of {args.repeats})" if args.repeats > 1 else ""
        rates = {v: r["rows"] / r["seconds"] for v, r in best.items() if v != "chemprop predict"}
        for variant, rate in rates.items():
            ratio = peers.peer_text(rate / peer_rate if peer_rate else None, "{:.2f}x")
            print(
                f"{size}: {variant} {rate:,.0f} mol/s, chemprop predict "
                f"{peers.peer_text(peer_rate, '{:,.0f} mol/s')}, ours / chemprop {ratio}{fastest}",
                flush=True,
            )
        if "score" in rates and "score-no-domain" in rates:
            print(
                f"{size}: time with the domain columns / without (--no-domain) "
                f"{rates['score-no-domain'] / rates['score']:.3f}x{fastest}",
                flush=True,
            )
        cascaded = best.get("cascade")
        if cascaded is not None:
            quality = cascaded["cascade"]
            recall = cascade_recall(args.workdir) if "score" in best else {}
            print(
                f"{size}: cascade {cascaded['rows']:,} rows, {cascaded['errors']} errors, "
                f"{quality['full_rows']:,} scored by the full model "
                f"({100 * quality['rescored_fraction']:.1f}% rescored + the sample), surrogate Spearman "
                f"{quality['spearman']:.3f}, estimated recall {quality['estimated_recall']:.3f}; true recall "
                + ", ".join(f"{k.removeprefix('recall_')} {v:.4f}" for k, v in recall.items())
                + (f"; wall / chemprop predict {cascaded['seconds'] / peer['seconds']:.3f}" if peer else ""),
                flush=True,
            )
        if "score" in rates and "dask" in rates:
            print(
                f"{size}: dask / threads pool throughput {rates['dask'] / rates['score']:.2f}x{fastest}",
                flush=True,
            )
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))


def _keep_fastest(best: dict[str, dict], result: dict) -> None:
    current = best.get(result["variant"])
    if current is None or result["seconds"] < current["seconds"]:
        best[result["variant"]] = result


def _print_row(result: dict, cores: int, peer_rate: float | None, numbered: bool = False) -> None:
    rate = result["rows"] / result["seconds"]
    per_million = 1e6 / rate
    times_peer = peers.peer_text(rate / peer_rate if peer_rate else None, "{:.2f}")
    repeat = f" #{result['repeat'] + 1}" if numbered else ""
    print(
        f"| {result['rows']:,} | {result['variant']}{repeat} | {result['seconds']:.1f} | {rate:,.0f} "
        f"| {times_peer} | {result['cpu_seconds']:.0f} "
        f"| {result['rows'] / result['cpu_seconds']:,.0f} | {result['peak_rss_mb']:,.0f} "
        f"| {result['peak_pss_mb']:,.0f} | {per_million:,.0f} | {per_million * cores / 3600:.2f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
