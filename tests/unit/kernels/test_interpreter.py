"""Runs the Triton kernel checks of test_kernels.py under Triton's CPU interpreter.

TRITON_INTERPRET=1 must be set before triton is imported and applies to the whole process, so
the checks run in a child pytest (about 20 s on two cores). Run them directly, with one line per
check, by: ``TRITON_INTERPRET=1 pytest -m interpreter tests/unit/kernels/test_kernels.py``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.interpreter
@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton not installed")
@pytest.mark.skipif(
    os.environ.get("TRITON_INTERPRET") == "1",
    reason="TRITON_INTERPRET=1 is set: test_kernels.py runs the interpreter checks in-process",
)
def test_triton_kernels_under_interpreter():
    command = [
        sys.executable, "-m", "pytest", str(HERE / "test_kernels.py"),
        "-m", "interpreter", "-q", "-p", "no:cacheprovider", "--no-header",
    ]  # fmt: skip
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run(command, cwd=HERE.parents[2], env=env, capture_output=True, text=True, timeout=600)
    report = done.stdout[-8000:] + done.stderr[-4000:]
    assert done.returncode == 0, f"interpreter checks failed:\n{report}"
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, report
