"""The diversity filter of goal-directed optimisation: identical Murcko scaffold buckets.

As REINVENT's ``IdenticalMurckoScaffold`` (Blaschke et al. 2020, "Memory-assisted reinforcement
learning for diverse molecular de novo design"): every molecule that scores at least
``min_score`` joins the bucket of its Bemis-Murcko scaffold; once a bucket holds
``bucket_size`` molecules, further molecules of that scaffold are rewarded 0, so the agent is
pushed to new chemotypes instead of polishing one. A molecule sampled again is rewarded 0 too
(its score was already collected). Scores themselves are kept: the filter changes the reward
the agent learns from, not what ``molecules.csv`` records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rdkit import Chem
from rdkit.Chem.Scaffolds.MurckoScaffold import MurckoScaffoldSmiles

from biomodels.exceptions import InputError

__all__ = ["DiversityFilter", "murcko_scaffold"]


def murcko_scaffold(smiles: str) -> str:
    """The Bemis-Murcko scaffold SMILES of a molecule (``""`` for an acyclic or invalid one)."""
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        return ""
    try:
        return MurckoScaffoldSmiles(mol=mol, includeChirality=False)
    except (ValueError, RuntimeError):
        return ""


@dataclass
class DiversityFilter:
    """Scaffold buckets that zero the reward of over-represented scaffolds.

    Args:
        bucket_size: molecules a scaffold may contribute before its reward drops to 0 (REINVENT: 25).
        min_score: molecules scoring below this do not fill buckets (REINVENT: 0.4).
        enabled: False rewards every score as it is (repeats still get 0).
    """

    bucket_size: int = 25
    min_score: float = 0.4
    enabled: bool = True
    buckets: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.bucket_size < 1 or not 0 <= self.min_score <= 1:
            raise InputError(
                None,
                f"diversity_filter: needs bucket_size >= 1 and 0 <= min_score <= 1, got "
                f"{self.bucket_size}, {self.min_score}",
            )

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None, source: Any = None) -> DiversityFilter:
        """The filter of an objective file's ``[diversity_filter]`` table (defaults when None)."""
        params = dict(spec or {})
        unknown = sorted(set(params) - {"bucket_size", "min_score", "enabled"})
        if unknown:
            raise InputError(
                source,
                f"diversity_filter: unknown key {unknown[0]!r}; "
                "valid keys are: bucket_size, enabled, min_score",
            )
        try:
            return cls(**params)
        except InputError as exc:
            raise InputError(source, exc.reason) from None

    def reward(self, scaffold: str, score: float) -> float:
        """The reward of a newly scored molecule (``score``) with ``scaffold``; fills its bucket."""
        if not self.enabled or score < self.min_score:
            return score
        full = self.buckets[scaffold] >= self.bucket_size
        self.buckets[scaffold] += 1
        return 0.0 if full else score
