"""The HTML report of a screening run: counts, filters, domain, distributions, the best molecules.

A cascade screen's section gives what the full model and the surrogate scored and the
surrogate's quality measured on the sample's held-out part, with a warning when its estimated
recall of the top is under the target. The applicability-domain section (when the screen
carried the domain columns) gives the rows in the models' domain, the histogram of
``nn_similarity`` and each top compound drawn beside its nearest training compound; pick
tables and grid legends mark rows outside the domain (ranked only with
``--include-out-of-domain``).

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

from biomodels.chem.domain import NN_ID, NN_SIMILARITY
from biomodels.report.html import HtmlReport
from biomodels.report.plots import plot_histogram
from biomodels.screen.ranking import SCORE, domain_columns
from biomodels.screen.summary import ScreenSummary, describe_cascade
from biomodels.train.rundir import environment_info

GRID_MOLECULES = 48
"""At most this many molecules are drawn per grid (the CSV files hold them all)."""
NEIGHBOUR_PAIRS = 12
"""Top compounds drawn beside their nearest training compound."""


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
    if summary.cascade is not None:
        _cascade(report, summary.cascade)
    if summary.filter_counts:
        report.heading("Filters")
        report.table(
            [
                [name.removeprefix("pass_"), int(n), _share(n, summary.rows)]
                for name, n in summary.filter_counts.items()
            ],
            header=["criterion", "pass", "share"],
        )
    if summary.in_domain is not None:
        _domain(report, summary, sample)
    if sample is not None and len(sample):
        _distributions(report, summary, sample)
    for title, picks in (("Top ranked", summary.top), ("Diverse picks among the top", summary.diverse)):
        if picks is not None and len(picks):
            report.heading(f"{title} ({len(picks)})")
            report.svg(_grid(picks))
            _pick_table(report, picks, summary.prediction_columns)
    if summary.neighbours and summary.top is not None and len(summary.top):
        _neighbour_pairs(report, summary.top, summary.neighbours)
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


def _cascade(report: HtmlReport, cascade: dict[str, Any]) -> None:
    """What the full model and the surrogate scored, and the surrogate's measured quality."""
    report.heading("Cascade: surrogate quality")
    report.paragraph(describe_cascade(cascade))
    if cascade["warning"]:
        report.paragraph(f"Warning: {cascade['warning']}")
    names = (
        "sample_rows", "fit_rows", "holdout_rows", "spearman", "rmse", "keep", "margin",
        "rescored_fraction", "top_rows", "estimated_recall", "modelled_recall", "full_rows",
        "surrogate_rows",
    )  # fmt: skip
    report.table([[name, cascade[name]] for name in names], header=["measure", "value"])


def _domain(report: HtmlReport, summary: ScreenSummary, sample: pd.DataFrame | None) -> None:
    """How many rows lie in the domain, and the distribution of ``nn_similarity``."""
    report.heading("Applicability domain")
    threshold = summary.settings.get("screen", {}).get("min_similarity")
    report.table(
        [
            ["in domain", summary.in_domain, _share(summary.in_domain, summary.scored)],
            [
                "outside",
                summary.scored - summary.in_domain,
                _share(summary.scored - summary.in_domain, summary.scored),
            ],
        ],
        header=["scored rows", "rows", "share"],
    )
    report.paragraph(
        "In domain: nearest-neighbour Tanimoto (Morgan radius 2, 2,048 bits) to the model's training "
        f"set at or above {'the threshold saved with the model' if threshold is None else threshold}. "
        + (
            "Rows outside were ranked too (--include-out-of-domain)."
            if summary.settings.get("ranking", {}).get("include_out_of_domain")
            else "Only rows in the domain are ranked."
        )
    )
    columns = [] if sample is None else domain_columns(sample.columns, NN_SIMILARITY)
    if columns:
        with tempfile.TemporaryDirectory() as tmp:
            paths = [
                plot_histogram(sample[c].to_numpy(float), Path(tmp) / f"{i}.png", title=c, xlabel=c)
                for i, c in enumerate(columns)
            ]
            report.figures(paths, [f"histogram of {c}" for c in columns])


def _neighbour_pairs(report: HtmlReport, top: pd.DataFrame, neighbours: dict[str, dict[str, str]]) -> None:
    """The best compounds, each beside the training compound nearest to it."""
    column, smiles_of = next(iter(neighbours.items()))
    similarity = column.removesuffix(NN_ID) + NN_SIMILARITY
    shown = top.head(NEIGHBOUR_PAIRS)
    mols, legends = [], []
    for _, row in shown.iterrows():
        neighbour = smiles_of.get(row[column]) if pd.notna(row[column]) else None
        mols += [Chem.MolFromSmiles(row["smiles"]), Chem.MolFromSmiles(neighbour or "")]
        legends += [f"#{row['rank']} {_label(row)}", f"nearest: {row[column]} ({row[similarity]:.2f})"]
    report.heading(f"Top compounds beside their nearest training compound ({len(shown)})")
    report.svg(Draw.MolsToGridImage(mols, molsPerRow=4, subImgSize=(220, 180), legends=legends, useSVG=True))


def _label(row: pd.Series) -> str:
    return "row " + str(row["row"]) if pd.isna(row["id"]) else str(row["id"])


def _distributions(report: HtmlReport, summary: ScreenSummary, sample: pd.DataFrame) -> None:
    """Histograms of predictions, uncertainties and properties, from the sample."""
    predictions = [c for c in summary.prediction_columns if c in sample]
    uncertainties = [f"{c}_std" for c in predictions if f"{c}_std" in sample]
    shown = {*predictions, *uncertainties, *domain_columns(sample.columns, NN_SIMILARITY)}
    properties = [c for c in sample.columns if c not in shown]
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
    """The drawn molecules as text: rank, id, row, score, predictions, domain and SMILES."""
    domain = domain_columns(picks.columns, NN_SIMILARITY) + domain_columns(picks.columns)
    columns = ["rank", "id", "row", SCORE, *predictions, *domain, "smiles"]
    rows = [
        ["" if pd.isna(value) else getattr(value, "item", lambda v=value: v)() for value in row]
        for row in picks.head(GRID_MOLECULES)[columns].itertuples(index=False)
    ]
    report.table(rows, header=columns)


def _grid(picks: pd.DataFrame) -> str:
    """SVG grid of the molecules with their id, rank score and predictions as legends."""
    shown = picks.head(GRID_MOLECULES)
    flags = domain_columns(shown.columns)
    outside = ~shown[flags].fillna(False).to_numpy(bool).all(axis=1) if flags else [False] * len(shown)
    legends = [
        f"#{r['rank']} {_label(r)}: {r[SCORE]:.3g}" + (" (out of domain)" if out else "")
        for (_, r), out in zip(shown.iterrows(), outside, strict=True)
    ]
    mols = [Chem.MolFromSmiles(s) for s in shown["smiles"]]
    return Draw.MolsToGridImage(mols, molsPerRow=6, subImgSize=(200, 180), legends=legends, useSVG=True)
