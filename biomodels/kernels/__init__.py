"""Fused message-passing kernels (Triton, optional extra ``gpu``) with a PyTorch fallback.

PyG's default aggregation gathers every edge's source row into an ``(E, F)`` tensor and then
scatters it, moving each row through memory twice. Here the gather and the reduction are one
pass over a cached CSR of the graph:

* :func:`aggregate` -- ``y[i] = reduce_{e: dst_e = i} w_e x[src_e]`` for sum, mean and max, with
  optional edge weights, fp32 / bf16 / fp16 inputs and fp32 accumulation, differentiable.
* :func:`dmpnn_message_update` -- ``s[src_e] - m[rev_e]``, the message step of a D-MPNN.

``backend="auto"`` runs the Triton kernels for CUDA tensors when Triton is installed
(:data:`WITH_TRITON`) and the PyTorch path otherwise; this package imports without Triton.
:func:`get_csr` / :func:`clear_csr_cache` expose the CSR cache.
"""

from biomodels.kernels.csr import (
    CSR,
    DmpnnPlan,
    build_csr,
    build_dmpnn_plan,
    clear_csr_cache,
    get_csr,
    get_dmpnn_plan,
)
from biomodels.kernels.ops import (
    BACKENDS,
    REDUCES,
    WITH_TRITON,
    KernelUnavailableError,
    aggregate,
    dmpnn_message_update,
    resolve_backend,
)

__all__ = [
    "BACKENDS",
    "CSR",
    "DmpnnPlan",
    "KernelUnavailableError",
    "REDUCES",
    "WITH_TRITON",
    "aggregate",
    "build_csr",
    "build_dmpnn_plan",
    "clear_csr_cache",
    "dmpnn_message_update",
    "get_csr",
    "get_dmpnn_plan",
    "resolve_backend",
]
