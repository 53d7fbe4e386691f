"""Serving trained runs over HTTP (``biomodels serve``): FastAPI routes with dynamic batching.

:func:`create_app` builds the application over loaded runs; :class:`DynamicBatcher` coalesces
concurrent requests into one model call. Install the server with FastAPI and uvicorn (core
dependencies).
"""

from biomodels.serve.app import DEFAULT_MAX_ITEMS, PredictRequest, create_app, describe_model
from biomodels.serve.batching import DynamicBatcher

__all__ = ["DEFAULT_MAX_ITEMS", "DynamicBatcher", "PredictRequest", "create_app", "describe_model"]
