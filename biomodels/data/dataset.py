"""A molecule table with target columns, read and featurised in one pass, ready for training."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem

from biomodels.exceptions import InputError
from biomodels.featurize.base import Featurizer, get_featurizer
from biomodels.featurize.batch import as_featurizers, featurize_file
from biomodels.featurize.graph import GraphArrays
from biomodels.io.textfiles import DEFAULT_ENCODING
from biomodels.types import TASKS

logger = logging.getLogger(__name__)


def infer_task(targets: np.ndarray) -> str:
    """``binary`` when every observed label is 0 or 1, else ``regression`` (for numeric labels).

    Multiclass is never guessed from numbers (class ids look like small integers but so do
    counts); it is chosen when labels are text or when asked for.
    """
    observed = targets[~np.isnan(targets)]
    if observed.size and np.isin(observed, (0.0, 1.0)).all():
        return "binary"
    return "regression"


@dataclass
class MoleculeTable:
    """Valid molecules of a table, their graphs and targets, plus every row's metadata.

    Attributes:
        path: the source file.
        target_names: target columns, in order.
        task: ``regression``, ``binary`` (one or more 0/1 tasks) or ``multiclass``.
        meta: one row per input record (``row, id, smiles, error``), invalid ones included.
        valid: mask over ``meta`` of the rows that were featurised.
        graphs: graphs of the valid rows, in order (``len(graphs) == valid.sum()``).
        targets: ``n_valid x T`` float32 with NaN for missing labels (class index for multiclass).
        classes: label names for multiclass (index -> name), else ``None``.
        features: ``{featurizer name: n_valid x D float32 array}`` of molecule-level features
            (RDKit descriptors, fingerprints) computed with the graphs when asked for.
        feature_configs: ``{featurizer name: its config}`` of ``features`` (see
            :meth:`features_of`).
    """

    path: Path
    target_names: list[str]
    task: str
    meta: pd.DataFrame
    valid: np.ndarray
    graphs: GraphArrays
    targets: np.ndarray
    classes: list[str] | None = None
    features: dict[str, np.ndarray] = field(default_factory=dict)
    feature_configs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.graphs)

    def subset(self, indices: np.ndarray) -> MoleculeTable:
        """The valid molecules at ``indices`` (positions among the valid rows) as a table."""
        indices = np.asarray(indices, dtype=np.int64)
        meta = self.meta.loc[self.valid].iloc[indices].reset_index(drop=True)
        return replace(
            self,
            meta=meta,
            valid=np.ones(len(meta), dtype=bool),
            graphs=self.graphs.take(indices),
            targets=self.targets[indices],
            features={name: values[indices] for name, values in self.features.items()},
        )

    def records_meta(self) -> pd.DataFrame:
        """``row, id, smiles, error`` of the valid rows, in order."""
        return self.meta.loc[self.valid, ["row", "id", "smiles", "error"]].reset_index(drop=True)

    @property
    def smiles(self) -> list[str]:
        """SMILES of the valid rows, in order."""
        return self.meta.loc[self.valid, "smiles"].tolist()

    def features_of(self, featurizer: Featurizer | str) -> np.ndarray:
        """``featurizer``'s ``n_valid x D`` float32 features: the ones read with the table when it
        carries them under the same config, else computed from the SMILES (a second parse)."""
        if isinstance(featurizer, str):
            featurizer = get_featurizer(featurizer)
        if self.feature_configs.get(featurizer.name) == featurizer.config():
            return self.features[featurizer.name]
        logger.debug("%s: computing %s from the SMILES", self.path, featurizer.name)
        mols = [Chem.MolFromSmiles(s) for s in self.smiles]
        return np.asarray(featurizer.featurize_chunk(mols, self.smiles), dtype=np.float32)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        targets: list[str] | str,
        smiles_col: str | None = None,
        task: str | None = None,
        standardize: bool = False,
        workers: int = 0,
        use_cache: bool = True,
        extra_features: Sequence[Featurizer | str] | str = (),
        encoding: str = DEFAULT_ENCODING,
    ) -> MoleculeTable:
        """Read ``path`` once: its targets, its graphs and any ``extra_features`` (featurizers or
        their registry names), computed from one parse of each molecule (through the on-disk
        cache). ``encoding`` is the file's text encoding, decoded strictly.

        Raises:
            InputError: unknown target column (listing the columns), unknown task, a table
                whose target column holds text for a regression/binary task, or a line the
                encoding cannot decode.
        """
        path = Path(path)
        target_names = [targets] if isinstance(targets, str) else list(targets)
        if task is not None and task not in TASKS:
            raise InputError(path, f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        extras = [f for f in as_featurizers(extra_features or []) if f.name != "graph"]
        table = featurize_file(
            path,
            [get_featurizer("graph"), *extras],
            smiles_col=smiles_col,
            standardize=standardize,
            workers=workers,
            use_cache=use_cache,
            columns=target_names,
            encoding=encoding,
        )
        values, classes, task = _encode_targets(path, table.columns[table.valid], task)
        features = {f.name: np.asarray(table.outputs[f.name], dtype=np.float32) for f in extras}
        logger.info(
            "%s: %d of %d rows valid; task %s, targets %s",
            path.name,
            int(table.valid.sum()),
            len(table.meta),
            task,
            target_names,
        )
        return cls(
            path,
            target_names,
            task,
            table.meta,
            table.valid,
            table.outputs["graph"],
            values,
            classes,
            features,
            {f.name: f.config() for f in extras},
        )


def _encode_targets(
    path: Path, raw: pd.DataFrame, task: str | None
) -> tuple[np.ndarray, list[str] | None, str]:
    numeric = raw.apply(lambda col: pd.to_numeric(col, errors="coerce"))
    blank = raw.fillna("").astype(str).apply(lambda col: col.str.strip()) == ""
    text_cells = numeric.isna() & ~blank
    all_text = bool(text_cells.to_numpy().any()) and not (numeric.notna() & ~blank).to_numpy().any()
    if task == "multiclass" or (task is None and all_text):
        if raw.shape[1] != 1:
            raise InputError(path, "multiclass needs exactly one target column")
        labels = raw.iloc[:, 0].replace("", np.nan)
        classes = sorted(labels.dropna().astype(str).unique())
        index = {name: i for i, name in enumerate(classes)}
        values = labels.map(lambda v: np.nan if pd.isna(v) else index[str(v)]).to_numpy(np.float32)
        return values[:, None], classes, "multiclass"
    if text_cells.to_numpy().any():
        column = raw.columns[int(np.argmax(text_cells.to_numpy().any(axis=0)))]
        source_row = text_cells[column].idxmax()  # the index holds source row numbers
        raise InputError(
            path,
            f"target {column!r} holds non-numeric value {raw.at[source_row, column]!r}",
            record=int(source_row),
        )
    values = numeric.to_numpy(np.float32)
    return values, None, task or infer_task(values)
