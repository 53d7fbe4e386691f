"""Where the kernel checks run: the PyTorch path, Triton's CPU interpreter, and CUDA.

Tests that take the ``target`` fixture run once per target. Triton's interpreter is switched on
by ``TRITON_INTERPRET=1`` before triton is imported, for the whole process, so setting it here
would turn every Triton kernel of the session (other packages' GPU tests too) into interpreted
code. Instead ``test_interpreter.py`` starts a separate pytest with the variable set; in that
process the interpreter target replaces the CUDA ones.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass

import pytest
import torch

from biomodels.kernels import clear_csr_cache

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"


@dataclass(frozen=True)
class Target:
    """A backend on a device, with graph sizes that suit it.

    ``nodes``/``edges``/``features`` size the random graphs; ``hub`` is the in-degree of the
    hub node in the high-degree tests (the interpreter lowers the chunk size instead, so that its
    tiny hub is still split); molecule batches hold ``molecules`` of 5 to ``max_atoms`` atoms.
    """

    backend: str
    device: str
    nodes: int
    edges: int
    features: int
    hub: int
    molecules: int
    max_atoms: int


TORCH = Target("torch", "cpu", 60, 300, 33, hub=3000, molecules=20, max_atoms=30)
INTERPRETER = Target("triton", "cpu", 8, 20, 10, hub=40, molecules=2, max_atoms=10)
CUDA = Target("triton", "cuda", 5000, 40_000, 130, hub=100_000, molecules=500, max_atoms=30)
TORCH_CUDA = Target("torch", "cuda", 5000, 40_000, 130, hub=100_000, molecules=500, max_atoms=30)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" not in metafunc.fixturenames:
        return
    params = [pytest.param(TORCH, id="torch")]
    if INTERPRETED:
        params.append(pytest.param(INTERPRETER, id="interpreter", marks=pytest.mark.interpreter))
    else:
        params += [
            pytest.param(CUDA, id="triton-cuda", marks=pytest.mark.gpu),
            pytest.param(TORCH_CUDA, id="torch-cuda", marks=pytest.mark.gpu),
        ]
    metafunc.parametrize("target", params, indirect=True)


@pytest.fixture
def target(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Target:
    """The target of this test run; lowers the hub thresholds under the interpreter."""
    chosen: Target = request.param
    if chosen.backend == "triton":
        pytest.importorskip("triton")
        if chosen is INTERPRETER:
            from biomodels.kernels import triton_ops

            monkeypatch.setattr(triton_ops, "MIN_CHUNK", 8)
            monkeypatch.setattr(triton_ops, "FUSED_MAX_DEGREE", 8)
    clear_csr_cache()
    return chosen


@pytest.fixture
def gen(request: pytest.FixtureRequest) -> torch.Generator:
    """A CPU generator seeded from the test id: fresh inputs per test, reproducible per test."""
    return torch.Generator().manual_seed(zlib.crc32(request.node.nodeid.encode()))
