"""``biomodels export``: a trained run's networks as an ONNX file that ONNX Runtime runs."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from biomodels.cli.common import console, friendly_errors

FORMATS = ("onnx",)


@friendly_errors
def export(
    run_dir: Path = typer.Argument(..., help="Run directory (biomodels train / diagnostics train)."),
    format: str = typer.Option("onnx", "--format", help=f"Export format: {' | '.join(FORMATS)}."),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Output file (default: RUN_DIR/model.onnx, which --engine onnxruntime reads).",
    ),
    quantize: str = typer.Option(None, help="Dynamic quantisation of the weights: int8."),
    seed: int = typer.Option(0, help="Recorded for reproducibility; export is deterministic."),
) -> None:
    """Export the networks (every ensemble member) to ONNX; featurisation stays in Python."""
    from biomodels.exceptions import UnknownNameError
    from biomodels.train.engines import ONNX_FILE
    from biomodels.train.onnx import export_onnx
    from biomodels.train.run import load_run

    if format not in FORMATS:
        raise UnknownNameError("format", format, list(FORMATS))
    started = time.perf_counter()
    run = load_run(run_dir)
    path = export_onnx(run.model, out or run_dir / ONNX_FILE, run_dir / "model", quantize)
    size = path.stat().st_size / 2**20
    console.print(
        f"exported {run.model.name} ({quantize or 'fp32'}) -> {path} "
        f"({size:.2f} MiB, {time.perf_counter() - started:.1f} s)",
        highlight=False,
        soft_wrap=True,
    )
