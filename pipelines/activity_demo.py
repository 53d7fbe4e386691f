"""Research pipeline: train an activity model on RDKit's CHEMBL2321810 set and screen the NCI library.

The same steps as ``biomodels demo``, as a script to copy and adapt::

    python pipelines/activity_demo.py --out runs/demo --ensemble 3 --epochs 25 --seed 0
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from biomodels.report import draw_top_compounds, report_run
from biomodels.screen.demo import run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/demo"))
    parser.add_argument("--ensemble", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = run_demo(args.out, seed=args.seed, ensemble=args.ensemble, epochs=args.epochs, top=args.top)
    report_run(result.train.run_dir)  # the run's plots; then the grid of the top compounds
    draw_top_compounds(result.top, args.out / "top_compounds.png", result.score)
    print(result.top.to_string(index=False))
    print(f"run directory: {result.train.run_dir}; top compounds: {result.top_csv}")


if __name__ == "__main__":
    main()
