"""Drug-target affinity workflows: train a run directory, score ligands x targets.

:func:`train` is :func:`biomodels.train.run.train_run` with the ``dta`` model; :func:`predict`
scores every ligand against every target of a trained run. A ligand file is streamed in chunks
(memory bounded by ``chunk_size`` rows) into a CSV or Parquet file written atomically,
so a library of millions of compounds can be ranked against a kinase given as a FASTA file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from biomodels.dta.estimator import AffinityEstimator, as_targets
from biomodels.exceptions import InputError
from biomodels.io.molecules import MoleculeParser, iter_molecule_chunks, records_from
from biomodels.io.tablewriter import ChunkedTableWriter
from biomodels.train.run import Run, TrainRunConfig, TrainRunResult, load_run, train_run

logger = logging.getLogger(__name__)

__all__ = ["PredictSummary", "predict", "train"]


def train(
    data: str | Path,
    out: str | Path,
    split: str = "setting1",
    seed: int = 0,
    epochs: int | None = None,
    force: bool = False,
    progress: bool = False,
    **params: Any,
) -> TrainRunResult:
    """Train the affinity model on ``data`` (DeepDTA directory or pair table) into ``out``.

    Args:
        split: ``setting1``, ``random``, ``cold-drug``, ``cold-target`` or ``cold-both``.
        params: further :class:`~biomodels.dta.estimator.AffinityEstimator` arguments.
    """
    config = TrainRunConfig(
        data=str(data), model="dta", split=split, seed=seed, epochs=epochs, params=params, progress=progress
    )
    return train_run(config, out, force=force)


@dataclass
class PredictSummary:
    """What :func:`predict` wrote: rows, ligands, targets, rows without a value and why."""

    rows: int = 0
    ligands: int = 0
    targets: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, frame: pd.DataFrame) -> None:
        self.rows += len(frame)
        failed = frame["error"].dropna()
        self.failed += len(failed)
        for reason in failed.str.split(":").str[0]:
            self.errors[reason] = self.errors.get(reason, 0) + 1


def predict(
    run: str | Path | Run,
    ligands: Any,
    targets: Any,
    out: str | Path | None = None,
    chunk_size: int = 100_000,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame | PredictSummary:
    """Predict every ligand x every target with a trained ``dta`` run, ligand-major.

    Args:
        run: the run directory (or a loaded :class:`~biomodels.train.run.Run`).
        ligands: a molecule file (streamed when ``out`` is given: ``chunk_size`` rows, that is
            ``chunk_size // len(targets)`` ligands, are scored and written at a time), a list
            of SMILES or a DataFrame.
        targets: a protein FASTA, nucleotide FASTA or GenBank file, or protein sequences.
        out: ``.parquet`` or ``.csv`` to write; None returns the table.
        progress: called with the number of ligands of each chunk done.

    Returns:
        The table (``out`` None), else a :class:`PredictSummary` of the file written.

    Raises:
        InputError: the run is not an affinity model, or unreadable ligand or target files.
    """
    run = run if isinstance(run, Run) else load_run(run)
    model = run.model
    if not isinstance(model, AffinityEstimator):
        raise InputError(run.path, f"holds a {model.name} model, not a drug-target affinity (dta) model")
    target_list = as_targets(targets)
    embeddings = model.embed_targets(target_list)
    if out is None:
        records = MoleculeParser().parse_chunk(records_from(ligands))
        return model.predict_grid(records, target_list, embeddings)
    if not isinstance(ligands, (str, Path)):
        raise InputError(None, "with an output file, give the ligands as a molecule file")
    summary = PredictSummary(targets=len(target_list))
    per_chunk = max(1, chunk_size // max(len(target_list), 1))
    with ChunkedTableWriter(out) as writer:
        for records in iter_molecule_chunks(ligands, chunk_size=per_chunk):
            frame = model.predict_grid(records, target_list, embeddings)
            writer.write(frame)
            summary.add(frame)
            summary.ligands += len(records)
            if progress is not None:
                progress(len(records))
    logger.info("predicted %d ligands x %d targets -> %s", summary.ligands, summary.targets, out)
    return summary
