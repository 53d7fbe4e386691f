"""The HTML report of a screening run: counts, filters, distributions, the best molecules.

Drawn from what :func:`biomodels.screen.screen` returns, a
:class:`~biomodels.screen.summary.ScreenSummary` (counts, the top and diverse picks, the histogram
sample and the run's settings), after the screening: the ``screen`` verb writes it as
``<OUT without suffix>.report.html``. Figures come from
:func:`~biomodels.report.plots.plot_histogram` and RDKit's grid drawing, all inlined into one file.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from rdkit import Chem
from rdkit.Chem import Draw

from biomodels.report.html import HtmlReport
from biomodels.report.plots import plot_histogram
from biomodels.screen.ranking import SCORE
from biomodels.screen.summary import ScreenSummary
from biomodels.train.rundir import environment_info

GRID_MOLECULES = 48
"""At most this many molecules are drawn per grid (the CSV files hold them all)."""


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that decide a screening run's results (those a
    training run records in its ``environment.json``)."""
    info = environment_info()
    return {"python": info["python"], **{k: v for k, v in info["packages"].items() if v is not None}}


def screen_report_path(out: str | Path) -> Path:
    """Where the report of the screening output ``out`` goes: ``<out without suffix>.report.html``."""
    return Path(out).with_suffix(".report.html")


def write_screen_report(summary: ScreenSummary, path: str | Path | None = None) -> Path:
    """Write the self-contained report of one screening run; returns its path.

    Args:
        summary: what :func:`~biomodels.screen.screen` returned: counts, top and diverse picks,
            the histogram sample (``summary.sample``) and the settings (``summary.settings``).
        path: the ``.html`` file (default: :func:`screen_report_path` of ``summary.out``).
    """
    path = screen_report_path(summary.out) if path is None else path
    sample = summary.sample
    report = HtmlReport(f"Screening report: {summary.out.name}")
    report.heading("Counts")
    report.table(_count_rows(summary), header=["", "rows", "share"])
    if summary.errors:
        report.heading("Rows not scored, by reason", 3)
        report.table(sorted(summary.errors.items(), key=lambda kv: -kv[1]), header=["reason", "rows"])
    if summary.filter_counts:
        report.heading("Filters")
        report.table(
            [
                [name.removeprefix("pass_"), int(n), _share(n, summary.rows)]
                for name, n in summary.filter_counts.items()
            ],
            header=["criterion", "pass", "share"],
        )
    if sample is not None and len(sample):
        _distributions(report, summary, sample)
    for title, picks in (("Top ranked", summary.top), ("Diverse picks among the top", summary.diverse)):
        if picks is not None and len(picks):
            report.heading(f"{title} ({len(picks)})")
            report.svg(_grid(picks))
            _pick_table(report, picks, summary.prediction_columns)
    report.heading("Configuration")
    report.preformatted(json.dumps(dict(summary.settings), indent=2, sort_keys=True, default=str))
    report.heading("Versions", 3)
    report.table(list(versions().items()), header=["package", "version"])
    return report.write(path)


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "-"


def _count_rows(summary: ScreenSummary) -> list[list[Any]]:
    rows = [
        ["input rows", summary.rows, _share(summary.rows, summary.rows)],
        ["scored", summary.scored, _share(summary.scored, summary.rows)],
        ["could not be scored", summary.invalid, _share(summary.invalid, summary.rows)],
    ]
    if summary.not_scored_by_filters:
        rows.append(
            [
                "filtered out before scoring",
                summary.not_scored_by_filters,
                _share(summary.not_scored_by_filters, summary.rows),
            ]
        )
    rows.append(["screened by this run", summary.screened_rows, f"{summary.molecules_per_second:,.0f} mol/s"])
    return rows


def _distributions(report: HtmlReport, summary: ScreenSummary, sample: pd.DataFrame) -> None:
    """Histograms of predictions, uncertainties and properties, from the sample."""
    predictions = [c for c in summary.prediction_columns if c in sample]
    uncertainties = [f"{c}_std" for c in predictions if f"{c}_std" in sample]
    properties = [c for c in sample.columns if c not in predictions and c not in uncertainties]
    note = f" (a uniform sample of {len(sample):,} rows)" if len(sample) < summary.rows else ""
    with tempfile.TemporaryDirectory() as tmp:
        for title, columns in (
            ("Predictions", predictions),
            ("Uncertainty (ensemble std)", uncertainties),
            ("Properties", properties),
        ):
            if not columns:
                continue
            report.heading(title + note)
            paths = [
                plot_histogram(sample[c].to_numpy(float), Path(tmp) / f"{i}.png", title=c, xlabel=c)
                for i, c in enumerate(columns)
            ]
            report.figures(paths, [f"histogram of {c}" for c in columns])


def _pick_table(report: HtmlReport, picks: pd.DataFrame, predictions: list[str]) -> None:
    """The drawn molecules as text: rank, id, row, score, predictions and SMILES."""
    columns = ["rank", "id", "row", SCORE, *predictions, "smiles"]
    rows = [
        ["" if pd.isna(value) else getattr(value, "item", lambda v=value: v)() for value in row]
        for row in picks.head(GRID_MOLECULES)[columns].itertuples(index=False)
    ]
    report.table(rows, header=columns)


def _grid(picks: pd.DataFrame) -> str:
    """SVG grid of the molecules with their id, rank score and predictions as legends."""
    shown = picks.head(GRID_MOLECULES)
    legends = [
        f"#{r['rank']} {'row ' + str(r['row']) if pd.isna(r['id']) else r['id']}: {r[SCORE]:.3g}"
        for _, r in shown.iterrows()
    ]
    mols = [Chem.MolFromSmiles(s) for s in shown["smiles"]]
    return Draw.MolsToGridImage(mols, molsPerRow=6, subImgSize=(200, 180), legends=legends, useSVG=True)
