"""Research pipeline: screen RDKit's NCI library (4,999 compounds) with a trained run directory.

Filters with the rule of five and PAINS, ranks by the upper confidence bound of the first
prediction, picks a diverse top set and writes the output, top list and HTML report::

    python pipelines/screen_demo.py runs/demo/run --out runs/nci_screen --top 25 --diverse 10

The NCI file ships with RDKit (``RDConfig.RDDataDir/NCI/first_5K.smi``): no download needed.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from rdkit import RDConfig

from biomodels.report.screen import write_screen_report
from biomodels.screen import RankingConfig, ScreenConfig, screen

NCI_LIBRARY = Path(os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run directory written by `biomodels train`")
    parser.add_argument("--out", type=Path, default=Path("runs/nci_screen"))
    parser.add_argument("--filters", default="lipinski,pains")
    parser.add_argument("--kappa", type=float, default=1.0, help="UCB weight on the ensemble std")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--diverse", type=int, default=10)
    parser.add_argument("--workers", type=int, default=0, help="processes (0 = all cores)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    summary = screen(
        [args.run_dir],
        NCI_LIBRARY,
        args.out / "nci.parquet",
        ScreenConfig(filters=args.filters, workers=args.workers),
        RankingConfig(
            acquisition="ucb", kappa=args.kappa, top=args.top, diverse=args.diverse, seed=args.seed
        ),
    )
    report = write_screen_report(summary)
    shown = ["rank", "id", "rank_score", *summary.prediction_columns, "smiles"]
    print(summary.top[shown].to_string(index=False))
    print(
        f"{summary.rows} rows, {summary.scored} scored, {summary.invalid} not scorable, "
        f"{summary.filter_counts.get('passes_all', 0)} pass {args.filters}; "
        f"{summary.molecules_per_second:,.0f} mol/s"
    )
    print(f"output: {summary.out}; top: {summary.top_csv}; diverse: {summary.diverse_csv}; report: {report}")


if __name__ == "__main__":
    main()
