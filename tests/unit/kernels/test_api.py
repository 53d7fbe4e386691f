"""The public surface of biomodels.kernels: exports, dispatch, validation, optional Triton."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch
from torch_geometric.utils import scatter

import biomodels.kernels as kernels
import biomodels.kernels.ops as ops
from biomodels.exceptions import UnknownNameError
from biomodels.kernels import (
    KernelUnavailableError,
    aggregate,
    dmpnn_message_update,
    resolve_backend,
)


def test_every_exported_name_exists():
    assert sorted(kernels.__all__) == sorted(set(kernels.__all__))
    for name in kernels.__all__:
        assert hasattr(kernels, name), name


def test_auto_backend_uses_torch_on_cpu():
    assert resolve_backend("auto", torch.device("cpu")) == "torch"
    assert resolve_backend("torch", torch.device("cpu")) == "torch"


def test_auto_backend_on_cuda_keeps_fp32_sums_on_cusparse(monkeypatch):
    monkeypatch.setattr(ops, "WITH_TRITON", True)
    cuda = torch.device("cuda")
    assert resolve_backend("auto", cuda, "sum", torch.float32) == "torch"
    assert resolve_backend("auto", cuda, "mean", torch.float32) == "torch"
    assert resolve_backend("auto", cuda, "max", torch.float32) == "triton"
    assert resolve_backend("auto", cuda, "sum", torch.bfloat16) == "triton"
    assert resolve_backend("auto", cuda) == "triton"
    monkeypatch.setattr(ops, "WITH_TRITON", False)
    assert resolve_backend("auto", cuda, "max", torch.float32) == "torch"


def test_unknown_names_list_the_choices():
    x, edge_index = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(UnknownNameError, match="choose one of: max, mean, sum"):
        aggregate(x, edge_index, 3, reduce="min")
    with pytest.raises(UnknownNameError, match="auto, torch, triton"):
        aggregate(x, edge_index, 3, backend="cuda")


@pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") == "1", reason="interpreter is on")
@pytest.mark.skipif(not kernels.WITH_TRITON, reason="triton not installed")
def test_triton_backend_on_cpu_needs_the_interpreter():
    with pytest.raises(KernelUnavailableError, match="TRITON_INTERPRET=1"):
        aggregate(torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]]), 3, backend="triton")


@pytest.mark.parametrize(
    ("x", "weight", "message"),
    [
        (torch.randn(4, 2), None, r"3 rows"),
        (torch.ones(3, 2, dtype=torch.long), None, "floating-point"),
        (torch.randn(3, 2), torch.ones(5), r"shape \(2,\)"),
        (torch.randn(3, 2), torch.ones(2, dtype=torch.long), "floating-point"),
    ],
    ids=["rows", "int-features", "weight-shape", "int-weight"],
)
def test_aggregate_rejects_bad_inputs(x, weight, message):
    with pytest.raises(ValueError, match=message):
        aggregate(x, torch.tensor([[0, 1], [1, 2]]), 3, edge_weight=weight)


def test_dmpnn_rejects_wrong_message_count():
    edge_index, rev = torch.tensor([[0, 1], [1, 0]]), torch.tensor([1, 0])
    with pytest.raises(ValueError, match="2 rows"):
        dmpnn_message_update(torch.randn(3, 4), edge_index, rev, 2)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_torch_path_agrees_with_pyg_scatter(reduce):
    gen = torch.Generator().manual_seed(1)
    edge_index = torch.randint(0, 40, (2, 200), generator=gen)
    x = torch.randn(45, 8, generator=gen)
    expected = scatter(x[edge_index[0]], edge_index[1], 0, 45, reduce=reduce)
    torch.testing.assert_close(aggregate(x, edge_index, 45, reduce), expected)


def test_aggregate_under_inference_mode():
    with torch.inference_mode():
        x, edge_index = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
        out = aggregate(x, edge_index, 3, "mean")
    torch.testing.assert_close(out, torch.stack([torch.zeros(2), x[0], x[1]]))


def test_package_imports_without_triton():
    """Triton is imported lazily, and its absence leaves the PyTorch path working."""
    script = textwrap.dedent(
        """
        import sys
        import torch
        import biomodels.kernels as kernels
        assert "triton" not in sys.modules, "importing biomodels.kernels imported triton"

        sys.modules["triton"] = None  # as if it were not installed
        import importlib
        ops = importlib.reload(sys.modules["biomodels.kernels.ops"])
        assert not ops.WITH_TRITON
        x, edge_index = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
        assert ops.aggregate(x, edge_index, 3).shape == (3, 2)
        try:
            ops.aggregate(x, edge_index, 3, backend="triton")
        except ops.KernelUnavailableError as error:
            assert "biomodels[gpu]" in str(error)
        else:
            raise AssertionError("backend='triton' without triton did not raise")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
