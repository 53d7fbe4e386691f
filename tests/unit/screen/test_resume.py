"""Resume: killed or interrupted at random points, a resumed run equals an uninterrupted one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from biomodels.cli.main import app
from biomodels.exceptions import InputError
from biomodels.screen import RankingConfig, ScreenConfig, screen
from biomodels.screen.resume import parts_dir

from .conftest import CLI_SCRIPT, write_library

CONFIG = ScreenConfig(chunk_size=40, workers=1)
RANKING = RankingConfig(top=10)


class Crash(Exception):
    """Stands for the process dying between two chunk commits."""


@pytest.fixture(scope="module")
def big_library(tmp_path_factory):
    return write_library(tmp_path_factory.mktemp("resume") / "lib.smi", 1200)


@pytest.fixture(scope="module")
def reference(run_a, big_library, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "ref.parquet"
    summary = screen([run_a], big_library, out, CONFIG, RANKING)
    return pd.read_parquet(out), summary.top


def _crash_after(chunks: int):
    seen = []

    def progress(rows: int) -> None:
        seen.append(rows)
        if len(seen) == chunks:
            raise Crash

    return progress


def _interrupted(run_dirs, library, out, chunks: int) -> None:
    with pytest.raises(Crash):
        screen(run_dirs, library, out, CONFIG, RANKING, progress=_crash_after(chunks))
    assert not out.exists() and parts_dir(out).is_dir()


def test_sigkill_then_resume_equals_uninterrupted(run_a, big_library, reference, tmp_path):
    out = tmp_path / "hits.parquet"
    args = [
        "screen",
        str(run_a),
        str(big_library),
        "-o",
        str(out),
        "--chunk-size",
        "40",
        "--workers",
        "1",
        "--top",
        "10",
        "--no-report",
    ]
    kill_after = random.Random(7).randint(1, 12)
    process = subprocess.Popen(
        [sys.executable, "-c", CLI_SCRIPT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(parts_dir(out).glob("part-*.parquet"))) < kill_after:
            assert process.poll() is None and time.monotonic() < deadline, "run ended before the kill"
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL and not out.exists()

    result = CliRunner().invoke(app, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    assert "resumed:" in result.output
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference[0])
    pd.testing.assert_frame_equal(pd.read_csv(out.with_suffix(".top.csv")), reference[1].pipe(_via_csv))
    assert not parts_dir(out).exists()


def _via_csv(frame: pd.DataFrame) -> pd.DataFrame:
    import io

    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


@pytest.mark.parametrize("seed", [0, 1])
def test_interrupted_at_random_chunks_then_resumed(run_a, big_library, reference, tmp_path, seed):
    out = tmp_path / "hits.csv"
    rng = random.Random(seed)
    for _ in range(2):  # interrupted twice, the second time while resuming
        done = len(list(parts_dir(out).glob("part-*"))) if parts_dir(out).exists() else 0
        with pytest.raises(Crash):
            screen(
                [run_a],
                big_library,
                out,
                CONFIG,
                RANKING,
                resume=True,
                progress=_crash_after(rng.randint(1, 10)),
            )
        assert len(list(parts_dir(out).glob("part-*"))) > done
    (parts_dir(out) / ".part-000029.parquet.x1y2.parquet").write_bytes(b"half a commit")
    summary = screen([run_a], big_library, out, CONFIG, RANKING, resume=True)
    assert summary.resumed_rows > 0 and summary.rows == 1200
    pd.testing.assert_frame_equal(
        pd.read_csv(out, keep_default_na=False, na_values=[""]),
        reference[0].pipe(_via_csv),
        check_dtype=False,
    )


def test_mismatched_library_or_model_refuses_and_touches_nothing(run_a, run_b, big_library, tmp_path):
    library = write_library(tmp_path / "lib.smi", 300)
    out = tmp_path / "hits.parquet"
    _interrupted([run_a], library, out, chunks=3)
    before = {p.name: p.read_bytes() for p in parts_dir(out).iterdir()}
    stat = library.stat()
    with open(library, "a") as handle:
        handle.write("CCO added\n")
    with pytest.raises(InputError, match="cannot resume: the library differ"):
        screen([run_a], library, out, CONFIG, resume=True)
    original = write_library(library, 300).read_bytes()
    edited = bytearray(original)
    edited[-5] = ord("N") if edited[-5] != ord("N") else ord("O")  # same size, near the end
    library.write_bytes(bytes(edited))
    os.utime(library, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old modification time
    with pytest.raises(InputError, match="library differ"):
        screen([run_a], library, out, CONFIG, resume=True)
    library.write_bytes(original)  # the same content under a new mtime resumes
    with pytest.raises(InputError, match="models differ"):
        screen([run_b], library, out, CONFIG, resume=True)
    with pytest.raises(InputError, match="options differ"):
        screen([run_a], library, out, ScreenConfig(chunk_size=41, workers=1), resume=True)
    assert {p.name: p.read_bytes() for p in parts_dir(out).iterdir()} == before
    assert not out.exists()


def test_leftover_parts_without_resume_is_an_error(run_a, library, tmp_path):
    out = tmp_path / "hits.parquet"
    _interrupted([run_a], library, out, chunks=2)
    with pytest.raises(InputError, match="pass --resume to continue it, or remove the folder"):
        screen([run_a], library, out, CONFIG)
