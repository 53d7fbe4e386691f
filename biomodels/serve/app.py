"""The HTTP model server: FastAPI routes over loaded runs, each behind a :class:`DynamicBatcher`.

Routes (OpenAPI docs at ``/docs``)::

    POST /predict      {"smiles": [...]} or {"text": [...]}, optional "model": NAME
                       -> {"model", "engine", "n", "n_errors", "results": [one object per item]}
    GET  /health       -> {"status": "ok", "models": [...], ...}
    GET  /models       -> one description per model: registry key, input, targets, config,
                          metrics, format version, library versions, engine
    GET  /models/NAME  -> that model's description

Each result holds every column of the model's prediction frame (``Run.predict``): ``row``,
``id``, ``smiles`` or the text's columns, the predictions, their uncertainty, any column a
model family adds, and ``error`` (null, or why that item could not be scored), in input order.
A bad item never fails a request. Errors of the request itself: 422 for malformed JSON, a
missing or wrong field, 413 beyond ``max_items`` items (the message gives the limit), 404 for
an unknown model name.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pandas as pd
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from biomodels import __version__
from biomodels.serve.batching import DynamicBatcher
from biomodels.train.checkpoint import MODEL_FILE
from biomodels.train.run import Run
from biomodels.utils import read_json

__all__ = ["DEFAULT_MAX_ITEMS", "PredictRequest", "create_app", "describe_model"]

DEFAULT_MAX_ITEMS = 100_000
INPUT_FIELDS = {"molecule": "smiles", "text": "text"}
"""The request field of each input kind that can be served."""


class PredictRequest(BaseModel):
    """A prediction request: the items under the field of the model's input kind."""

    smiles: list[Any] | None = Field(None, description="SMILES strings, for molecule models.")
    text: list[Any] | None = Field(None, description="Texts, for text models.")
    model: str | None = Field(None, description="Name of a served model (default: the first).")


def describe_model(run: Run) -> dict[str, Any]:
    """What ``GET /models`` says about a run: registry key, input, targets or classes, the
    run's config and metrics (per-epoch histories left out), format and library versions."""
    meta = read_json(run.path / "model" / MODEL_FILE)
    metrics = {k: v for k, v in run.metrics.items() if k != "history"}
    return {
        "name": run.name,
        "model": run.model.name,
        "input": run.model.input_kind,
        "field": INPUT_FIELDS.get(run.model.input_kind),
        "targets": getattr(run.model, "target_names_", None),
        "classes": getattr(run.model, "classes_", None),
        "engine": run.engine,
        "format_version": meta.get("format_version"),
        "versions": meta.get("versions", {}),
        "config": run.config,
        "metrics": metrics,
    }


def create_app(
    runs: Sequence[Run], max_items: int = DEFAULT_MAX_ITEMS, max_batch: int = 4096, max_wait: float = 0.005
) -> FastAPI:
    """The FastAPI application serving ``runs`` (loaded once, by the caller).

    Args:
        runs: loaded runs of models that read molecules or text; names must be distinct.
        max_items: items per request, at most (beyond: 413).
        max_batch, max_wait: dynamic batching (see :class:`DynamicBatcher`).

    Raises:
        ValueError: no run, two runs of one name, or a model that reads images or vectors.
    """
    if not runs:
        raise ValueError("serve at least one run")
    models = {run.name: run for run in runs}
    if len(models) != len(runs):
        raise ValueError(f"two served runs share a name: {', '.join(r.name for r in runs)}")
    for run in runs:
        if run.model.input_kind not in INPUT_FIELDS:
            raise ValueError(
                f"{run.path}: a {run.model.name} model reads {run.model.input_kind}s; "
                f"served models read {' or '.join(INPUT_FIELDS)}"
            )
    batchers = {name: DynamicBatcher(run.predict, max_batch, max_wait) for name, run in models.items()}
    started = time.time()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for batcher in batchers.values():
            await batcher.start()
        yield
        for batcher in batchers.values():
            await batcher.stop()

    app = FastAPI(
        title="biomodels",
        version=__version__,
        description="Predictions of trained biomodels runs: one result per item, in order.",
        lifespan=lifespan,
    )

    def lookup(name: str | None) -> Run:
        if name is None:
            return runs[0]
        if name not in models:
            raise HTTPException(404, f"unknown model {name!r}; served: {', '.join(models)}")
        return models[name]

    @app.post("/predict", summary="Predict a list of molecules (or texts)")
    async def predict(request: PredictRequest) -> Response:
        run = lookup(request.model)
        field = INPUT_FIELDS[run.model.input_kind]
        items = getattr(request, field)
        if items is None:
            raise HTTPException(
                422, f'model {run.name!r} reads {run.model.input_kind}s: send {{"{field}": [...]}}'
            )
        if len(items) > max_items:
            raise HTTPException(
                413, f"{len(items)} items exceed the limit of {max_items} per request (--max-items)"
            )
        texts = [item if isinstance(item, str) else "" for item in items]
        frame = await batchers[run.name].submit(texts) if texts else pd.DataFrame(columns=["error"])
        for i, item in enumerate(items):
            if not isinstance(item, str):
                frame.loc[i, "error"] = f"item {i} is not a string (got {type(item).__name__})"
        body = frame.to_json(orient="records", double_precision=15)
        head = json.dumps(
            {
                "model": run.name,
                "engine": run.engine,
                "n": len(frame),
                "n_errors": int(frame["error"].notna().sum()),
            }
        )
        return Response(f'{head[:-1]}, "results": {body}}}', media_type="application/json")

    @app.get("/health", summary="Liveness and what is served")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "models": list(models),
            "uptime_s": round(time.time() - started, 1),
            "batches": {name: b.batches for name, b in batchers.items()},
            "items": {name: b.items for name, b in batchers.items()},
            "pending": {name: b.pending for name, b in batchers.items()},
        }

    @app.get("/models", summary="Every served model")
    async def list_models() -> list[dict[str, Any]]:
        return [describe_model(run) for run in runs]

    @app.get("/models/{name}", summary="One served model")
    async def get_model(name: str) -> dict[str, Any]:
        return describe_model(lookup(name))

    return app
