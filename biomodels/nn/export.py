"""What a network says about itself so that it can be exported to ONNX and run by ONNX Runtime.

An exportable network (:class:`Exportable`) names the method its estimator calls at prediction
time (``forward`` for property GNNs and image nets, ``forward_with_attention`` for the text
classifiers), turns that method's arguments into named tensors (:meth:`export_inputs`), computes
the method's outputs from those tensors alone (:meth:`export_call`, what the exporter traces),
and says which axes are dynamic. Featurisation stays in Python: a molecule model's inputs are
the graph tensors of a :class:`~biomodels.data.graphs.MoleculeBatch`, with dynamic atom, bond
and batch sizes.

:mod:`biomodels.train.onnx` exports any estimator whose networks implement this protocol and
puts ONNX Runtime in their place.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from torch import Tensor

__all__ = ["Exportable", "as_outputs"]


@runtime_checkable
class Exportable(Protocol):
    """A network that :func:`biomodels.train.onnx.export_onnx` can export.

    Attributes:
        export_method: the method the estimator calls on the network when predicting.
        export_outputs: names of that method's outputs, in order (one or several tensors).
    """

    export_method: str
    export_outputs: tuple[str, ...]

    def export_example(self) -> tuple[Any, ...]:
        """Arguments of a typical call of :attr:`export_method` (what the exporter traces with;
        every dynamic size at least 2, and distinct sizes for distinct axes)."""
        ...

    def export_inputs(self, *args: Any) -> dict[str, Tensor]:
        """The named input tensors of a call of :attr:`export_method` with ``args``."""
        ...

    def export_call(self, *tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
        """:attr:`export_method`'s outputs from the tensors of :meth:`export_inputs`, in order."""
        ...

    def export_dynamic(self) -> dict[str, dict[int, str]]:
        """The dynamic axes of each input: ``{input: {axis: dimension name}}``; inputs sharing
        a dimension name share the size."""
        ...


def as_outputs(value: Tensor | tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """A method's outputs as a tuple (a single tensor becomes a 1-tuple)."""
    return value if isinstance(value, tuple) else (value,)
