"""The command line starts without its heavy dependencies (``benchmarks/cli_startup.py`` times it).

Every verb imports its library code inside its command function, so importing the CLI, ``--help``,
``--version`` and each verb's ``--help`` leave torch, pandas, RDKit, scikit-learn and matplotlib
unimported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "pandas", "rdkit", "sklearn", "matplotlib")
SCRIPT = """
import json, sys
argv = json.loads(sys.argv[1])
from biomodels.cli.main import app
if argv is not None:
    try:
        app(argv, prog_name="biomodels")
    except SystemExit as exit:
        assert exit.code in (0, None), exit.code
print(json.dumps(sorted(m for m in HEAVY if m in sys.modules)))
""".replace("HEAVY", repr(HEAVY))


def _imported(argv: list[str] | None, prelude: str = "") -> list[str]:
    """The heavy modules loaded after running ``biomodels ARGV`` (None: only the import)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", prelude + SCRIPT, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [None, ["--help"], ["--version"]]
    + [[verb, "--help"] for verb in ("featurize", "train", "predict", "demo", "screen", "report")]
    + [["diagnostics", verb, "--help"] for verb in ("train", "predict", "sample")],
    ids=lambda argv: "import" if argv is None else " ".join(argv),
)
def test_cli_imports_no_heavy_module(argv):
    assert _imported(argv) == []


def test_the_check_sees_heavy_imports():
    """The same script reports a heavy import when one happens (the test above can fail)."""
    assert _imported(["--version"], prelude="import pandas\n") == ["pandas"]
