"""The streamed output's writer: a killed run's hidden temporary is removed by the next run."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from biomodels.screen.writer import ChunkedTableWriter

KILLED_WRITER = """
import os, signal, sys
import pandas as pd
from biomodels.screen.writer import ChunkedTableWriter
with ChunkedTableWriter(sys.argv[1]) as writer:
    writer.write(pd.DataFrame({"row": [0, 1], "smiles": ["C", "CC"]}))
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_sigkilled_writers_temporary_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "out.parquet"
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(out)], cwd=os.getcwd(), check=False)
    assert done.returncode == -9
    leftovers = list(tmp_path.glob(".out.parquet.*.parquet"))
    assert len(leftovers) == 1 and not out.exists()
    with ChunkedTableWriter(out) as writer:
        writer.write(pd.DataFrame({"row": [0], "smiles": ["N"]}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]
    assert pd.read_parquet(out)["smiles"].tolist() == ["N"]


def test_temporaries_of_live_writers_and_of_other_outputs_are_kept(tmp_path):
    live = tmp_path / f".out.csv.{os.getpid()}-abc123.csv"  # this process: still running
    other = tmp_path / ".out.csv.top.csv.999999999-abc123.csv"  # another output's name
    unknown = tmp_path / ".out.csv.abc123.csv"  # no pid: cannot tell whose it is
    for path in (live, other, unknown):
        path.write_text("partial")
    with ChunkedTableWriter(tmp_path / "out.csv") as writer:
        writer.write(pd.DataFrame({"row": [0]}))
    assert live.exists() and other.exists() and unknown.exists()
    assert pd.read_csv(tmp_path / "out.csv")["row"].tolist() == [0]
