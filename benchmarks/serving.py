"""Load benchmark of ``biomodels serve``: concurrent clients, latency, errors, server memory.

Starts ``biomodels serve RUN_DIR`` on a free loopback port (a real uvicorn process), then:

1. one request of 1,000 SMILES of which 5 are invalid: 1,000 results in order, 5 errors, and
   the largest difference from ``biomodels predict`` on the same file (run as a command, timed);
2. request errors: malformed JSON (422), more than ``--max-items`` items (413), an unknown
   model name (404);
3. the load: ``--clients`` threads each sending ``--requests`` requests of ``--batch`` SMILES
   (drawn in turn from ESOL): throughput, p50/p95/p99 latency, failed requests, and the
   server's RSS before and after (after the first request, so that the model is warm).

Example::

    python benchmarks/serving.py /tmp/serve-esol --clients 16 --requests 25 --batch 100
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
ESOL = ROOT.parent / "shared" / "data" / "molnet" / "esol.csv"
INVALID = ["not a smiles", "C1CC", "", "c1ccc", "Q"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "biomodels.cli.main", *args]


def _wait(url: str, server: subprocess.Popen) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"the server exited: {server.stdout.read().decode()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer /health in 60 s")


def _one_request_check(url: str, run_dir: Path, smiles: list[str], scratch: Path) -> dict:
    items = smiles[:995] + INVALID
    items = items[::2] + items[1::2]  # spread the invalid ones
    response = httpx.post(f"{url}/predict", json={"smiles": items}, timeout=120).json()
    got = pd.DataFrame(response["results"])
    path = scratch / "items.csv"
    pd.DataFrame({"smiles": items}).to_csv(path, index=False)
    started = time.perf_counter()
    subprocess.run(
        _cli("predict", str(run_dir), str(path), "-o", str(scratch / "p.csv")),
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    predict_seconds = time.perf_counter() - started
    expected = pd.read_csv(scratch / "p.csv")
    target = expected.columns[3]
    return {
        "items": len(items),
        "results": len(got),
        "in_order": got["smiles"].tolist() == items,
        "errors": int(got["error"].notna().sum()),
        "max_abs_diff_vs_predict": float(np.nanmax(np.abs(got[target].astype(float) - expected[target]))),
        "biomodels_predict_seconds": predict_seconds,
    }


def _status_checks(url: str, max_items: int) -> dict:
    malformed = httpx.post(
        f"{url}/predict", content=b'{"smiles": [', headers={"content-type": "application/json"}
    )
    oversized = httpx.post(f"{url}/predict", json={"smiles": ["C"] * (max_items + 1)}, timeout=120)
    unknown = httpx.post(f"{url}/predict", json={"smiles": ["C"], "model": "nope"})
    return {
        "malformed_json": malformed.status_code,
        "oversized": oversized.status_code,
        "oversized_detail": oversized.json()["detail"],
        "unknown_model": unknown.status_code,
    }


def _load(url: str, smiles: list[str], clients: int, requests: int, batch: int) -> dict:
    def client(k: int) -> tuple[list[float], int]:
        latencies, failures = [], 0
        with httpx.Client(timeout=300) as http:
            for r in range(requests):
                start = ((k * requests + r) * batch) % (len(smiles) - batch)
                began = time.perf_counter()
                response = http.post(f"{url}/predict", json={"smiles": smiles[start : start + batch]})
                latencies.append(time.perf_counter() - began)
                failures += response.status_code != 200 or len(response.json()["results"]) != batch
        return latencies, failures

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        outcomes = list(pool.map(client, range(clients)))
    wall = time.perf_counter() - started
    latencies = np.array([t for lat, _ in outcomes for t in lat]) * 1000
    return {
        "clients": clients,
        "requests": clients * requests,
        "batch": batch,
        "failed_requests": int(sum(f for _, f in outcomes)),
        "seconds": wall,
        "molecules_per_s": clients * requests * batch / wall,
        "latency_ms": {
            p: float(np.percentile(latencies, q)) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, nargs="?", default=Path("/tmp/serve-esol"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--max-items", type=int, default=100_000)
    parser.add_argument("--engine", default="torch")
    parser.add_argument("--seed", type=int, default=0, help="Recorded; the load is deterministic.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    smiles = pd.read_csv(ESOL)["smiles"].tolist()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = _cli(
        "serve",
        str(args.run_dir),
        "--port",
        str(port),
        "--max-items",
        str(args.max_items),
        "--engine",
        args.engine,
        "--seed",
        str(args.seed),
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait(url, server)
        process = psutil.Process(server.pid)
        results: dict = {"engine": args.engine}
        with tempfile.TemporaryDirectory() as scratch:
            results["one_request"] = _one_request_check(url, args.run_dir, smiles, Path(scratch))
        results["status_codes"] = _status_checks(url, args.max_items)
        rss_before = process.memory_info().rss
        results["load"] = _load(url, smiles, args.clients, args.requests, args.batch)
        rss_after = process.memory_info().rss
        results["rss_mib"] = {
            "before": rss_before / 2**20,
            "after": rss_after / 2**20,
            "ratio": rss_after / rss_before,
        }
        results["batching"] = httpx.get(f"{url}/health").json()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(results, indent=1))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
