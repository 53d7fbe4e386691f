"""``biomodels serve``: trained runs behind an HTTP API (FastAPI + uvicorn)."""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli.common import ENGINE_HELP, console, friendly_errors


@friendly_errors
def serve(
    run_dirs: list[Path] = typer.Argument(..., help="Run directories of models that read molecules or text."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, help="TCP port."),
    max_items: int = typer.Option(100_000, help="Items per request, at most (beyond: HTTP 413)."),
    max_batch: int = typer.Option(4096, help="Items per model call when requests are batched together."),
    max_wait_ms: float = typer.Option(5.0, help="How long a request waits for others to batch with (ms)."),
    engine: str = typer.Option("torch", help=ENGINE_HELP),
    seed: int = typer.Option(0, help="Recorded for reproducibility; prediction is deterministic."),
) -> None:
    """POST /predict, GET /health, GET /models; OpenAPI docs at /docs. Models are loaded once."""
    import uvicorn

    from biomodels.screen.engine import load_models
    from biomodels.serve import create_app

    if not 1 <= max_items <= 100_000:
        from biomodels.exceptions import InputError

        raise InputError(None, f"--max-items must be between 1 and 100000, got {max_items}")
    runs = load_models(run_dirs, engine)
    app = create_app(runs, max_items=max_items, max_batch=max_batch, max_wait=max_wait_ms / 1000)
    names = ", ".join(f"{r.name} ({r.model.name})" for r in runs)
    console.print(f"serving {names} with {engine} on http://{host}:{port} (docs: /docs)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
