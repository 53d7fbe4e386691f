"""``biomodels screen``: stream a library through trained models, filter, rank, report; resumable.

Screening computes and writes the tables (:func:`biomodels.screen.screen`); this verb then draws
the HTML report from the returned summary (:func:`biomodels.report.screen.write_screen_report`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from biomodels.cli import common
from biomodels.cli.common import ENCODING_HELP, ENGINE_HELP, console, friendly_errors, progress_bar
from biomodels.exceptions import InputError
from biomodels.screen.options import ACQUISITIONS, DEFAULT_PROPERTIES, DEFAULT_SANITY, POOLS

if TYPE_CHECKING:
    from biomodels.screen import ScreenSummary


def _one_of(choices: dict[str, str]) -> str:
    return "One of: " + ", ".join(f"{name} ({what})" for name, what in choices.items()) + "."


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _properties(text: str) -> list[str]:
    if text == "all":
        from biomodels.chem.properties import PROPERTIES

        return PROPERTIES.names()
    return [] if text == "none" else _names(text) or []


def _weights(text: str | None) -> list[float] | None:
    try:
        return None if text is None else [float(w) for w in _names(text) or []]
    except ValueError:
        raise InputError(None, f"--weights must be comma-separated numbers, got {text!r}") from None


@friendly_errors
def screen(
    paths: list[Path] = typer.Argument(
        ...,
        metavar="RUN_DIR... LIBRARY",
        help="One or more run directories, then the molecule library "
        "(.smi, .csv(.gz), .tsv, .parquet, .sdf(.gz)).",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output .parquet or .csv: every input row."),
    filters: str = typer.Option(None, help="Filter expression, e.g. 'qed>=0.5,sa<=4,pains,lipinski'."),
    smarts: Path = typer.Option(None, help="SMARTS alert file (one pattern and name per line)."),
    filter_first: bool = typer.Option(
        False, help="Do not score molecules failing a filter (they stay in the output with a note)."
    ),
    properties: str = typer.Option(
        ",".join(DEFAULT_PROPERTIES), help="Properties per row: comma-separated names, 'all' or 'none'."
    ),
    rank_by: str = typer.Option(None, help="Columns to rank by (default: every prediction)."),
    ascending: bool = typer.Option(False, help="Lower values are better."),
    acquisition: str = typer.Option("mean", help=f"Ranking objective. {_one_of(ACQUISITIONS)}"),
    kappa: float = typer.Option(1.0, help="UCB weight on the uncertainty."),
    threshold: float = typer.Option(None, help="Threshold of the 'prob' acquisition."),
    weights: str = typer.Option(None, help="Weights of the rank columns, comma-separated (weighted sum)."),
    pareto: bool = typer.Option(False, help="Rank several columns by Pareto dominance."),
    top: int = typer.Option(100, help="Write the K best ranked rows to OUT.top.csv (0: none)."),
    diverse: int = typer.Option(0, help="Write K diverse picks among the best to OUT.diverse.csv."),
    chunk_size: int = typer.Option(2000, help="Molecules per chunk (unit of work and of resume)."),
    workers: int = typer.Option(0, help="Parallel workers (0 = all cores)."),
    pool: str = typer.Option("threads", help=f"Local workers. {_one_of(POOLS)}"),
    scheduler: str = typer.Option(None, help="Dask: 'local' (LocalCluster) or 'tcp://HOST:PORT'."),
    resume: bool = typer.Option(False, help="Continue an interrupted run of the same output."),
    seed: int = typer.Option(0, help="Seed of the diverse picker and the report's histogram sample."),
    smiles_col: str = typer.Option(None, help="SMILES column (detected when omitted)."),
    id_col: str = typer.Option(None, help="Id column (detected when omitted)."),
    encoding: str = typer.Option("utf-8", help=ENCODING_HELP),
    standardize: bool = typer.Option(False, help="Standardise molecules (largest fragment, neutralise)."),
    report: bool = typer.Option(True, help="Write OUT.report.html."),
    engine: str = typer.Option("torch", help=ENGINE_HELP),
    sanity: str = typer.Option(
        DEFAULT_SANITY, help="Sane-chemistry filters applied first (filter terms; 'none': off)."
    ),
    min_similarity: float = typer.Option(None, help=common.MIN_SIMILARITY_HELP),
    no_domain: bool = typer.Option(False, "--no-domain", help=common.NO_DOMAIN_HELP),
    include_out_of_domain: bool = typer.Option(
        False, "--include-out-of-domain", help="Rank rows outside the applicability domain too."
    ),
    cascade: bool = typer.Option(
        False,
        "--cascade",
        help="Score a sample with the models, fit a fast surrogate to it, score every row with the "
        "surrogate and rescore its best with the models (writes OUT.surrogate/).",
    ),
    sample: float = typer.Option(0.02, help="--cascade: share of rows the models score first."),
    keep: float = typer.Option(
        0.05, help="--cascade: share of rows, ranked by the surrogate, the models rescore (plus a margin)."
    ),
) -> None:
    """Screen LIBRARY with the models of the run directories; every input row comes out once.

    Writes OUT, OUT.top.csv, OUT.diverse.csv (with --diverse) and OUT.report.html (OUT without
    its suffix). Killed, the same command with --resume continues where it stopped.
    """
    from biomodels.screen import CascadeConfig, RankingConfig, ScreenConfig
    from biomodels.screen import screen as run_screen

    if len(paths) < 2:
        raise InputError(None, "give at least one run directory and then the library")
    *run_dirs, library = paths
    config = ScreenConfig(
        smiles_col=smiles_col,
        id_col=id_col,
        properties=_properties(properties),
        filters=filters,
        smarts=str(smarts) if smarts else None,
        filter_first=filter_first,
        sanity=None if sanity == "none" else sanity,
        domain=not no_domain,
        min_similarity=min_similarity,
        standardize=standardize,
        encoding=encoding,
        chunk_size=chunk_size,
        workers=workers,
        pool=pool,
        scheduler=scheduler,
        engine=engine,
    )
    ranking = RankingConfig(
        rank_by=_names(rank_by),
        ascending=ascending,
        acquisition=acquisition,
        kappa=kappa,
        threshold=threshold,
        weights=_weights(weights),
        pareto=pareto,
        top=top,
        diverse=diverse,
        seed=seed,
        include_out_of_domain=include_out_of_domain,
    )
    cascading = CascadeConfig(sample=sample, keep=keep, seed=seed) if cascade else None
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(f"screen {library.name}", total=None, rate="")

        def advance(rows: int) -> None:
            progress.advance(task, rows)
            done = progress.tasks[task].completed
            progress.update(task, rate=f"{done / max(time.perf_counter() - started, 1e-9):,.0f} mol/s")

        summary = run_screen(run_dirs, library, out, config, ranking, resume, advance, cascading)
    report_html = None
    if report:
        from biomodels.report.screen import write_screen_report

        report_html = write_screen_report(summary)
    _print_summary(summary, report_html)


def _print_summary(summary: ScreenSummary, report_html: Path | None) -> None:
    from biomodels.screen.summary import describe_cascade

    reasons = ", ".join(f"{k} ({v})" for k, v in sorted(summary.errors.items(), key=lambda kv: -kv[1]))
    console.print(
        f"screened {summary.rows} rows -> {summary.out}: {summary.scored} scored, "
        f"{summary.invalid} could not be scored"
        + (f" ({reasons})" if reasons else "")
        + (
            f", {summary.not_scored_by_filters} filtered out before scoring"
            if summary.not_scored_by_filters
            else ""
        )
    )
    if summary.resumed_rows:
        console.print(f"resumed: {summary.resumed_rows} rows were already done")
    console.print(
        f"{summary.screened_rows} rows in {summary.seconds:.1f} s ({summary.molecules_per_second:,.0f} mol/s)"
    )
    if summary.cascade is not None:
        console.print(describe_cascade(summary.cascade), highlight=False, soft_wrap=True)
        if summary.cascade["warning"]:
            console.print(f"warning: {summary.cascade['warning']}", style="yellow", highlight=False)
    for name, count in summary.filter_counts.items():
        console.print(f"  {name}: {count} pass ({100 * count / max(summary.rows, 1):.1f}%)")
    if summary.in_domain is not None:
        min_similarity = summary.settings["screen"]["min_similarity"]
        console.print(common.domain_line(summary.in_domain, summary.scored, min_similarity))
    outputs = {"top": summary.top_csv, "diverse": summary.diverse_csv, "report": report_html}
    for label, path in outputs.items():
        if path is not None:
            console.print(f"{label} -> {path}", highlight=False, soft_wrap=True)
