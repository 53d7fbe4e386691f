"""The embedded demo: train on RDKit's shipped activity set, screen RDKit's shipped NCI library.

Both data sets come with RDKit itself, so the demo runs on a fresh install with no downloads:
``CHEMBL2321810`` (1017 compounds with pIC50-like activities, ChEMBL assay CHEMBL2321810) and
``first_5K.smi`` (4999 NCI compounds).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rdkit import RDConfig

from biomodels.chem.domain import IN_DOMAIN, NN_ID, NN_SIMILARITY
from biomodels.screen.scoring import DomainOptions, PredictSummary, predict_file
from biomodels.train.run import TrainRunConfig, TrainRunResult, train_run
from biomodels.utils import atomic_path

logger = logging.getLogger(__name__)

ACTIVITY_DIR = Path(RDConfig.RDContribDir) / "FreeWilson" / "data"
NCI_LIBRARY = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
ACTIVITY = "Act"
"""The activity column of the shipped CSV: the demo's one target, and what it ranks by."""


@dataclass
class DemoResult:
    """Where the demo wrote its outputs and what it found."""

    train: TrainRunResult
    screen: PredictSummary
    top: pd.DataFrame
    top_csv: Path
    in_domain: int
    min_similarity: float
    """The ``in_domain`` threshold used."""
    score: str = f"predicted_{ACTIVITY}"
    """The column of ``top`` holding the predicted activity."""


def activity_table(out: Path) -> Path:
    """Join the shipped SMILES file and activity CSV into one ``smiles,id,Act`` table."""
    smiles = pd.read_csv(
        ACTIVITY_DIR / "CHEMBL2321810.smi", sep=r"\s+", header=None, names=["smiles", "id"], dtype=str
    )
    activity = pd.read_csv(ACTIVITY_DIR / "CHEMBL2321810_act.csv", dtype={"Name": str})
    table = smiles.merge(activity.rename(columns={"Name": "id"}), on="id", how="inner")
    path = out / "chembl2321810.csv"
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return path


def trainload_activity_run(
    out: str | Path, seed: int = 0, ensemble: int = 3, epochs: int = 25, progress: bool = False
) -> TrainRunResult:
    """The demo's activity model: a D-MPNN ensemble trained on CHEMBL2321810 into ``out/run``
    (the joined table is written to ``out/chembl2321810.csv``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = TrainRunConfig(
        data=str(activity_table(out)),
        targets=[ACTIVITY],
        model="dmpnn",
        epochs=epochs,
        seed=seed,
        progress=progress,
        params={"ensemble": ensemble},
    )
    return train_run(config, out / "run")


def run_demo(
    out: str | Path,
    seed: int = 0,
    ensemble: int = 3,
    epochs: int = 25,
    top: int = 20,
    library: str | Path = NCI_LIBRARY,
    progress: bool = False,
    min_similarity: float | None = None,
) -> DemoResult:
    """Train a D-MPNN ensemble on CHEMBL2321810, screen the NCI library, rank the top compounds.

    Every scored row carries the model's applicability domain (``nn_similarity`` to the nearest
    training compound, ``nn_id``, ``in_domain``; see :mod:`biomodels.chem.domain`); only
    compounds in the domain (``min_similarity``, default the model's threshold) are ranked, since
    predictions far outside the training chemistry are extrapolations.
    """
    out = Path(out)
    trained = trainload_activity_run(out, seed, ensemble, epochs, progress)
    scored_path = out / "nci_scored.parquet"
    workers = min(2, os.cpu_count() or 1)
    domain = DomainOptions(min_similarity=min_similarity)
    summary = predict_file(trained.run_dir, library, scored_path, workers=workers, domain=domain)
    scored = pd.read_parquet(scored_path)
    in_domain = scored[scored["error"].isna() & scored[IN_DOMAIN].fillna(False)]
    logger.info("demo: %d of %d scored compounds in the model's domain", len(in_domain), summary.scored)
    best = (
        in_domain.sort_values(ACTIVITY, ascending=False)
        .head(top)
        .loc[:, ["row", "id", "smiles", ACTIVITY, f"{ACTIVITY}_std", NN_SIMILARITY, NN_ID]]
        .rename(columns={ACTIVITY: f"predicted_{ACTIVITY}", f"{ACTIVITY}_std": "uncertainty"})
    )
    top_csv = out / "top_compounds.csv"
    with atomic_path(top_csv) as tmp:
        best.to_csv(tmp, index=False)
    logger.info("demo: screened %d NCI compounds; top %d in %s", summary.rows, len(best), top_csv)
    threshold = trained.model.domain_.min_similarity if min_similarity is None else min_similarity
    return DemoResult(trained, summary, best, top_csv, len(in_domain), threshold)
