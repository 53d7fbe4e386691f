"""The featurizer protocol and its registry: featurizers are chosen by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from biomodels.registry import Registry


@runtime_checkable
class Featurizer(Protocol):
    """Turns a chunk of inputs (RDKit mols or sequence strings) into features.

    ``input_kind`` is ``"molecule"`` or ``"sequence"``. ``featurize_chunk`` returns a
    ``numpy`` array with one row per input, or :class:`~biomodels.featurize.graph.GraphArrays`
    for graph featurizers. ``config`` is JSON-serialisable and, with the name, fully
    determines the output (it keys the on-disk cache and is stored in checkpoints).
    """

    name: str
    input_kind: str

    def config(self) -> dict[str, Any]: ...

    def featurize_chunk(self, items: Sequence[Any], texts: Sequence[str | None] | None = None) -> Any: ...


FEATURIZERS: Registry[type] = Registry("featurizer")


def get_featurizer(name: str, **options: Any) -> Featurizer:
    """Instantiate the featurizer registered under ``name`` with its options."""
    return FEATURIZERS.get(name)(**options)
