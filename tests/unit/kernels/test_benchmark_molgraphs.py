"""The message-passing benchmark's real-molecule graphs: built with biomodels, loaded without RDKit."""

import importlib.util
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "message_passing.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("message_passing_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_molgraphs_round_trip(tmp_path):
    bench = load_benchmark()
    smiles = tmp_path / "mols.csv"
    smiles.write_text("smiles\nCCO\nnot a smiles\nc1ccccc1\n")
    out = tmp_path / "graphs.pt"
    bench.make_molgraphs(smiles, out)
    graph = bench.load_molgraphs(out, None)
    assert graph.num_nodes == 3 + 6 and graph.num_graphs == 2
    assert graph.num_edges == 2 * (2 + 6)
    src, dst = graph.edge_index
    assert torch.equal(src[graph.rev], dst) and torch.equal(dst[graph.rev], src)
    assert torch.equal(graph.batch, torch.tensor([0] * 3 + [1] * 6))
    assert (graph.batch[src] == graph.batch[dst]).all()  # no edge crosses molecules
    first = bench.load_molgraphs(out, 1)
    assert first.num_nodes == 3 and first.num_edges == 4
