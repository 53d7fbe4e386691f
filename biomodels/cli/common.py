"""Shared CLI plumbing: one-line errors instead of tracebacks, progress bars, logging set-up."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from biomodels.exceptions import BiomodelsError
from biomodels.registry import ENGINES

ENCODING_HELP = "Text encoding of the input file, e.g. latin-1 or cp1252 (decoded strictly)."
ENGINE_HELP = (
    f"What runs the networks: {' | '.join(ENGINES.names())} "
    "(onnxruntime: RUN_DIR/model.onnx, else exported on loading)."
)
MIN_SIMILARITY_HELP = (
    "Nearest-neighbour Tanimoto to the training set at or above which a row is in_domain "
    "(default: the threshold saved with the model)."
)
NO_DOMAIN_HELP = (
    "Leave out nn_similarity, nn_id and in_domain (for timing, or a model saved without its "
    "training set); _std is then the ensemble spread alone."
)


def domain_line(in_domain: int, scored: int, min_similarity: float | None) -> str:
    """The summary line of the rows in the applicability domain."""
    threshold = "the model's threshold" if min_similarity is None else f"{min_similarity:g}"
    share = f"{100 * in_domain / scored:.1f}%" if scored else "-"
    return f"in domain (nn_similarity >= {threshold}): {in_domain} of {scored} scored rows ({share})"


def print_split_metrics(metrics: dict[str, Any], prefix: str = "") -> None:
    """One line per evaluated split (``val``, ``test``): its scores rounded to 4 places, as JSON.

    ``metrics[split]`` is either the scores themselves or ``compute_metrics``' result, whose
    ``mean`` entry holds them.
    """
    import json

    for name in ("val", "test"):
        if name in metrics:
            scores = metrics[name].get("mean", metrics[name])
            console.print(f"{prefix}{name}: {json.dumps({k: round(v, 4) for k, v in scores.items()})}")


err_console = Console(stderr=True)
console = Console()
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Turn any error into one red line on stderr and exit code 2 (``BIOMODELS_DEBUG=1``: traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("BIOMODELS_DEBUG"):
                raise
            kind = "error" if isinstance(exc, BiomodelsError) else f"error ({type(exc).__name__})"
            message = " ".join(str(exc).split()) or type(exc).__name__
            err_console.print(f"[red]{kind}:[/red] {message}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def setup_logging(verbose: bool = False) -> None:
    """Route biomodels' log records to a rich handler on stderr."""
    logger = logging.getLogger("biomodels")
    if any(isinstance(h, RichHandler) for h in logger.handlers):
        return
    handler = RichHandler(console=err_console, show_path=False, show_time=False)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)


def progress_bar(transient: bool = False) -> Progress:
    """A rich progress bar that shows counts, rate and elapsed time (hidden when not a TTY)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
        disable=not sys.stderr.isatty() and not os.environ.get("BIOMODELS_PROGRESS"),
    )


@contextlib.contextmanager
def counting_progress(label: str, unit: str) -> Iterator[Callable[[int], None]]:
    """A progress bar of unknown total; yields ``advance(n)``, which adds ``n`` done items and
    shows the rate in ``unit`` per second."""
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(label, total=None, rate="")
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=done, rate=f"{rate:,.0f} {unit}/s")

        yield advance
