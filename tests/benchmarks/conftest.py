"""The scripts under ``benchmarks/`` loaded as modules, so their helpers can be tested."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module (registered in ``sys.modules``: dataclasses look it up)."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def peers() -> ModuleType:
    return load_benchmark("peers")


@pytest.fixture(scope="module")
def moleculenet() -> ModuleType:
    return load_benchmark("moleculenet")


@pytest.fixture(scope="module")
def generation() -> ModuleType:
    return load_benchmark("generation")


@pytest.fixture(scope="module")
def results() -> Path:
    """``benchmarks/results``: the JSON the benchmarks wrote."""
    return BENCHMARKS / "results"
