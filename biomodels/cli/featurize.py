"""``biomodels featurize``: featurise a molecule file into Parquet or a tensor file."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from biomodels.cli.common import ENCODING_HELP, console, friendly_errors, progress_bar


@friendly_errors
def featurize(
    input: Path = typer.Argument(
        None,
        help="Molecule file (.smi .csv(.gz) .tsv .parquet .sdf(.gz)); "
        "FASTA/FASTQ/GenBank for sequence featurizers.",
    ),
    out: Path = typer.Option(None, "-o", "--out", help="Output .parquet or .pt file."),
    featurizer: str = typer.Option("graph", "--featurizer", "-f", help="Featurizer name (see --list)."),
    smiles_col: str = typer.Option(None, help="SMILES column (detected when omitted)."),
    id_col: str = typer.Option(None, help="Id column (detected when omitted)."),
    encoding: str = typer.Option("utf-8", help=ENCODING_HELP),
    standardize: bool = typer.Option(False, help="Largest fragment + neutralise before featurising."),
    workers: int = typer.Option(0, help="Worker processes (0 = all cores)."),
    chunk_size: int = typer.Option(2000, help="Molecules per worker task."),
    seed: int = typer.Option(0, help="Random seed (featurisation is deterministic; recorded)."),
    list_names: bool = typer.Option(False, "--list", help="List featurizer names and exit."),
) -> None:
    """Featurise every row of INPUT; failed rows go to OUT.errors.csv with their reason."""
    from biomodels.featurize import FEATURIZERS, get_featurizer, iter_featurized_chunks
    from biomodels.featurize.batch import featurize_sequence_file, join_chunks
    from biomodels.featurize.output import write_featurized

    if list_names:
        for name in FEATURIZERS.names():
            console.print(name)
        return
    if input is None or out is None:
        raise typer.BadParameter("INPUT and -o/--out are required (or use --list)")
    feat = get_featurizer(featurizer)
    if feat.input_kind == "sequence":
        table = featurize_sequence_file(input, feat, encoding=encoding)
        write_featurized(table, out)
        console.print(f"featurized {len(table.meta)} sequences with {featurizer!r} -> {out}")
        return
    chunks = []
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(f"featurize {input.name}", total=None, rate="")
        done = 0
        for chunk in iter_featurized_chunks(
            input, feat, smiles_col, id_col, standardize, workers, chunk_size, encoding=encoding
        ):
            chunks.append(chunk)
            done += len(chunk.meta)
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=done, rate=f"{rate:,.0f} mol/s")
    table = join_chunks(chunks)
    report = write_featurized(table, out)
    n_bad = int((~table.valid).sum())
    console.print(
        f"featurized {int(table.valid.sum())} of {len(table.meta)} rows with {featurizer!r} "
        f"in {time.perf_counter() - started:.1f} s -> {out}; {n_bad} errors -> {report}"
    )
