"""``biomodels generate sample``: new molecules from a trained generative model.

:func:`sample` loads a run directory of ``biomodels generate train`` (or, without one, the prior
shipped in ``biomodels/generate/prior/``, described by its ``MODEL_CARD.md``) and writes one row per
generated molecule, invalid ones included (:data:`~biomodels.generate.models.SAMPLE_COLUMNS`):
``smiles`` (RDKit canonical, empty when invalid), ``raw`` (as generated), ``valid``, ``error``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from biomodels.exceptions import CheckpointError, InputError
from biomodels.generate.models import GenerativeModel
from biomodels.train.run import load_run
from biomodels.utils import atomic_path

__all__ = ["PRIOR_DIR", "load_generator", "sample"]

PRIOR_DIR = Path(__file__).parent / "prior"
"""Where the shipped CharRNN prior (a run directory) lives in the package."""


def load_generator(run: str | Path | None = None) -> GenerativeModel:
    """The generative model of the run directory ``run`` (None: the shipped prior).

    Raises:
        CheckpointError: the run directory is missing or corrupt, holds no generative model, or
            no run was given and this installation ships no prior.
    """
    if run is None:
        if not (PRIOR_DIR / "model").is_dir():
            raise CheckpointError(
                PRIOR_DIR,
                "this installation has no shipped prior (no prior/model); pass a run of `generate train`",
            )
        run = PRIOR_DIR
    model = load_run(run).model
    if not isinstance(model, GenerativeModel):
        raise CheckpointError(run, f"holds a {model.name} model, not a generative one (charrnn, vae)")
    return model


def sample(
    run: str | Path | None = None,
    n: int = 30_000,
    out: str | Path | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    batch_size: int = 1_000,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Generate ``n`` molecules with the model of ``run``; write them to ``out`` (CSV) if given.

    Returns:
        ``n`` rows: ``smiles``, ``raw``, ``valid``, ``error``.

    Raises:
        InputError: ``n`` or ``temperature`` negative. CheckpointError: see :func:`load_generator`.
    """
    if n < 0:
        raise InputError(None, f"-n must be >= 0, got {n}")
    table = load_generator(run).sample(
        n, seed=seed, temperature=temperature, batch_size=batch_size, progress=progress
    )
    if out is not None:
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
    return table
