"""Message-passing throughput: biomodels.kernels against PyG's scatter path and torch's CSR SpMM.

Usage:
    python benchmarks/message_passing.py --device cuda [--quick] [--molgraphs graphs.pt]
        [--json out.json] [--png out.png]
    python benchmarks/message_passing.py --make-molgraphs smiles.csv graphs.pt   # needs RDKit

Graph families: molecular batches from ``--molgraphs`` (a ``torch.save``d dict with
``edge_index`` and ``num_nodes``, optionally ``rev_edge_index`` and ``batch``; made once on a
machine with RDKit by ``--make-molgraphs``), synthetic molecule-like batches (chains with ring
closures, about 25 atoms and 77 directed edges per molecule, degree <= 4), uniform random graphs
and power-law graphs (in-degree of node ``i`` falling like ``i**(-2/3)``, so node 0 is a hub),
up to 1M nodes / 16M edges; features F in {64, 128, 256}; fp32 and bf16.

Rows: aggregation (sum, max; forward, and forward + backward for sum) by ``kernels``
(:func:`biomodels.kernels.aggregate`, backend auto: Triton on CUDA, the PyTorch path on CPU),
``kernels-torch`` (its PyTorch path, on CUDA), ``pyg-scatter`` (``index_select`` +
``torch_geometric.utils.scatter``, what ``MessagePassing`` does) and ``torch-csr``
(``torch.sparse_csr_tensor @ x``); the one-off CSR build; PyG ``GCNConv`` / ``GINConv`` against
the same layer written with :func:`aggregate`; a D-MPNN training step in molecules/s.

Timing: CUDA events on GPU, ``perf_counter`` on CPU; warm-up runs first (they also run Triton's
autotuning), then the median of many runs, cycling through several copies of the inputs so that
no run finds its data in cache. A device-to-device copy is timed in the same run; each
aggregation row shows its bandwidth over the floor bytes (``2*N*F*b + 4*E + 8*(N+1)``: read x
once, write y once, read the CSR) and that as a share of the copy bandwidth, and for random
graphs also the share of the gathered bound (``E*F*b`` for the gathered rows instead of
``N*F*b``), which is what a random gather can reach when nothing is reused from cache.
"vs base" is the speedup over the first row of its group (``pyg-scatter``; for the D-MPNN step,
the plain PyTorch message step ``torch-index_add``). Each row's outputs are compared with the
baseline's once before timing (``max_abs_diff`` in the JSON).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, GINConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import scatter

from biomodels.kernels import WITH_TRITON, aggregate, build_csr, dmpnn_message_update

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
ATOM_DIM, BOND_DIM = 133, 14  # chemprop's atom and bond feature sizes


@dataclass
class Graph:
    """One benchmark graph; ``rev``/``batch`` only for molecular batches (D-MPNN rows)."""

    family: str
    edge_index: Tensor
    num_nodes: int
    rev: Tensor | None = None
    batch: Tensor | None = None
    num_graphs: int = 0
    random_access: bool = False

    @property
    def num_edges(self) -> int:
        return self.edge_index.size(1)


@dataclass
class Row:
    family: str
    nodes: int
    edges: int
    features: int
    dtype: str
    op: str
    impl: str
    ms: float | None
    runs: int = 0
    gbps: float | None = None
    floor_share: float | None = None
    gathered_share: float | None = None
    speedup_vs_base: float | None = None
    molecules_per_s: float | None = None
    max_abs_diff: float | None = None
    note: str = ""
    times_ms: list[float] = field(default_factory=list)


# ----------------------------------------------------------------------------- graphs


def molecule_template(rng: random.Random) -> list[tuple[int, int]]:
    """Bonds of one molecule-like graph: a chain plus ring closures, degree <= 4."""
    atoms = rng.randint(20, 30)
    bonds = {(i, i + 1) for i in range(atoms - 1)}
    degree = [2] * atoms
    degree[0] = degree[-1] = 1
    target = round(atoms * 1.54)  # 77 directed edges per 25 atoms
    for _ in range(2000):
        if len(bonds) >= target:
            break
        i = rng.randrange(atoms)
        j = i + rng.randint(2, 6)
        if j < atoms and degree[i] < 4 and degree[j] < 4 and (i, j) not in bonds:
            bonds.add((i, j))
            degree[i] += 1
            degree[j] += 1
    return sorted(bonds)


def molecule_batch(molecules: int, seed: int = 0) -> Graph:
    """``molecules`` molecules drawn from 64 templates; edges 2b, 2b+1 are bond b both ways."""
    rng = random.Random(seed)
    templates = [torch.tensor(molecule_template(rng)).t() for _ in range(64)]
    sizes = [int(t.max()) + 1 for t in templates]
    picks = [rng.randrange(64) for _ in range(molecules)]
    offsets = torch.tensor([0] + [sizes[p] for p in picks]).cumsum(0)
    bonds = torch.cat([templates[p] + offsets[i] for i, p in enumerate(picks)], 1)
    edge_index = torch.stack([bonds, bonds.flip(0)], 2).reshape(2, -1)
    batch = torch.repeat_interleave(torch.arange(molecules), torch.tensor([sizes[p] for p in picks]))
    return Graph("molecules", edge_index, int(offsets[-1]), torch.arange(edge_index.size(1)) ^ 1,
                 batch, molecules)  # fmt: skip


def random_graph(nodes: int, edges: int, power_law: bool, seed: int = 0) -> Graph:
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(0, nodes, (edges,), generator=gen)
    if power_law:
        dst = (torch.rand(edges, generator=gen).pow(3) * nodes).long().clamp(max=nodes - 1)
    else:
        dst = torch.randint(0, nodes, (edges,), generator=gen)
    family = "power-law" if power_law else "random"
    return Graph(family, torch.stack([src, dst]), nodes, random_access=True)


def reverse_edges(edge_index: Tensor, num_nodes: int) -> Tensor | None:
    """Id of each edge's reverse, or None when some edge has none."""
    src, dst = edge_index
    keys = src * num_nodes + dst
    order = keys.argsort()
    wanted = dst * num_nodes + src
    found = torch.searchsorted(keys[order], wanted).clamp(max=keys.numel() - 1)
    if not bool((keys[order][found] == wanted).all()):
        return None
    return order[found]


def load_molgraphs(path: Path, max_molecules: int | None) -> Graph:
    data = torch.load(path, map_location="cpu", weights_only=True)
    edge_index, num_nodes = data["edge_index"].long(), int(data["num_nodes"])
    batch = data.get("batch")
    if batch is not None and max_molecules is not None:
        keep = batch < max_molecules
        num_nodes = int(keep.sum())
        edge_index = edge_index[:, keep[edge_index[0]]]
        batch = batch[keep]
    rev = data.get("rev_edge_index")
    rev = reverse_edges(edge_index, num_nodes) if rev is None or max_molecules else rev.long()
    num_graphs = int(batch.max()) + 1 if batch is not None and batch.numel() else 0
    return Graph(f"molgraphs:{path.name}", edge_index, num_nodes, rev, batch, num_graphs)


def make_molgraphs(smiles_path: Path, out: Path) -> None:
    """Bond graphs of a molecule file (any format biomodels reads, e.g. hiv.csv.gz), for --molgraphs."""
    from biomodels.featurize import iter_featurized_chunks
    from biomodels.featurize.graph import GraphArrays

    chunks = iter_featurized_chunks(smiles_path, "graph", workers=os.cpu_count() or 1)
    graphs = GraphArrays.concat([chunk.features for chunk in chunks])
    offsets = np.repeat(graphs.atom_ptr[:-1], np.diff(graphs.edge_ptr))
    edge_index = torch.from_numpy(graphs.edge_index + offsets)  # edges 2k, 2k + 1 are a bond's pair
    sizes = torch.from_numpy(np.diff(graphs.atom_ptr))
    torch.save(
        {
            "edge_index": edge_index,
            "num_nodes": int(graphs.atom_ptr[-1]),
            "rev_edge_index": torch.arange(edge_index.size(1)) ^ 1,
            "batch": torch.repeat_interleave(torch.arange(len(sizes)), sizes),
        },
        out,
    )
    print(f"wrote {len(sizes)} molecules, {int(sizes.sum())} atoms, {edge_index.size(1)} edges to {out}")


def build_graphs(args: argparse.Namespace) -> list[Graph]:
    if args.quick:
        graphs = [molecule_batch(128), random_graph(10_000, 100_000, False),
                  random_graph(10_000, 100_000, True)]  # fmt: skip
    else:
        graphs = [
            molecule_batch(1024),
            molecule_batch(16384),
            random_graph(100_000, 1_600_000, False),
            random_graph(1_000_000, 16_000_000, False),
            random_graph(1_000_000, 16_000_000, True),
        ]
    if args.molgraphs:
        graphs.insert(0, load_molgraphs(args.molgraphs, 128 if args.quick else None))
    else:
        print("molgraphs family skipped: pass --molgraphs PATH.pt (see --make-molgraphs)")
    return graphs


# ----------------------------------------------------------------------------- timing


class Timer:
    """Median-of-runs timing with CUDA events (GPU) or perf_counter (CPU), rotating inputs."""

    def __init__(self, device: torch.device, warmup: int, runs: int, min_runs: int,
                 budget_s: float):  # fmt: skip
        self.device, self.warmup, self.runs = device, warmup, runs
        self.min_runs, self.budget_s = min_runs, budget_s

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def measure(self, fns: dict[str, Callable[[object], object]], inputs: list) -> dict[str, list[float]]:
        """Milliseconds of each ``fn(inputs[i % len(inputs)])`` per timed run.

        The implementations take turns run by run, so load that drifts on a shared machine hits
        them alike and their ratio stays meaningful.
        """
        for fn in fns.values():
            for i in range(self.warmup):
                fn(inputs[i % len(inputs)])
        self.sync()
        times: dict[str, list[float]] = {name: [] for name in fns}
        started = time.perf_counter()
        for i in range(self.runs):
            item = inputs[i % len(inputs)]
            for name, fn in fns.items():
                times[name].append(self._once(fn, item))
            if i + 1 >= self.min_runs and time.perf_counter() - started > self.budget_s * len(fns):
                break
        return times

    def _once(self, fn: Callable[[object], object], item: object) -> float:
        if self.device.type == "cuda":
            begin = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            begin.record()
            fn(item)
            end.record()
            end.synchronize()
            return begin.elapsed_time(end)
        begin_s = time.perf_counter()
        fn(item)
        return (time.perf_counter() - begin_s) * 1e3


def copy_bandwidth(timer: Timer, nbytes: int) -> float:
    """GB/s of a same-device copy (bytes read + bytes written per second)."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=timer.device).uniform_()
    dst = torch.empty_like(src)
    ms = statistics.median(timer.measure({"copy": lambda _: dst.copy_(src)}, [None])["copy"])
    return 2 * nbytes / (ms * 1e-3) / 1e9


def rotations(nbytes: int) -> int:
    """How many input copies to cycle through: at least 256 MB in all, between 2 and 8."""
    return max(2, min(8, math.ceil(256e6 / max(nbytes, 1))))


# ----------------------------------------------------------------------------- layers


class KernelGCN(nn.Module):
    """GCNConv(normalize=False) written with :func:`aggregate`."""

    def __init__(self, features: int):
        super().__init__()
        self.lin = nn.Linear(features, features, bias=False)
        self.bias = nn.Parameter(torch.zeros(features))

    def forward(self, x: Tensor, edge_index: Tensor, weight: Tensor) -> Tensor:
        return aggregate(self.lin(x), edge_index, x.size(0), "sum", weight) + self.bias


class KernelGIN(nn.Module):
    """GINConv (eps = 0) written with :func:`aggregate`."""

    def __init__(self, mlp: nn.Module):
        super().__init__()
        self.nn = mlp

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.nn(x + aggregate(x, edge_index, x.size(0), "sum"))


def mlp(features: int) -> nn.Module:
    return nn.Sequential(nn.Linear(features, features), nn.ReLU(), nn.Linear(features, features))


class DMPNN(nn.Module):
    """A chemprop-style D-MPNN regressor; ``update`` is the message step under test."""

    def __init__(self, hidden: int, update: Callable[[Tensor], Tensor], depth: int = 3):
        super().__init__()
        self.update, self.depth = update, depth
        self.w_i = nn.Linear(ATOM_DIM + BOND_DIM, hidden, bias=False)
        self.w_h = nn.Linear(hidden, hidden, bias=False)
        self.w_o = nn.Linear(ATOM_DIM + hidden, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, atoms: Tensor, bonds: Tensor, graph: Graph) -> Tensor:
        src, dst = graph.edge_index
        h0 = self.w_i(torch.cat([atoms[src], bonds], 1))
        m = torch.relu(h0)
        for _ in range(self.depth - 1):
            m = torch.relu(h0 + self.w_h(self.update(m)))
        node = m.new_zeros(graph.num_nodes, m.size(1)).index_add(0, dst, m)
        h = torch.relu(self.w_o(torch.cat([atoms, node], 1)))
        pooled = h.new_zeros(graph.num_graphs, h.size(1)).index_add(0, graph.batch, h)
        return self.head(pooled).squeeze(1)


def torch_dmpnn_update(graph: Graph) -> Callable[[Tensor], Tensor]:
    """The plain PyTorch message step (chemprop's): index_add, then two gathers."""
    src, dst = graph.edge_index

    def update(m: Tensor) -> Tensor:
        node = m.new_zeros(graph.num_nodes, m.size(1)).index_add(0, dst, m)
        return node[src] - m[graph.rev]

    return update


def kernel_dmpnn_update(graph: Graph) -> Callable[[Tensor], Tensor]:
    def update(m: Tensor) -> Tensor:
        return dmpnn_message_update(m, graph.edge_index, graph.rev, graph.num_nodes)

    return update


# ----------------------------------------------------------------------------- benchmark


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.device = torch.device(args.device)
        self.quick = args.quick
        # warm-up runs, most runs, fewest runs, seconds after which a row stops early
        self.timer = Timer(self.device, *((2, 15, 5, 0.3) if args.quick else (5, 30, 10, 2.0)))
        self.copy_gbps = copy_bandwidth(self.timer, (64 if args.quick else 1024) * 2**20)
        self.rows: list[Row] = []
        self.impls = ["kernels"] + (["kernels-torch"] if self.device.type == "cuda" else [])

    def time(self, fns: dict[str, Callable], inputs: list) -> dict[str, list[float] | None]:
        """Interleaved timed runs per implementation; None for one that ran out of memory."""
        try:
            return self.timer.measure(fns, inputs)
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
        if len(fns) == 1:
            return dict.fromkeys(fns)
        return {name: self.time({name: fn}, inputs)[name] for name, fn in fns.items()}

    def add(self, graph: Graph, features: int, dtype: str, op: str, impl: str,
            times: list[float] | None, floor_bytes: float | None = None,
            gathered_bytes: float | None = None, note: str = "", **extra) -> Row:  # fmt: skip
        ms = statistics.median(times) if times else None
        note = note or ("" if times else "out of memory")
        row = Row(graph.family, graph.num_nodes, graph.num_edges, features, dtype, op, impl, ms,
                  len(times or []), note=note, times_ms=[round(t, 5) for t in times or []],
                  **extra)  # fmt: skip
        if ms and floor_bytes:
            row.gbps = floor_bytes / (ms * 1e-3) / 1e9
            row.floor_share = row.gbps / self.copy_gbps
            if gathered_bytes:
                row.gathered_share = gathered_bytes / (ms * 1e-3) / 1e9 / self.copy_gbps
        base = next((r for r in self.rows if r.op == op and r.family == graph.family
                     and r.nodes == graph.num_nodes and r.features == features
                     and r.dtype == dtype), None)  # fmt: skip
        if ms and base and base.ms:
            row.speedup_vs_base = base.ms / ms
        self.rows.append(row)
        return row

    def features_of(self, graph: Graph, features: int, dtype: torch.dtype) -> list[Tensor]:
        nbytes = graph.num_nodes * features * torch.finfo(dtype).bits // 8
        return [torch.randn(graph.num_nodes, features, device=self.device, dtype=dtype)
                for _ in range(rotations(nbytes))]  # fmt: skip

    def run_graph(self, graph: Graph, feature_sizes: list[int], dtypes: list[str]) -> None:
        graph.edge_index = graph.edge_index.to(self.device)
        if graph.rev is not None:
            graph.rev = graph.rev.to(self.device)
        if graph.batch is not None:
            graph.batch = graph.batch.to(self.device)
        self.csr_build(graph)
        for features in feature_sizes:
            for name in dtypes:
                self.aggregation(graph, features, name)
                self.layers(graph, features, name)
                if graph.rev is not None and graph.batch is not None:
                    self.dmpnn(graph, features, name)
                self.report_progress(graph, features, name)

    def report_progress(self, graph: Graph, features: int, dtype: str) -> None:
        print(f"  done {graph.family} N={graph.num_nodes} E={graph.num_edges} F={features} {dtype}",
              file=sys.stderr, flush=True)  # fmt: skip

    def csr_build(self, graph: Graph) -> None:
        def build(_: object) -> None:
            build_csr(graph.edge_index, graph.num_nodes).transpose()

        self.add(graph, 0, "-", "csr-build (+transpose)", "kernels",
                 self.time({"kernels": build}, [None])["kernels"])  # fmt: skip

    def aggregation(self, graph: Graph, features: int, name: str) -> None:
        dtype = DTYPES[name]
        b = torch.finfo(dtype).bits // 8
        n, e = graph.num_nodes, graph.num_edges
        floor = 2 * n * features * b + 4 * e + 8 * (n + 1)
        gathered = (e + n) * features * b + 4 * e + 8 * (n + 1) if graph.random_access else None
        xs = self.features_of(graph, features, dtype)
        src, dst = graph.edge_index
        reference = scatter(xs[0].index_select(0, src), dst, 0, n, reduce="sum")

        impls: dict[str, Callable[[Tensor, str], Tensor]] = {
            "pyg-scatter": lambda x, r: scatter(x.index_select(0, src), dst, 0, n, reduce=r),
            "kernels": lambda x, r: aggregate(x, graph.edge_index, n, r),
            "kernels-torch": lambda x, r: aggregate(x, graph.edge_index, n, r, backend="torch"),
        }
        names = ["pyg-scatter", *self.impls]
        for reduce in ("sum", "max"):
            times = self.time({impl: lambda x, fn=impls[impl], r=reduce: fn(x, r) for impl in names}, xs)
            for impl in names:
                diff = (impls[impl](xs[0], "sum").float() - reference.float()).abs().max().item() \
                    if reduce == "sum" else None  # fmt: skip
                self.add(graph, features, name, f"aggregate-{reduce}", impl, times[impl], floor, gathered,
                         max_abs_diff=diff)  # fmt: skip
            if reduce == "sum":
                self.torch_csr(graph, features, name, xs, floor, gathered)

        grad = torch.randn_like(xs[0])
        for x in xs:
            x.requires_grad_()

        def step(x: Tensor, fn: Callable[[Tensor, str], Tensor]) -> None:
            x.grad = None
            fn(x, "sum").backward(grad)

        times = self.time({impl: lambda x, fn=impls[impl]: step(x, fn) for impl in names}, xs)
        for impl in names:
            self.add(graph, features, name, "aggregate-sum fwd+bwd", impl, times[impl],
                     2 * floor, 2 * gathered if gathered else None)  # fmt: skip

    def torch_csr(self, graph: Graph, features: int, name: str, xs: list[Tensor],
                  floor: float, gathered: float | None) -> None:  # fmt: skip
        src, dst = graph.edge_index
        order = dst.argsort(stable=True)
        rowptr = torch.zeros(graph.num_nodes + 1, dtype=torch.long, device=self.device)
        rowptr[1:] = torch.bincount(dst, minlength=graph.num_nodes).cumsum(0)
        ones = torch.ones(graph.num_edges, dtype=xs[0].dtype, device=self.device)
        matrix = torch.sparse_csr_tensor(rowptr, src[order], ones, (graph.num_nodes,) * 2,
                                         check_invariants=False)  # fmt: skip
        try:
            times = self.time({"torch-csr": lambda x: matrix @ x}, xs)["torch-csr"]
        except (RuntimeError, NotImplementedError) as error:
            self.add(graph, features, name, "aggregate-sum", "torch-csr", None,
                     note=f"unsupported: {str(error).splitlines()[0][:60]}")  # fmt: skip
            return
        self.add(graph, features, name, "aggregate-sum", "torch-csr", times, floor, gathered)

    def layers(self, graph: Graph, features: int, name: str) -> None:
        dtype = DTYPES[name]
        n = graph.num_nodes
        edge_index, weight = gcn_norm(graph.edge_index, None, n, add_self_loops=True)
        weight = weight.to(dtype)
        xs = self.features_of(graph, features, dtype)
        pyg_gcn = GCNConv(features, features, normalize=False).to(self.device, dtype)
        ours_gcn = KernelGCN(features).to(self.device, dtype)
        with torch.no_grad():
            ours_gcn.lin.weight.copy_(pyg_gcn.lin.weight)
            ours_gcn.bias.copy_(pyg_gcn.bias)
        pyg_gin = GINConv(mlp(features)).to(self.device, dtype)
        ours_gin = KernelGIN(mlp(features)).to(self.device, dtype)
        ours_gin.nn.load_state_dict(pyg_gin.nn.state_dict())
        layers = {
            "gcn": {"pyg-scatter": lambda x: pyg_gcn(x, edge_index, weight),
                    "kernels": lambda x: ours_gcn(x, edge_index, weight)},
            "gin": {"pyg-scatter": lambda x: pyg_gin(x, graph.edge_index),
                    "kernels": lambda x: ours_gin(x, graph.edge_index)},
        }  # fmt: skip

        def step(x: Tensor, fn: Callable[[Tensor], Tensor]) -> None:
            fn(x).sum().backward()

        for layer, impls in layers.items():
            with torch.no_grad():
                diff = (impls["kernels"](xs[0]) - impls["pyg-scatter"](xs[0])).abs().max().item()
                forward = self.time(impls, xs)
            both = self.time({impl: lambda x, fn=fn: step(x, fn) for impl, fn in impls.items()}, xs)
            for impl in impls:
                self.add(graph, features, name, f"{layer} fwd", impl, forward[impl], max_abs_diff=diff)
            for impl in impls:
                self.add(graph, features, name, f"{layer} fwd+bwd", impl, both[impl])

    def dmpnn(self, graph: Graph, features: int, name: str) -> None:
        dtype = DTYPES[name]
        n, e = graph.num_nodes, graph.num_edges
        count = rotations((n * ATOM_DIM + e * BOND_DIM) * torch.finfo(dtype).bits // 8)
        inputs = [(torch.randn(n, ATOM_DIM, device=self.device, dtype=dtype),
                   torch.randn(e, BOND_DIM, device=self.device, dtype=dtype),
                   torch.randn(graph.num_graphs, device=self.device, dtype=dtype))
                  for _ in range(count)]  # fmt: skip
        torch.manual_seed(0)
        plain = DMPNN(features, torch_dmpnn_update(graph)).to(self.device, dtype)
        ours = DMPNN(features, kernel_dmpnn_update(graph)).to(self.device, dtype)
        ours.load_state_dict(plain.state_dict())
        with torch.no_grad():
            atoms, bonds, _ = inputs[0]
            diff = (ours(atoms, bonds, graph) - plain(atoms, bonds, graph)).abs().max().item()

        def step(
            item: tuple[Tensor, Tensor, Tensor], model: nn.Module, optimizer: torch.optim.Optimizer
        ) -> None:
            atoms, bonds, target = item
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.mse_loss(model(atoms, bonds, graph), target)
            loss.backward()
            optimizer.step()

        models = {"torch-index_add": plain, "kernels": ours}
        optimizers = {impl: torch.optim.SGD(model.parameters(), lr=1e-4) for impl, model in models.items()}
        times = self.time({impl: lambda item, impl=impl: step(item, models[impl], optimizers[impl])
                           for impl in models}, inputs)  # fmt: skip
        for impl in models:
            rate = graph.num_graphs / (statistics.median(times[impl]) * 1e-3) if times[impl] else None
            self.add(graph, features, name, "dmpnn train step", impl, times[impl],
                     molecules_per_s=rate, max_abs_diff=diff)  # fmt: skip


# ----------------------------------------------------------------------------- output


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[Row], title: str) -> None:
    headers = ["family", "N", "E", "F", "dtype", "op", "impl", "ms", "GB/s", "floor%",
               "gathered%", "vs base", "mol/s", "note"]  # fmt: skip
    body = [
        [r.family, str(r.nodes), str(r.edges), str(r.features or "-"), r.dtype, r.op, r.impl,
         _fmt(r.ms, ".3f"), _fmt(r.gbps, ".1f"),
         _fmt(r.floor_share and 100 * r.floor_share, ".0f"),
         _fmt(r.gathered_share and 100 * r.gathered_share, ".0f"),
         _fmt(r.speedup_vs_base, ".2f") + ("x" if r.speedup_vs_base else ""),
         _fmt(r.molecules_per_s, ",.0f"), r.note]
        for r in rows
    ]  # fmt: skip
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(headers)]
        print(title)
        for line in [headers, *body]:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        return
    table = Table(title=title)
    for h in headers:
        table.add_column(h, justify="left" if h in ("family", "op", "impl", "note") else "right")
    for line in body:
        table.add_row(*line)
    Console(width=200).print(table)


def write_png(rows: list[Row], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ops = [op for op in dict.fromkeys(r.op for r in rows) if not op.startswith("csr")]
    fig, axes = plt.subplots(len(ops), 1, figsize=(12, 2.6 * len(ops)), squeeze=False)
    for ax, op in zip(axes[:, 0], ops, strict=True):
        chosen = [r for r in rows if r.op == op and r.ms]
        configs = list(dict.fromkeys(f"{r.family}\nF={r.features} {r.dtype}" for r in chosen))
        impls = list(dict.fromkeys(r.impl for r in chosen))
        width = 0.8 / max(len(impls), 1)
        for k, impl in enumerate(impls):
            values = {f"{r.family}\nF={r.features} {r.dtype}": r.ms for r in chosen
                      if r.impl == impl}  # fmt: skip
            xs = [i + k * width for i, c in enumerate(configs) if c in values]
            ax.bar(xs, [values[c] for c in configs if c in values], width, label=impl)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(configs))], configs, fontsize=6)
        ax.set_yscale("log")
        ax.set_ylabel("ms (median)")
        ax.set_title(op, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / len(ops)))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--quick", action="store_true", help="small sizes, F=64 (seconds)")
    parser.add_argument("--molgraphs", type=Path, help="torch.save'd molecular batch (.pt)")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--png", type=Path, help="write a bar chart here")
    parser.add_argument("--threads", type=int,
                        help="torch CPU threads (default: 1 with --quick on CPU, where OpenMP "
                             "threads on a busy shared machine make timings erratic; else "
                             "torch's default)")  # fmt: skip
    parser.add_argument(
        "--make-molgraphs",
        nargs=2,
        type=Path,
        metavar=("SMILES", "OUT_PT"),
        help="build the --molgraphs file from SMILES (needs RDKit) and exit",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.make_molgraphs:
        make_molgraphs(*args.make_molgraphs)
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device here; use --device cpu")
    threads = args.threads or (1 if args.quick and args.device == "cpu" else None)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    bench = Bench(args)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor()
    backend = "triton" if args.device == "cuda" and WITH_TRITON else "torch"
    title = (f"message passing on {device_name or args.device} ({torch.get_num_threads()} threads), "
             f"kernels backend={backend}, copy {bench.copy_gbps:.1f} GB/s")  # fmt: skip
    print(title, file=sys.stderr)
    feature_sizes = [64] if args.quick else [64, 128, 256]
    started = time.perf_counter()
    for graph in build_graphs(args):
        bench.run_graph(graph, feature_sizes, list(DTYPES))
        if args.json:  # after every graph, so a run cut short still leaves its rows
            payload = {
                "title": title, "device": args.device, "device_name": device_name,
                "backend": backend, "quick": args.quick, "copy_gbps": bench.copy_gbps,
                "torch": torch.__version__, "threads": torch.get_num_threads(),
                "rows": [asdict(r) for r in bench.rows],
            }  # fmt: skip
            args.json.write_text(json.dumps(payload, indent=1))
    print_table(bench.rows, title)
    print(f"total {time.perf_counter() - started:.1f} s")
    if args.png:
        write_png(bench.rows, args.png, title)


if __name__ == "__main__":
    main()
