"""Fused aggregation and D-MPNN update against a float64 PyTorch reference, on every target.

The ``target`` fixture (conftest.py) runs each check on the PyTorch path, on Triton's CPU
interpreter (in the subprocess that test_interpreter.py starts) and on CUDA at full size.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch.autograd import gradcheck

from biomodels.kernels import REDUCES, aggregate, dmpnn_message_update, get_csr

# (rtol, atol); atol is scaled by the largest reference value.
TOLERANCE = {
    torch.float64: (1e-9, 1e-9),
    torch.float32: (1e-5, 1e-5),
    torch.float16: (2e-3, 2e-3),
    torch.bfloat16: (1.6e-2, 1.6e-2),
}


def reference_aggregate(x, edge_index, num_nodes, reduce, edge_weight=None):
    """float64 ``y[i] = reduce_{e: dst_e = i} w_e x[src_e]``; 0 where there are no in-edges.

    Weighted max takes its products rounded to fp32, as the kernels compute them: two products
    a rounding apart can swap order in float64, which moves the max's gradient to another input.
    """
    src, dst = edge_index.long()
    messages = x.double()[src]
    if edge_weight is not None:
        if reduce == "max":
            messages = (messages.float() * edge_weight.float()[:, None]).double()
        else:
            messages = messages * edge_weight.double()[:, None]
    out = torch.zeros(num_nodes, x.size(1), dtype=torch.float64, device=x.device)
    if reduce == "max":
        index = dst[:, None].expand_as(messages)
        return out.scatter_reduce(0, index, messages, "amax", include_self=False)
    out = out.index_add(0, dst, messages)
    if reduce == "mean":
        out = out / torch.bincount(dst, minlength=num_nodes).clamp(min=1)[:, None]
    return out


def reference_dmpnn(messages, edge_index, rev, num_nodes):
    """float64 ``s[src_e] - m[rev_e]`` with ``s[u]`` the sum of the messages into ``u``."""
    src, dst = edge_index.long()
    m = messages.double()
    node_sum = torch.zeros(num_nodes, m.size(1), dtype=torch.float64, device=m.device)
    return node_sum.index_add(0, dst, m)[src] - m[rev.long()]


def assert_close(actual, expected, dtype):
    rtol, atol = TOLERANCE[dtype]
    scale = 1.0 + (expected.abs().max().item() if expected.numel() else 0.0)
    torch.testing.assert_close(actual.double(), expected, rtol=rtol, atol=atol * scale)


def random_graph(gen, nodes, edges, isolated=2):
    """Unsorted random edges among the first ``nodes - isolated`` nodes (the rest isolated)."""
    high = max(nodes - isolated, 1)
    return torch.randint(0, high, (2, edges), generator=gen)


def molecule_batch(gen, molecules, max_atoms=30):
    """Chains with ring closures of 5 to ``max_atoms`` atoms; edges 2b, 2b+1 are bond b both ways."""
    bonds, offset = [], 0
    for _ in range(molecules):
        atoms = int(torch.randint(5, max_atoms + 1, (1,), generator=gen))
        chain = torch.stack([torch.arange(atoms - 1), torch.arange(1, atoms)])
        starts = torch.randint(0, atoms - 4, (atoms // 8 + 1,), generator=gen).unique()
        rings = torch.stack([starts, starts + 4])
        bonds.append(torch.cat([chain, rings], 1) + offset)
        offset += atoms
    bonds = torch.cat(bonds, 1)
    edge_index = torch.stack([bonds, bonds.flip(0)], 2).reshape(2, -1)
    rev = torch.arange(edge_index.size(1)) ^ 1
    return edge_index, rev, offset


def on(device, *tensors):
    return [None if t is None else t.to(device) for t in tensors]


def check_aggregate(target, gen, edge_index, num_nodes, reduce, dtype=torch.float32,
                    weighted=True, features=None):  # fmt: skip
    """Forward and backward of :func:`aggregate` against the reference.

    Max gradients are compared in fp32 only: half-precision inputs tie, and ties share the
    gradient in the reference but not in the Triton kernel.
    """
    features = features or target.features
    x = torch.randn(num_nodes, features, generator=gen).to(dtype)
    weight = torch.rand(edge_index.size(1), generator=gen) + 0.5 if weighted else None
    grad_out = torch.randn(num_nodes, features, generator=gen)
    x, edge_index, weight, grad_out = on(target.device, x, edge_index, weight, grad_out)

    x_ref = x.detach().double().requires_grad_()
    w_ref = None if weight is None else weight.detach().double().requires_grad_()
    expected = reference_aggregate(x_ref, edge_index, num_nodes, reduce, w_ref)
    (expected * grad_out.double()).sum().backward()

    x.requires_grad_()
    if weight is not None:
        weight.requires_grad_()
    out = aggregate(x, edge_index, num_nodes, reduce, weight, backend=target.backend)
    assert out.dtype == dtype and out.shape == (num_nodes, features)
    assert_close(out, expected.detach(), dtype)
    if reduce == "max" and dtype in (torch.float16, torch.bfloat16):
        return
    (out * grad_out.to(dtype)).sum().backward()
    assert_close(x.grad, x_ref.grad, dtype)
    if weight is not None:
        assert_close(weight.grad, w_ref.grad, dtype)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_aggregate_matches_reference(target, gen, reduce, dtype, weighted):
    edge_index = random_graph(gen, target.nodes, target.edges)
    check_aggregate(target, gen, edge_index, target.nodes, reduce, dtype, weighted)


@pytest.mark.parametrize("reduce", REDUCES)
def test_aggregate_gradcheck(target, gen, reduce):
    edge_index = random_graph(gen, 6, 10, isolated=1).to(target.device)
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64).to(target.device)
    weight = (torch.rand(10, generator=gen, dtype=torch.float64) + 0.5).to(target.device)

    def run(x, weight):
        return aggregate(x, edge_index, 6, reduce, weight, backend=target.backend)

    assert gradcheck(run, (x.requires_grad_(), weight.requires_grad_()), fast_mode=True)


def _duplicates(gen, target):
    half = random_graph(gen, target.nodes, target.edges // 2)
    return target.nodes, half.repeat(1, 2)


def _sorted_by_target(gen, target):
    edge_index = random_graph(gen, target.nodes, target.edges)
    return target.nodes, edge_index[:, edge_index[1].argsort()]


def _sorted_by_source(gen, target):
    edge_index = random_graph(gen, target.nodes, target.edges)
    return target.nodes, edge_index[:, edge_index[0].argsort()]


def _self_loops(gen, target):
    loops = torch.arange(target.nodes).repeat(2, 1)
    return target.nodes, torch.cat([random_graph(gen, target.nodes, target.edges), loops], 1)


def _int32_index(gen, target):
    return target.nodes, random_graph(gen, target.nodes, target.edges).int()


def _no_edges(gen, target):
    return target.nodes, torch.zeros(2, 0, dtype=torch.long)


def _no_nodes(gen, target):
    return 0, torch.zeros(2, 0, dtype=torch.long)


def _one_node(gen, target):
    return 1, torch.zeros(2, 3, dtype=torch.long)


GRAPHS: dict[str, Callable] = {
    "duplicates": _duplicates,
    "sorted-by-target": _sorted_by_target,
    "sorted-by-source": _sorted_by_source,
    "self-loops": _self_loops,
    "int32-index": _int32_index,
    "no-edges": _no_edges,
    "no-nodes": _no_nodes,
    "one-node": _one_node,
}


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("graph", GRAPHS)
def test_aggregate_edge_cases(target, gen, graph, reduce):
    num_nodes, edge_index = GRAPHS[graph](gen, target)
    check_aggregate(target, gen, edge_index, num_nodes, reduce)


def test_nodes_without_in_edges_get_zero(target, gen):
    edge_index = random_graph(gen, target.nodes, target.edges, isolated=3).to(target.device)
    x = torch.randn(target.nodes, 4, generator=gen).to(target.device) - 10
    for reduce in REDUCES:
        out = aggregate(x, edge_index, target.nodes, reduce, backend=target.backend)
        assert out[-3:].eq(0).all()


@pytest.mark.parametrize("reduce", REDUCES)
def test_aggregate_high_degree_nodes(target, gen, reduce):
    """Node 0 receives ``hub`` edges and node 1 sends ``hub`` (the backward's hub)."""
    nodes = target.nodes
    into = torch.stack([torch.randint(0, nodes, (target.hub,), generator=gen),
                        torch.zeros(target.hub, dtype=torch.long)])  # fmt: skip
    out_of = torch.stack([torch.ones(target.hub, dtype=torch.long),
                          torch.randint(0, nodes, (target.hub,), generator=gen)])  # fmt: skip
    edge_index = torch.cat([random_graph(gen, nodes, target.edges), into, out_of], 1)
    edge_index = edge_index[:, torch.randperm(edge_index.size(1), generator=gen)]
    check_aggregate(target, gen, edge_index, nodes, reduce, features=min(target.features, 16))
    if target.backend == "triton":
        from biomodels.kernels import triton_ops

        csr = get_csr(edge_index.to(target.device), nodes)
        assert triton_ops._build_segments(csr).heavy_rows is not None
        assert triton_ops._build_segments(csr.transpose()).heavy_rows is not None


def test_feature_layouts(target, gen):
    """(N, *) features (more than one feature block), strided views, one column."""
    edge_index = random_graph(gen, target.nodes, target.edges).to(target.device)
    wide = torch.randn(target.nodes, 3, 6, generator=gen).to(target.device)
    for x in (wide, wide[:, :, ::2], wide.reshape(target.nodes, 18)[:, 2:7], wide[:, 0, :1]):
        out = aggregate(x, edge_index, target.nodes, "sum", backend=target.backend)
        assert out.shape == x.shape
        flat = x.reshape(target.nodes, -1)
        expected = reference_aggregate(flat, edge_index, target.nodes, "sum")
        assert_close(out.reshape(target.nodes, -1), expected, torch.float32)


def test_strided_index_and_weight_tensors(target, gen):
    """Column-major edge_index, every-other-element edge weights and reverse map."""
    edge_index, rev, num_nodes = molecule_batch(gen, target.molecules, target.max_atoms)
    edge_index = edge_index.t().contiguous().t().to(target.device)
    num_edges = edge_index.size(1)
    weight = torch.rand(2 * num_edges, generator=gen).to(target.device)[::2]
    x = torch.randn(num_nodes, 5, generator=gen).to(target.device)
    for reduce in REDUCES:
        out = aggregate(x, edge_index, num_nodes, reduce, weight, backend=target.backend)
        expected = reference_aggregate(x, edge_index, num_nodes, reduce, weight)
        assert_close(out, expected, torch.float32)
    rev = torch.stack([rev, rev], 1).to(target.device)[:, 0]
    messages = torch.randn(num_edges, 5, generator=gen).to(target.device)
    out = dmpnn_message_update(messages, edge_index, rev, num_nodes, backend=target.backend)
    assert_close(out, reference_dmpnn(messages, edge_index, rev, num_nodes), torch.float32)


def check_dmpnn(target, gen, edge_index, rev, num_nodes, dtype=torch.float32, features=None):
    """Forward and backward of :func:`dmpnn_message_update` against the reference."""
    features = features or target.features
    messages = torch.randn(edge_index.size(1), features, generator=gen).to(dtype)
    grad_out = torch.randn(edge_index.size(1), features, generator=gen)
    messages, edge_index, rev, grad_out = on(target.device, messages, edge_index, rev, grad_out)

    m_ref = messages.detach().double().requires_grad_()
    expected = reference_dmpnn(m_ref, edge_index, rev, num_nodes)
    (expected * grad_out.double()).sum().backward()

    messages.requires_grad_()
    out = dmpnn_message_update(messages, edge_index, rev, num_nodes, backend=target.backend)
    assert out.dtype == dtype and out.shape == messages.shape
    assert_close(out, expected.detach(), dtype)
    (out * grad_out.to(dtype)).sum().backward()
    assert_close(messages.grad, m_ref.grad, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_dmpnn_matches_reference(target, gen, dtype):
    edge_index, rev, num_nodes = molecule_batch(gen, target.molecules, target.max_atoms)
    check_dmpnn(target, gen, edge_index, rev, num_nodes, dtype)


def test_dmpnn_high_degree_node(target, gen):
    """A star with ``hub`` leaves next to molecules: the hub-safe (unfused) path."""
    edge_index, rev, num_nodes = molecule_batch(gen, target.molecules, target.max_atoms)
    leaves = torch.arange(num_nodes + 1, num_nodes + 1 + target.hub)
    star = torch.stack([torch.full_like(leaves, num_nodes), leaves])
    star = torch.stack([star, star.flip(0)], 2).reshape(2, -1)
    edge_index = torch.cat([edge_index, star], 1)
    rev = torch.arange(edge_index.size(1)) ^ 1
    check_dmpnn(target, gen, edge_index, rev, num_nodes + 1 + target.hub,
                features=min(target.features, 16))  # fmt: skip


def test_dmpnn_shuffled_and_duplicate_edges(target, gen):
    """Edges in random order, and one bond listed twice: each copy keeps its own reverse."""
    edge_index, rev, num_nodes = molecule_batch(gen, target.molecules, target.max_atoms)
    edge_index = torch.cat([edge_index, edge_index[:, :2]], 1)
    rev = torch.cat([rev, rev[:2] - rev[:2].min() + rev.numel()])
    order = torch.randperm(edge_index.size(1), generator=gen)
    position = torch.empty_like(order)
    position[order] = torch.arange(order.numel())
    check_dmpnn(target, gen, edge_index[:, order], position[rev[order]], num_nodes)


def test_dmpnn_gradcheck(target, gen):
    edge_index, rev, num_nodes = molecule_batch(gen, 1, max_atoms=6)
    edge_index, rev = on(target.device, edge_index, rev)
    messages = torch.randn(edge_index.size(1), 2, generator=gen, dtype=torch.float64)
    messages = messages.to(target.device).requires_grad_()

    def run(m):
        return dmpnn_message_update(m, edge_index, rev, num_nodes, backend=target.backend)

    assert gradcheck(run, (messages,), fast_mode=True)


def test_dmpnn_no_edges(target):
    empty = torch.zeros(2, 0, dtype=torch.long, device=target.device)
    messages = torch.zeros(0, 8, device=target.device, requires_grad=True)
    out = dmpnn_message_update(messages, empty, empty[0], 5, backend=target.backend)
    out.sum().backward()
    assert out.shape == (0, 8) and messages.grad.shape == (0, 8)
