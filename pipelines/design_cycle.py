"""Research pipeline: one design cycle from data to a report of 20 proposed molecules.

1. Train the demo's activity model (a D-MPNN ensemble on RDKit's CHEMBL2321810 set, as
   ``biomodels demo`` does) into ``OUT/activity/run``.
2. Optimise the prior (the shipped one, or ``--prior RUN``) toward it with the default
   objective (activity x QED x domain gate x PAINS-free) into ``OUT/optimize``.
3. Filter the scored molecules: in the model's domain (nearest-neighbour Tanimoto >= 0.4), no
   PAINS alert, QED >= 0.5, not a training molecule.
4. Pick a diverse top 20: MaxMin on Morgan fingerprints among the 200 best-scoring survivors.
5. Write ``OUT/design_report.html`` (metrics, curves, a molecule grid, the table),
   ``OUT/picks.csv`` and ``OUT/picks.png`` (the grid: predicted activity +/- the ensemble's
   spread, and the nearest-neighbour similarity to the training set).

Runs on a fresh install: the data ship with RDKit, the prior with biomodels::

    python pipelines/design_cycle.py --out runs/design --budget 5000 --seed 0
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd
from rdkit import Chem

from biomodels.chem.filters import PASSES_ALL, apply_filters
from biomodels.generate import optimize
from biomodels.generate.metrics import canonical_smiles
from biomodels.report import draw_top_compounds, write_optimization_report
from biomodels.screen.demo import trainload_activity_run
from biomodels.screen.ranking import pick_diverse
from biomodels.utils import atomic_path

MIN_SIMILARITY, MIN_QED, POOL, PICKS = 0.4, 0.5, 200, 20


def candidates(molecules: pd.DataFrame, training: set[str]) -> pd.DataFrame:
    """The scored molecules that pass step 3's filters, best score first."""
    scored = molecules[molecules["error"].isna() & molecules["smiles"].notna()]
    keep = scored[(scored["domain"] >= MIN_SIMILARITY) & (scored["qed"] >= MIN_QED)]
    keep = keep[~keep["smiles"].isin(training)]
    passes = apply_filters([Chem.MolFromSmiles(s) for s in keep["smiles"]], "pains")[PASSES_ALL].to_numpy()
    return keep[passes].sort_values("score", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/design"))
    parser.add_argument(
        "--prior", type=Path, default=None, help="A charrnn run (default: the shipped prior)."
    )
    parser.add_argument("--budget", type=int, default=5_000, help="Scoring calls of the optimisation.")
    parser.add_argument("--ensemble", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    activity = args.out / "activity" / "run"
    if not (activity / "model").is_dir():
        trainload_activity_run(
            args.out / "activity", seed=args.seed, ensemble=args.ensemble, epochs=args.epochs
        )
    run = args.out / "optimize"
    resume = (run / "checkpoint").is_dir()  # a killed pipeline continues its optimisation
    result = optimize(
        prior=args.prior,
        activity=activity,
        budget=args.budget,
        out=run,
        seed=args.seed,
        resume=resume,
        progress=True,
    )
    training = set(canonical_smiles(pd.read_csv(args.out / "activity" / "chembl2321810.csv")["smiles"]))
    pool = candidates(result.molecules, training)
    picks = pick_diverse(pool.head(POOL), PICKS, seed=args.seed)
    with atomic_path(args.out / "picks.csv") as tmp:
        picks.to_csv(tmp, index=False)
    notes = [
        f"Prior: {args.prior or 'the shipped prior'}; activity model: {activity}; budget {args.budget}; "
        f"seed {args.seed}.",
        f"{len(result.molecules)} molecules logged, {result.metrics['calls']} scored; {len(pool)} pass the "
        f"filters (domain Tanimoto >= {MIN_SIMILARITY}, QED >= {MIN_QED}, no PAINS, not a training "
        f"molecule); {len(picks)} picked by MaxMin among the best {POOL}.",
    ]
    shown = [
        c for c in ("score", "activity", "activity_std", "qed", "domain", "scaffold", "smiles") if c in picks
    ]
    report = write_optimization_report(
        run, picks, args.out / "design_report.html", notes=notes, columns=shown
    )
    outputs = [report, args.out / "picks.csv"]
    if len(picks):  # nothing to draw when no molecule passes the filters
        grid = picks.assign(
            id=range(1, len(picks) + 1), uncertainty=picks["activity_std"], nn_similarity=picks["domain"]
        )
        outputs.append(draw_top_compounds(grid, args.out / "picks.png", score="activity"))
    print(picks[shown].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"{notes[1]}\n-> {', '.join(map(str, outputs))}")


if __name__ == "__main__":
    main()
