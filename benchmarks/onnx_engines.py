"""ONNX Runtime against torch: agreement on ESOL and HIV, CPU throughput on MOSES (fp32, int8).

For one trained run (default ``/tmp/serve-esol``, a D-MPNN trained on ESOL), exported once to
fp32 and once to dynamically quantised int8 ONNX:

* agreement: every row of ESOL and of HIV (41,127 rows) predicted by both engines
  (``load_run(..., engine=...)``, the code under ``biomodels predict --engine``): the largest
  absolute difference and whether the same rows fail;
* throughput on the first ``--moses`` rows of MOSES' training set: end to end (parse,
  featurise, network, table) and network only (graphs featurised once, then
  ``predict_graphs``), median of ``--repeats`` passes after a 500-molecule warm-up, for torch, ONNX
  Runtime fp32 and int8, plus int8's largest and mean absolute error against fp32.

Example::

    python benchmarks/onnx_engines.py /tmp/serve-esol --moses 50000 --out onnx_engines.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from biomodels.featurize.graph import featurize_graphs
from biomodels.io.molecules import MoleculeParser, records_from
from biomodels.train.onnx import export_onnx, onnx_modules
from biomodels.train.run import load_run

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _agreement(run_dir: Path, path: Path) -> dict:
    smiles = pd.read_csv(path)["smiles"].tolist()
    frames, seconds = {}, {}
    for engine in ("torch", "onnxruntime"):
        run = load_run(run_dir, engine=engine)
        started = time.perf_counter()
        frames[engine] = run.predict(smiles)
        seconds[engine] = time.perf_counter() - started
    a, b = frames["torch"], frames["onnxruntime"]
    target = a.columns[3]
    return {
        "rows": len(a),
        "errors_torch": int(a["error"].notna().sum()),
        "errors_onnxruntime": int(b["error"].notna().sum()),
        "same_error_rows": bool((a["error"].isna() == b["error"].isna()).all()),
        "max_abs_diff": float(np.nanmax(np.abs(a[target] - b[target]))),
        "seconds": seconds,
    }


def _median_time(fn, repeats: int, warmup) -> float:
    warmup()  # a small batch first: lazy imports, thread pools, ONNX Runtime's allocations
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _throughput(run_dir: Path, n: int, repeats: int, scratch: Path) -> dict:
    smiles = pd.read_csv(DATA / "moses" / "train.csv.gz", nrows=n, usecols=["SMILES"])["SMILES"].tolist()
    records = MoleculeParser().parse_chunk(records_from(smiles))
    good = [r for r in records if r.ok]
    graphs = featurize_graphs([r.mol for r in good], [r.smiles for r in good])
    run = load_run(run_dir)
    fp32 = export_onnx(run.model, scratch / "fp32.onnx", run_dir / "model")
    int8 = export_onnx(run.model, scratch / "int8.onnx", run_dir / "model", quantize="int8")
    torch_modules = run.model._modules()
    engines = {
        "torch": torch_modules,
        "onnxruntime": onnx_modules(run.model, fp32),
        "onnxruntime-int8": onnx_modules(run.model, int8),
    }
    result: dict = {"molecules": len(smiles), "valid": len(good), "threads": torch.get_num_threads()}
    values = {}
    warm = graphs.take(np.arange(min(500, len(graphs))))
    for name, modules in engines.items():
        run.model._set_modules(modules)
        network = _median_time(
            lambda: run.model.predict_graphs(graphs), repeats, lambda: run.model.predict_graphs(warm)
        )
        end_to_end = _median_time(
            lambda: run.model.predict(smiles), repeats, lambda: run.model.predict(smiles[:500])
        )
        values[name] = run.model.predict_graphs(graphs).mean[:, 0]
        result[name] = {
            "network_mol_per_s": len(good) / network,
            "end_to_end_mol_per_s": len(smiles) / end_to_end,
        }
    diff = np.abs(values["onnxruntime-int8"] - values["onnxruntime"])
    result["int8_vs_fp32"] = {"max_abs_error": float(diff.max()), "mean_abs_error": float(diff.mean())}
    result["fp32_vs_torch_max_abs"] = float(np.abs(values["onnxruntime"] - values["torch"]).max())
    result["size_mib"] = {"fp32": fp32.stat().st_size / 2**20, "int8": int8.stat().st_size / 2**20}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, nargs="?", default=Path("/tmp/serve-esol"))
    parser.add_argument("--moses", type=int, default=50_000, help="MOSES rows for the throughput.")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--skip-hiv", action="store_true")
    parser.add_argument("--seed", type=int, default=0, help="Recorded; nothing here is random.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results = {"esol": _agreement(args.run_dir, DATA / "molnet" / "esol.csv")}
    print("esol", json.dumps(results["esol"]), flush=True)
    if not args.skip_hiv:
        results["hiv"] = _agreement(args.run_dir, DATA / "molnet" / "hiv.csv.gz")
        print("hiv", json.dumps(results["hiv"]), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        results["moses"] = _throughput(args.run_dir, args.moses, args.repeats, Path(scratch))
    print("moses", json.dumps(results["moses"], indent=1), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
