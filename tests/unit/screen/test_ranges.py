"""Byte and record ranges read the same records, with the same row numbers, as the whole-file reader."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from rdkit import Chem

from biomodels.exceptions import InputError
from biomodels.io.molecules import iter_raw_chunks
from biomodels.io.ranges import plan_ranges, read_range

from .conftest import NCI, write_library


def _key(raw):
    return raw.row, raw.id, raw.text, sorted(raw.props.items(), key=str), raw.is_molblock


def _through_ranges(path, chunk_size):
    ranges = plan_ranges(path, chunk_size)
    records, offset = [], 0
    for rng in ranges:
        raws = read_range(rng)
        records += [(r.row + offset, *_key(r)[1:]) for r in raws]
        offset += len(raws)
    return ranges, records


def _files(tmp_path):
    smi = write_library(tmp_path / "lib.smi", 400)
    header = tmp_path / "header.smi"
    header.write_text("smiles name\n" + "\n".join(NCI.read_text().splitlines()[:150]) + "\n\nCCO last")
    table = pd.read_csv(NCI, sep=r"\s+", names=["smiles", "name"], nrows=500, dtype=str)
    table["weight"] = [str(i) for i in range(len(table))]
    csv = tmp_path / "lib.csv"
    table.to_csv(csv, index=False)
    csv.write_text(csv.read_text().replace("\n", "\n\n", 3))  # blank lines: pandas skips them
    gz = tmp_path / "lib.csv.gz"
    with gzip.open(gz, "wt") as handle:
        table.to_csv(handle, index=False)
    quoted = tmp_path / "quoted.csv"
    table.assign(note='a "quoted", field').to_csv(quoted, index=False)
    parquet = tmp_path / "lib.parquet"
    table.to_parquet(parquet, row_group_size=70)
    sdf = tmp_path / "lib.sdf"
    with Chem.SDWriter(str(sdf)) as writer:
        for smiles, name in table[["smiles", "name"]].head(120).itertuples(index=False, name=None):
            mol = Chem.MolFromSmiles(smiles)
            if mol is not None:
                mol.SetProp("_Name", name)
                writer.write(mol)
    with open(sdf, "a") as handle:
        handle.write("truncated\n  no terminator\n")
    return {
        "smi": smi,
        "header": header,
        "csv": csv,
        "gz": gz,
        "quoted": quoted,
        "parquet": parquet,
        "sdf": sdf,
    }


@pytest.mark.parametrize("chunk_size", [9, 40])
def test_ranges_tile_the_file_like_the_reader(tmp_path, chunk_size):
    for name, path in _files(tmp_path).items():
        expected = [_key(r) for chunk in iter_raw_chunks(path, chunk_size=1000) for r in chunk]
        ranges, records = _through_ranges(path, chunk_size)
        assert records == expected, name
        assert len(ranges) > 2, name
        unit = "records" if name in ("quoted", "parquet") else "bytes"
        assert {r.unit for r in ranges} == {unit}, name


def test_plan_validates_on_the_client(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        plan_ranges(tmp_path / "missing.smi")
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no SMILES column"):
        plan_ranges(table)
