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
from rdkit import Chem, RDConfig

from biomodels.chem.similarity import nearest_similarity
from biomodels.screen.scoring import PredictSummary, predict_file
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


def run_demo(
    out: str | Path,
    seed: int = 0,
    ensemble: int = 3,
    epochs: int = 25,
    top: int = 20,
    library: str | Path = NCI_LIBRARY,
    progress: bool = False,
    min_similarity: float = 0.3,
) -> DemoResult:
    """Train a D-MPNN ensemble on CHEMBL2321810, screen the NCI library, rank the top compounds.

    Every scored row gets ``train_similarity``, its nearest-neighbour Tanimoto similarity to the
    training set; only compounds at ``min_similarity`` or above are ranked, since predictions
    far outside the training chemistry are extrapolations (see
    :mod:`biomodels.chem.similarity`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = activity_table(out)
    config = TrainRunConfig(
        data=str(data),
        targets=[ACTIVITY],
        model="dmpnn",
        epochs=epochs,
        seed=seed,
        progress=progress,
        params={"ensemble": ensemble},
    )
    trained = train_run(config, out / "run")
    scored_path = out / "nci_scored.parquet"
    summary = predict_file(trained.run_dir, library, scored_path, workers=min(2, os.cpu_count() or 1))
    scored = pd.read_parquet(scored_path)
    valid = scored[scored["error"].isna()].copy()
    training = [s for part in trained.data.partitions().values() for s in part.smiles]
    valid["train_similarity"] = nearest_similarity(
        [Chem.MolFromSmiles(s) for s in valid["smiles"]], [Chem.MolFromSmiles(s) for s in training]
    )
    in_domain = valid[valid["train_similarity"] >= min_similarity]
    logger.info(
        "demo: %d of %d scored compounds within similarity %.2f of the training set",
        len(in_domain),
        len(valid),
        min_similarity,
    )
    best = (
        in_domain.sort_values(ACTIVITY, ascending=False)
        .head(top)
        .loc[:, ["row", "id", "smiles", ACTIVITY, f"{ACTIVITY}_std", "train_similarity"]]
        .rename(columns={ACTIVITY: f"predicted_{ACTIVITY}", f"{ACTIVITY}_std": "uncertainty"})
    )
    top_csv = out / "top_compounds.csv"
    with atomic_path(top_csv) as tmp:
        best.to_csv(tmp, index=False)
    logger.info("demo: screened %d NCI compounds; top %d in %s", summary.rows, len(best), top_csv)
    return DemoResult(trained, summary, best, top_csv, len(in_domain))
