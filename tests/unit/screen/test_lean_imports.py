"""Screening workers stay lean: scoring a D-MPNN imports neither PyTorch Geometric (about 230 MB,
through torch._dynamo) nor scikit-learn or matplotlib (training and reports need them, not scoring)."""

import subprocess
import sys

SCRIPT = """
import sys
import biomodels.screen
from rdkit import Chem
from biomodels.data.dataset import MoleculeTable
from biomodels.screen.engine import ScreenJob
from biomodels.models.property import ModelConfig, PropertyModel
from biomodels.data.graphs import collate_graphs
from biomodels.featurize import featurize_graphs
model = PropertyModel(ModelConfig(encoder="dmpnn", hidden=16, depth=2)).eval()
graphs = featurize_graphs([Chem.MolFromSmiles("CCO"), Chem.MolFromSmiles("c1ccccc1O")])
out = model(collate_graphs(graphs, [0, 1]).to("cpu"))
assert out.shape[0] == 2, out.shape
print(sorted(m for m in ("torch_geometric", "sklearn", "matplotlib") if m in sys.modules))
"""


def test_dmpnn_scoring_imports_no_pyg_sklearn_or_matplotlib():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
