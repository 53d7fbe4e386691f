"""``biomodels demo``: the embedded end-to-end demo on data RDKit ships."""

from __future__ import annotations

from pathlib import Path

import typer

from biomodels.cli.common import console, friendly_errors


@friendly_errors
def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Output folder."),
    ensemble: int = typer.Option(3, help="D-MPNN ensemble members."),
    epochs: int = typer.Option(25),
    top: int = typer.Option(20, help="How many top-ranked compounds to write."),
    min_similarity: float = typer.Option(
        None,
        help="Rank only compounds this similar (Tanimoto) to a training compound (default: the model's).",
    ),
    seed: int = typer.Option(0),
) -> None:
    """Train a D-MPNN ensemble on CHEMBL2321810 (RDKit-shipped) and screen RDKit's NCI library."""
    from biomodels.report import draw_top_compounds, report_run
    from biomodels.screen.demo import run_demo

    result = run_demo(out, seed, ensemble, epochs, top, progress=True, min_similarity=min_similarity)
    report_run(result.train.run_dir)
    top_png = draw_top_compounds(result.top, Path(out) / "top_compounds.png", result.score)
    test = result.train.metrics["test"]["mean"]
    console.print(
        f"activity model: {ensemble} x D-MPNN, test RMSE {test['rmse']:.3f}, "
        f"R2 {test['r2']:.3f} ({result.train.seconds:.0f} s) -> {result.train.run_dir}"
    )
    console.print(
        f"screened {result.screen.rows} NCI compounds ({result.screen.invalid} invalid), "
        f"{result.in_domain} in the model's domain (nearest-neighbour Tanimoto >= "
        f"{result.min_similarity:.2f}); "
        f"top {len(result.top)} of those:"
    )
    shown = result.top.head(10).assign(smiles=result.top["smiles"].str.slice(0, 48))
    console.print(
        shown[["id", result.score, "uncertainty", "nn_similarity", "smiles"]].to_string(
            index=False, float_format=lambda v: f"{v:.2f}"
        ),
        soft_wrap=True,
    )
    console.print(f"-> {result.top_csv}, {top_png}")
