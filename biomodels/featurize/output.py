"""Write featurised tables to Parquet or a ``.pt`` tensor file, plus the error report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from biomodels.exceptions import InputError
from biomodels.featurize.batch import FeaturizedTable
from biomodels.featurize.graph import GraphArrays
from biomodels.utils import atomic_path

OUTPUT_SUFFIXES = (".parquet", ".pt")


def errors_path(out: str | Path) -> Path:
    """``OUT.errors.csv`` beside an output file."""
    out = Path(out)
    return out.with_name(out.name.rsplit(".", 1)[0] + ".errors.csv")


def write_featurized(table: FeaturizedTable, out: str | Path) -> Path:
    """Write ``table`` to ``out`` (``.parquet`` or ``.pt``) and its error report; returns the report path.

    Parquet holds every input row (features null where the row failed); ``.pt`` holds a dict
    of tensors and lists, loadable with ``torch.load(path, weights_only=True)``.
    """
    out = Path(out)
    if out.suffix not in OUTPUT_SUFFIXES:
        raise InputError(out, f"output must end in {' or '.join(OUTPUT_SUFFIXES)}")
    if out.suffix == ".parquet":
        _write_parquet(table, out)
    else:
        _write_pt(table, out)
    report = errors_path(out)
    with atomic_path(report) as tmp:
        table.errors.to_csv(tmp, index=False)
    return report


def _per_row_lists(table: FeaturizedTable) -> dict[str, list]:
    """Feature columns as one Python list per input row (None for failed rows)."""
    n = len(table.meta)
    valid_rows = np.flatnonzero(table.valid)
    columns: dict[str, list] = {}
    if isinstance(table.features, GraphArrays):
        g = table.features
        for name, array, ptr in (
            ("atom_codes", g.atom_codes, g.atom_ptr),
            ("atom_mass", g.atom_mass, g.atom_ptr),
            ("bond_codes", g.bond_codes, g.edge_ptr),
        ):
            columns[name] = [None] * n
            for k, row in enumerate(valid_rows):
                columns[name][row] = array[ptr[k] : ptr[k + 1]].reshape(-1).tolist()
        columns["edge_index"] = [None] * n
        for k, row in enumerate(valid_rows):
            columns["edge_index"][row] = (
                g.edge_index[:, g.edge_ptr[k] : g.edge_ptr[k + 1]].T.reshape(-1).tolist()
            )
    else:
        columns["features"] = [None] * n
        for k, row in enumerate(valid_rows):
            columns["features"][row] = table.features[k].tolist()
    return columns


def _write_parquet(table: FeaturizedTable, out: Path) -> None:
    frame = table.meta.copy()
    for name, values in _per_row_lists(table).items():
        frame[name] = pd.Series(values, dtype=object)
    with atomic_path(out) as tmp:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)


def _write_pt(table: FeaturizedTable, out: Path) -> None:
    payload: dict[str, object] = {
        "row": torch.tensor(table.meta["row"].to_numpy(dtype=np.int64)),
        "id": [None if pd.isna(v) else str(v) for v in table.meta["id"]],
        "smiles": [None if pd.isna(v) else str(v) for v in table.meta["smiles"]],
        "error": [None if pd.isna(v) else str(v) for v in table.meta["error"]],
        "valid": torch.as_tensor(table.valid),
    }
    if isinstance(table.features, GraphArrays):
        payload.update({k: torch.as_tensor(v) for k, v in vars(table.features).items()})
    else:
        payload["features"] = torch.as_tensor(table.features)
    with atomic_path(out) as tmp:
        torch.save(payload, tmp)
