"""Compile every Triton kernel variant for an H100 (sm_90) without a GPU.

The interpreter checks the kernels' arithmetic but not what only the compiler rejects (types of
loop-carried values, constexpr branches, pointer arithmetic); this builds each variant that the
launchers use down to a cubin with Triton's bundled ptxas.
"""

from __future__ import annotations

import os
import warnings

import pytest

triton = pytest.importorskip("triton")
if os.environ.get("TRITON_INTERPRET") == "1":
    pytest.skip("kernels are interpreted in this process", allow_module_level=True)

import triton.language as tl  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

from biomodels.kernels import triton_ops  # noqa: E402

TARGET = GPUTarget("cuda", 90, 32)
ACC = {"fp32": tl.float32, "bf16": tl.float32, "fp16": tl.float32, "fp64": tl.float64}


def compile_variant(kernel, pointers: dict, constants: dict) -> None:
    """Compile ``kernel``; ``pointers`` maps pointer args to Triton types, None for absent."""
    fn = kernel
    while not isinstance(fn, triton.runtime.jit.JITFunction):
        fn = fn.fn
    signature, constexprs = {}, dict(constants)
    for name in fn.arg_names:
        if name in constants or pointers.get(name, "") is None:
            signature[name] = "constexpr"
            constexprs.setdefault(name, None)
        else:
            signature[name] = pointers.get(name, "i32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Triton 3.9 warns about its fp-fusion default
        compiled = triton.compile(
            ASTSource(fn=fn, signature=signature, constexprs=constexprs),
            target=TARGET,
            options={"num_warps": 4},
        )
    assert compiled.asm["cubin"]


def _segment(dtype, reduce, level):
    """Pointer types of one _segment_kernel launch (see triton_ops._gather)."""
    x = "*fp32" if level == "partials" else f"*{dtype}"
    pointers = {
        "x_ptr": x, "col_ptr": "*i32", "w_ptr": "*fp32", "starts_ptr": "*i64",
        "ends_ptr": "*i64", "rows_ptr": "*i64", "div_ptr": None, "arg_in_ptr": None,
        "out_ptr": f"*{dtype}", "arg_ptr": "*i32" if reduce == 2 else None,
    }  # fmt: skip
    if level == "rows":  # every row light: program id = row
        pointers["rows_ptr"] = None
    if level == "chunks":  # pieces of hub rows into fp32 partials
        pointers.update(rows_ptr=None, out_ptr="*fp32")
    if level == "partials":  # hubs' partials into their rows
        pointers.update(col_ptr=None, w_ptr=None, div_ptr="*fp32" if reduce == 1 else None,
                        arg_in_ptr="*i32" if reduce == 2 else None)  # fmt: skip
    return pointers


LAUNCHES = [
    (level, reduce)
    for level in ("rows", "light-rows", "chunks", "partials")
    for reduce in (0, 1, 2)
    if not (level == "chunks" and reduce == 1)  # mean chunks run as sum
]


@pytest.mark.parametrize(("level", "reduce"), LAUNCHES, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", ["bf16", "fp32"])
def test_segment_kernel_compiles(dtype, level, reduce):
    pointers = _segment(dtype, reduce, level)
    constants = {
        "REDUCE": reduce, "HAS_COL": pointers["col_ptr"] is not None,
        "HAS_W": pointers["w_ptr"] is not None, "HAS_ROWS": pointers["rows_ptr"] is not None,
        "HAS_DIV": pointers["div_ptr"] is not None, "ARG_IN": pointers["arg_in_ptr"] is not None,
        "ACC": ACC[dtype], "BLOCK_E": 8, "BLOCK_F": 64,
    }  # fmt: skip
    compile_variant(triton_ops._segment_kernel, pointers, constants)


@pytest.mark.parametrize("dtype", ["bf16", "fp16", "fp32", "fp64"])
def test_edge_and_dmpnn_kernels_compile(dtype):
    acc = "fp64" if dtype == "fp64" else "fp32"
    blocks = {"BLOCK_E": 32, "BLOCK_F": 64}
    compile_variant(
        triton_ops._edge_dot_kernel,
        {"a_ptr": f"*{dtype}", "b_ptr": f"*{dtype}", "rows_ptr": "*i64", "col_ptr": "*i32",
         "out_ptr": f"*{acc}"},
        {"ACC": ACC[dtype], **blocks},
    )  # fmt: skip
    compile_variant(
        triton_ops._dmpnn_kernel,
        {"m_ptr": f"*{dtype}", "sum_rowptr": "*i64", "sum_edges": "*i64",
         "spread_rowptr": "*i64", "spread_edges": "*i64", "spread_rev": "*i64",
         "out_ptr": f"*{dtype}"},
        {"ACC": ACC[dtype], "BLOCK_E": 8, "BLOCK_F": 64},
    )  # fmt: skip
    compile_variant(
        triton_ops._edge_update_kernel,
        {"node_sum_ptr": f"*{acc}", "m_ptr": f"*{dtype}", "node_ptr": "*i64", "rev_ptr": "*i64",
         "out_ptr": f"*{dtype}"},
        blocks,
    )  # fmt: skip
