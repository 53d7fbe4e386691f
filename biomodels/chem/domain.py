"""A model's applicability domain: how close each molecule is to the molecules it was trained on.

A model trained on one chemical series extrapolates wildly on molecules unlike anything it saw
(the demo's activity model predicted pIC50 near 18 for cobalt complexes, ten log units above its
training labels, with a small ensemble spread). :class:`ApplicabilityDomain` keeps the training
molecules' packed Morgan fingerprints (:mod:`biomodels.chem.similarity`), their ids and SMILES
and the training labels' range, and gives every molecule the columns :data:`DOMAIN_COLUMNS`:

- ``nn_similarity``: Tanimoto similarity (Morgan radius 2, 2,048 bits) to the nearest training
  molecule, in [0, 1];
- ``nn_id``: that molecule's id (its SMILES when the training table had no id column);
- ``in_domain``: ``nn_similarity >= min_similarity``.

Rows without a molecule (unparsable, or not scored) get NaN, None and NA. The default threshold,
:data:`DEFAULT_MIN_SIMILARITY`, was chosen from a measurement described in the README
("Applicability domain"): on ESOL and FreeSolv scaffold splits the absolute error of test
molecules below it is clearly larger than above it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from rdkit import Chem

from biomodels.chem.similarity import RADIUS, SIZE, nearest_neighbours, packed_fingerprints, popcounts

if TYPE_CHECKING:  # pandas is imported where frames are built: screening workers that only
    import pandas as pd  # parse (a cascade's surrogate pass) never pay for it

__all__ = [
    "DEFAULT_MIN_SIMILARITY",
    "DOMAIN_COLUMNS",
    "IN_DOMAIN",
    "NN_ID",
    "NN_SIMILARITY",
    "ApplicabilityDomain",
    "in_range_column",
]

DEFAULT_MIN_SIMILARITY = 0.3
"""Nearest-neighbour Tanimoto at or above which a molecule is in the domain (see the module
docstring and the README for the measurement behind it)."""
NN_SIMILARITY, NN_ID, IN_DOMAIN = "nn_similarity", "nn_id", "in_domain"
DOMAIN_COLUMNS = (NN_SIMILARITY, NN_ID, IN_DOMAIN)
"""The columns every prediction carries unless told otherwise (``--no-domain``)."""
ARRAY_KEY = "domain_fingerprints"
"""Key of the fingerprints in the model's ``arrays.safetensors``."""
FILE_NAME = "domain.json"
"""The model folder's file holding the training molecules' ids and SMILES."""


def in_range_column(target: str) -> str:
    """The flag column of ``target``: True when its prediction lies within the training labels."""
    return f"{target}_in_range"


@dataclass
class ApplicabilityDomain:
    """The training molecules of a model, as needed to place new molecules against them.

    Attributes:
        fingerprints: ``n x size/64`` packed Morgan fingerprints (``uint64``).
        names: ``n`` ids of the training molecules (their SMILES where they had none).
        smiles: ``n`` SMILES of the training molecules.
        label_range: ``{target: (lowest, highest)}`` training label of each regression target.
        min_similarity: the default threshold of ``in_domain``.
        radius, size: Morgan fingerprint radius and bits.
    """

    fingerprints: np.ndarray
    names: list[str]
    smiles: list[str]
    label_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    min_similarity: float = DEFAULT_MIN_SIMILARITY
    radius: int = RADIUS
    size: int = SIZE

    def __post_init__(self) -> None:
        self._counts = popcounts(self.fingerprints)

    @classmethod
    def fit(
        cls,
        fingerprints: np.ndarray,
        smiles: Sequence[str],
        ids: Sequence[str | None] | None = None,
        labels: Mapping[str, np.ndarray] | None = None,
        min_similarity: float = DEFAULT_MIN_SIMILARITY,
    ) -> ApplicabilityDomain:
        """The domain of the training molecules whose packed fingerprints (radius 2, 2,048 bits:
        :func:`~biomodels.chem.similarity.packed_fingerprints`) are ``fingerprints`` (``labels``:
        regression targets' values, NaN for missing, whose observed range is kept)."""
        import pandas as pd

        ids = ids if ids is not None else [None] * len(smiles)
        names = [str(s) if i is None or pd.isna(i) else str(i) for i, s in zip(ids, smiles, strict=True)]
        ranges = {}
        for target, values in (labels or {}).items():
            observed = np.asarray(values, np.float64)
            observed = observed[~np.isnan(observed)]
            if observed.size:
                ranges[target] = (float(observed.min()), float(observed.max()))
        return cls(np.asarray(fingerprints, np.uint64), names, list(smiles), ranges, min_similarity)

    def __len__(self) -> int:
        return len(self.names)

    def fingerprints_of(self, mols: Sequence[Chem.Mol | None]) -> np.ndarray:
        """Packed fingerprints of ``mols`` as this domain compares them."""
        return packed_fingerprints(mols, self.radius, self.size)

    def nearest(self, fingerprints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(similarity, index)`` of each packed fingerprint's nearest training molecule (see
        :func:`~biomodels.chem.similarity.nearest_neighbours`)."""
        return nearest_neighbours(fingerprints, self.fingerprints, self._counts)

    def columns(
        self,
        n: int,
        rows: np.ndarray,
        similarity: np.ndarray,
        index: np.ndarray,
        min_similarity: float | None = None,
    ) -> pd.DataFrame:
        """:data:`DOMAIN_COLUMNS` of ``n`` rows, of which ``rows`` were placed by :meth:`nearest`
        (``similarity``, ``index``); the others get NaN, None and NA. ``min_similarity``: the
        threshold of ``in_domain`` (default: :attr:`min_similarity`)."""
        import pandas as pd

        threshold = self.min_similarity if min_similarity is None else min_similarity
        values = np.full(n, np.nan, np.float32)
        values[rows] = similarity
        names = np.full(n, None, dtype=object)
        names[rows] = [self.names[i] if i >= 0 else None for i in index]
        flags = pd.array([pd.NA] * n, dtype="boolean")
        flags[rows] = similarity >= threshold
        return pd.DataFrame({NN_SIMILARITY: values, NN_ID: names, IN_DOMAIN: flags})

    def in_range(self, target: str, values: np.ndarray) -> pd.arrays.BooleanArray:
        """Whether each prediction of ``target`` lies within its training labels (NA for NaN and
        for a target without a recorded range)."""
        import pandas as pd

        flags = pd.array([pd.NA] * len(values), dtype="boolean")
        if target in self.label_range:
            low, high = self.label_range[target]
            known = ~np.isnan(values)
            flags[known] = (values[known] >= low) & (values[known] <= high)
        return flags

    def smiles_of(self, names: Sequence[str | None]) -> list[str | None]:
        """The SMILES of the training molecules named ``names`` (None for unknown names)."""
        lookup = dict(zip(self.names, self.smiles, strict=True))
        return [lookup.get(name) if name is not None else None for name in names]

    # ------------------------------------------------------------------ persistence
    def to_state(self) -> dict[str, Any]:
        """JSON state (the model's ``model.json``): settings, label ranges, reference count."""
        return {
            "molecules": len(self),
            "radius": self.radius,
            "size": self.size,
            "min_similarity": self.min_similarity,
            "label_range": {k: list(v) for k, v in self.label_range.items()},
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {ARRAY_KEY: self.fingerprints}

    def to_files(self) -> dict[str, bytes]:
        return {FILE_NAME: json.dumps({"names": self.names, "smiles": self.smiles}).encode("utf-8")}

    @classmethod
    def from_saved(
        cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray], files: Mapping[str, bytes]
    ) -> ApplicabilityDomain:
        """Rebuild what :meth:`to_state`, :meth:`to_arrays` and :meth:`to_files` saved.

        Raises:
            ValueError: the parts are missing or disagree (the loader names the folder).
        """
        if ARRAY_KEY not in arrays or FILE_NAME not in files:
            raise ValueError(f"the domain needs {ARRAY_KEY} in the arrays and the file {FILE_NAME}")
        molecules = json.loads(files[FILE_NAME].decode("utf-8"))
        fingerprints = np.asarray(arrays[ARRAY_KEY], np.uint64)
        counts = {len(fingerprints), len(molecules["names"]), len(molecules["smiles"]), state["molecules"]}
        if len(counts) != 1 or fingerprints.shape[1] * 64 != state["size"]:
            raise ValueError("the domain's fingerprints, names and SMILES do not match")
        return cls(
            fingerprints,
            list(molecules["names"]),
            list(molecules["smiles"]),
            {k: (float(v[0]), float(v[1])) for k, v in state["label_range"].items()},
            float(state["min_similarity"]),
            int(state["radius"]),
            int(state["size"]),
        )
