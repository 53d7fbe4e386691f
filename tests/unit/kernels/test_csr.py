"""CSR construction, its transpose, the D-MPNN plan and the identity-keyed cache."""

from __future__ import annotations

import gc

import pytest
import torch

from biomodels.kernels import (
    build_csr,
    build_dmpnn_plan,
    clear_csr_cache,
    get_csr,
    get_dmpnn_plan,
)
from biomodels.kernels import csr as csr_module


@pytest.fixture(autouse=True)
def _empty_cache():
    clear_csr_cache()
    yield
    clear_csr_cache()


def _edges(csr):
    """(target, source, edge id) triples of a CSR, in position order."""
    return list(zip(csr.rows().tolist(), csr.col.tolist(), csr.edge_ids().tolist(), strict=True))


def test_build_csr_groups_by_target_stably():
    edge_index = torch.tensor([[0, 1, 2, 3, 0], [2, 0, 2, 1, 0]])
    csr = build_csr(edge_index, 5)
    assert csr.rowptr.tolist() == [0, 2, 3, 5, 5, 5]
    assert _edges(csr) == [(0, 1, 1), (0, 0, 4), (1, 3, 3), (2, 0, 0), (2, 2, 2)]
    assert csr.col.dtype == torch.int32 and csr.max_degree == 2 and csr.num_edges == 5


def test_sorted_targets_skip_the_permutation():
    csr = build_csr(torch.tensor([[3, 1, 2], [0, 0, 2]]), 4)
    assert csr.perm is None
    assert csr.edge_ids().tolist() == [0, 1, 2]
    values = torch.tensor([1.0, 2.0, 3.0])
    assert csr.to_csr_order(values) is values and csr.to_edge_order(values) is values


def test_transpose_groups_by_source():
    edge_index = torch.randint(0, 7, (2, 40), generator=torch.Generator().manual_seed(0))
    csr = build_csr(edge_index, 7)
    transposed = csr.transpose()
    assert transposed is csr.transpose()
    expected = sorted(zip(edge_index[0].tolist(), edge_index[1].tolist(), range(40), strict=True))
    assert _edges(transposed) == expected
    # transpose_positions maps each transposed position to the same edge in the CSR
    positions = csr.transpose_positions()
    assert torch.equal(csr.edge_ids()[positions], transposed.edge_ids())


def test_edge_order_round_trip():
    edge_index = torch.tensor([[0, 1, 2, 3], [3, 2, 1, 0]])
    csr = build_csr(edge_index, 4)
    values = torch.arange(4.0)
    assert torch.equal(csr.to_edge_order(csr.to_csr_order(values)), values)
    assert csr.edge_rows().tolist() == [3, 2, 1, 0]
    assert torch.allclose(csr.inv_degree(), torch.ones(4))


def test_empty_graphs():
    csr = build_csr(torch.zeros(2, 0, dtype=torch.long), 3)
    assert csr.rowptr.tolist() == [0, 0, 0, 0] and csr.max_degree == 0
    assert build_csr(torch.zeros(2, 0, dtype=torch.long), 0).rowptr.tolist() == [0]


@pytest.mark.parametrize(
    ("edge_index", "num_nodes", "message"),
    [
        (torch.zeros(3, 4, dtype=torch.long), 5, "shape"),
        (torch.zeros(2, 4), 5, "int32 or int64"),
        (torch.tensor([[0, 5], [1, 1]]), 5, r"\[0, 4\]"),
        (torch.tensor([[0, -1], [1, 1]]), 5, r"\[0, 4\]"),
    ],
    ids=["shape", "dtype", "too-large", "negative"],
)
def test_build_csr_rejects_bad_edge_index(edge_index, num_nodes, message):
    with pytest.raises(ValueError, match=message):
        build_csr(edge_index, num_nodes)


def test_cache_reuses_csr_for_the_same_tensor():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    csr = get_csr(edge_index, 2)
    assert get_csr(edge_index, 2) is csr
    assert get_csr(edge_index, 3) is not csr  # num_nodes is part of the key
    assert get_csr(edge_index.clone(), 2) is not csr  # another tensor, another entry


def test_cache_rebuilds_after_in_place_edit():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    before = get_csr(edge_index, 3)
    edge_index[1, 0] = 2
    after = get_csr(edge_index, 3)
    assert after is not before
    assert after.rows().tolist() == [0, 2]


def test_cache_drops_entries_of_freed_tensors():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    get_csr(edge_index, 2)
    assert len(csr_module._CSR_CACHE) == 1
    del edge_index
    gc.collect()
    assert len(csr_module._CSR_CACHE) == 0


def test_cache_is_bounded():
    graphs = [torch.tensor([[0], [i]]) for i in range(csr_module.CACHE_SIZE + 3)]
    for edge_index in graphs:
        get_csr(edge_index, 20)
    assert len(csr_module._CSR_CACHE) == csr_module.CACHE_SIZE
    clear_csr_cache()
    assert len(csr_module._CSR_CACHE) == 0


def test_cache_works_for_inference_tensors():
    with torch.inference_mode():
        edge_index = torch.tensor([[0, 1], [1, 0]])
        assert get_csr(edge_index, 2) is get_csr(edge_index, 2)


def test_dmpnn_plan_permutes_reverse_edges():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    rev = torch.tensor([1, 0, 3, 2])
    plan = build_dmpnn_plan(edge_index, rev, 3)
    assert torch.equal(plan.rev_in, rev[plan.csr.edge_ids()])
    assert torch.equal(plan.rev_t, rev[plan.csr_t.edge_ids()])
    assert get_dmpnn_plan(edge_index, rev, 3) is get_dmpnn_plan(edge_index, rev, 3)


@pytest.mark.parametrize(
    "rev",
    [torch.tensor([1, 0, 2, 3]), torch.tensor([1, 0, 3, 9]), torch.tensor([2, 3, 0, 1])],
    ids=["not-an-involution", "out-of-range", "wrong-endpoints"],
)
def test_dmpnn_plan_rejects_bad_reverse_map(rev):
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    with pytest.raises(ValueError, match="rev_edge_index"):
        build_dmpnn_plan(edge_index, rev, 3)


def test_dmpnn_plan_rejects_wrong_shape():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        build_dmpnn_plan(edge_index, torch.tensor([1, 0, 2]), 2)
