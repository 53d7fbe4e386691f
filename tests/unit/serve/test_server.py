"""The HTTP server: through FastAPI's test client, and once through a real uvicorn process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from biomodels.serve import DynamicBatcher, create_app
from biomodels.train.run import TrainRunConfig, load_run, train_run

ROOT = Path(__file__).resolve().parents[3]
VALID = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "O=C(O)c1ccccc1", "C1CCCCC1", "OCC(O)CO"]
INVALID = ["not a smiles", "C1CC", "", "c1ccc", "Q"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny trained D-MPNN (2 epochs) on 40 molecules."""
    folder = tmp_path_factory.mktemp("serve")
    rng = np.random.default_rng(0)
    smiles = [s + "C" * k for k in range(6) for s in VALID][:40]
    pd.DataFrame({"smiles": smiles, "y": rng.normal(size=len(smiles))}).to_csv(folder / "d.csv", index=False)
    config = TrainRunConfig(str(folder / "d.csv"), targets=["y"], epochs=2, workers=1,
                            params={"hidden": 16, "depth": 2, "device": "cpu"})  # fmt: skip
    return train_run(config, folder / "run").run_dir


@pytest.fixture(scope="module")
def client(run_dir: Path):
    with TestClient(create_app([load_run(run_dir)], max_items=50)) as client:
        yield client


def test_predict_keeps_every_item_in_order_with_errors(client: TestClient, run_dir: Path) -> None:
    items = [VALID[i % 7] if i % 9 else INVALID[i % 5] for i in range(45)]
    response = client.post("/predict", json={"smiles": items})
    assert response.status_code == 200
    body = response.json()
    results = pd.DataFrame(body["results"])
    expected = load_run(run_dir).predict(items)
    assert body["n"] == 45 and body["n_errors"] == int(expected["error"].notna().sum()) > 0
    assert list(results.columns) == list(expected.columns)  # every column of the frame
    assert results["row"].tolist() == list(range(45)) and results["smiles"].tolist() == items
    assert results["error"].isna().tolist() == expected["error"].isna().tolist()
    np.testing.assert_allclose(results["y"].astype(float), expected["y"], atol=1e-5)


def test_request_errors(client: TestClient) -> None:
    malformed = client.post("/predict", content=b'{"smiles": [', headers={"content-type": "application/json"})
    assert malformed.status_code == 422 and "JSON" in str(malformed.json()["detail"])
    assert client.post("/predict", json={"smile": ["C"]}).status_code == 422
    too_many = client.post("/predict", json={"smiles": ["C"] * 51})
    assert too_many.status_code == 413 and "limit of 50" in too_many.json()["detail"]
    unknown = client.post("/predict", json={"smiles": ["C"], "model": "nope"})
    assert unknown.status_code == 404 and "unknown model 'nope'" in unknown.json()["detail"]
    assert client.get("/models/nope").status_code == 404
    odd = client.post("/predict", json={"smiles": ["CCO", 7, None]}).json()["results"]
    assert odd[0]["error"] is None and odd[1]["error"] == "item 1 is not a string (got int)"
    assert odd[2]["y"] is None and "not a string" in odd[2]["error"]
    assert client.post("/predict", json={"smiles": []}).json()["results"] == []


def test_health_models_and_docs(client: TestClient, run_dir: Path) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["models"] == [run_dir.name]
    (model,) = client.get("/models").json()
    assert model["model"] == "dmpnn" and model["targets"] == ["y"] and model["format_version"] >= 1
    assert "torch" in model["versions"] and model["config"]["epochs"] == 2 and "test" in model["metrics"]
    assert client.get("/docs").status_code == 200
    assert "/predict" in client.get("/openapi.json").json()["paths"]


def test_concurrent_requests_are_batched_together() -> None:
    calls: list[int] = []

    def predict(items: list[str]) -> pd.DataFrame:
        calls.append(len(items))
        return pd.DataFrame({"row": range(len(items)), "item": items, "error": [None] * len(items)})

    async def main() -> list[pd.DataFrame]:
        batcher = DynamicBatcher(predict, max_batch=100, max_wait=0.05)
        await batcher.start()
        try:
            return await asyncio.gather(
                *(batcher.submit([f"{k}-{i}" for i in range(k)]) for k in range(1, 9))
            )
        finally:
            await batcher.stop()

    parts = asyncio.run(main())
    assert calls == [sum(range(1, 9))]  # eight requests, one model call
    for k, part in enumerate(parts, start=1):
        assert part["item"].tolist() == [f"{k}-{i}" for i in range(k)] and part["row"].tolist() == list(
            range(k)
        )


@pytest.mark.slow
def test_real_uvicorn_process(run_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable,
        "-m",
        "biomodels.cli.main",
        "serve",
        str(run_dir),
        "--port",
        str(port),
        "--seed",
        "0",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"the server did not start: {server.stdout.read1().decode()}")
        response = httpx.post(f"{url}/predict", json={"smiles": VALID + INVALID}, timeout=30)
        assert response.status_code == 200
        assert [r["error"] is None for r in response.json()["results"]] == [True] * 7 + [False] * 5
    finally:
        server.terminate()
        server.wait(timeout=30)
