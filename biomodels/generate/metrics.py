"""The MOSES distribution-learning metrics of generated molecules.

Definitions follow MOSES (Polykovskiy et al. 2020, *Front. Pharmacol.* 11:565644), file
``moses/metrics/metrics.py`` (``get_all_metrics``) and ``moses/metrics/utils.py`` of
github.com/molecularsets/moses:

- ``valid``: the fraction of generated strings RDKit parses (``fraction_valid``); every metric
  below is computed on the valid molecules, canonicalised (``remove_invalid(canonize=True)``);
- ``unique@k``: distinct canonical SMILES among the first ``k`` valid ones, over their count
  (``fraction_unique``; all of them when fewer than ``k``);
- ``Novelty``: distinct generated molecules not in the training set, over the distinct
  generated molecules (``novelty``); the training SMILES are canonicalised here, so a training
  file written by another RDKit version compares alike;
- ``IntDiv``, ``IntDiv2``: ``1 - mean_j (mean_i T_ij^p)^(1/p)`` over every pair (the diagonal
  included) of the generated set, ``p = 1, 2`` (``internal_diversity``);
- ``SNN/Test``: the mean over generated molecules of the largest Tanimoto similarity to the test
  set (``SNNMetric``); Tanimoto on Morgan fingerprints, radius 2, 1,024 bits, computed on packed
  bits with :func:`biomodels.chem.similarity.tanimoto_blocks` (one exception to MOSES: two
  empty fingerprints have similarity 0 here, 1 in MOSES; no molecule with atoms has one);
- ``Frag/Test``: the cosine similarity of the BRICS fragment counts (``FragMetric``,
  ``compute_fragments``); ``Scaf/Test``: of the Bemis-Murcko scaffold counts, scaffolds with at
  least 2 rings (``ScafMetric``, ``compute_scaffold(min_rings=2)``);
- ``Filters``: the fraction passing MOSES's filters (``mol_passes_filters``): no ring of 8 or
  more atoms, no charged atom, only the atoms C N S O F Cl Br H, none of the MCF alerts
  (:data:`MCF_SMARTS`, MOSES's ``mcf.csv``) or PAINS alerts (RDKit's PAINS A/B/C catalog: the
  480 WEHI patterns MOSES's ``wehi_pains.csv`` holds), matched with explicit hydrogens;
- ``FCD/Test``: the Fréchet ChemNet Distance (Preuer et al. 2018) with the ``fcd`` package,
  whose wheel carries the ChemNet weights (nothing is downloaded);
- ``logP``, ``SA``, ``QED``, ``weight``: the Wasserstein-1 distance between the generated and
  the test molecules' property distributions (``WassersteinMetric``; Crippen logP, the SA score,
  QED and the average molecular weight of :mod:`biomodels.chem.properties`).

With ``test_scaffolds``, ``FCD``, ``SNN``, ``Frag`` and ``Scaf`` are also given against it
(``/TestSF``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase
from rdkit.Chem import BRICS
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams
from rdkit.Chem.Scaffolds import MurckoScaffold

from biomodels.cache import default_cache_dir, load_cache_entry, save_npz
from biomodels.chem.properties import clogp, molecular_weight, qed, sa_score
from biomodels.chem.similarity import packed_fingerprints, popcounts, tanimoto_blocks
from biomodels.exceptions import InputError
from biomodels.io.molecules import MoleculeParser, iter_raw_chunks
from biomodels.utils import write_json

logger = logging.getLogger(__name__)

__all__ = [
    "MCF_SMARTS",
    "MOSES_FP_BITS",
    "ReferenceSet",
    "cached_chemnet_statistics",
    "canonical_smiles",
    "cosine_similarity",
    "evaluate",
    "fcd",
    "moses_fingerprints",
    "fraction_passes_filters",
    "fraction_unique",
    "fragment_counts",
    "internal_diversity",
    "novelty",
    "passes_filters",
    "scaffold_counts",
    "snn",
    "wasserstein",
]

MOSES_FP_BITS = 1024
"""Morgan fingerprint size of MOSES's SNN and IntDiv (radius 2)."""
MCF_SMARTS = (
    "[#6]=&!@[#6]-[#6]#[#7]",
    "[#6]=&!@[#6]-[#16](=[#8])=[#8]",
    "[#6]=&!@[#6&!H0]-&!@[#6](=[#8])-&!@[#7]",
    "[H]C([H])([#6])[F,Cl,Br,I]",
    "[#6]1-[#8]-[#6]-1",
    "[#6]-[#7]=[#6]=[#8]",
    "[#6&!H0]=[#8]",
    "[#6](=&!@[#7&!H0])-&!@[#6,#7,#8,#16]",
    "[#6]1-[#7]-[#6]-1",
    "[#6]~&!@[#7]~&!@[#7]~&!@[#6]",
    "[#7]=&!@[#7]",
    "[H][#6]-1=[#6]([H])-[#6]=[#6](-*)-[#8]-1",
    "[H][#6]-1=[#6]([H])-[#6]=[#6](-*)-[#16]-1",
    "[#17,#35,#53]-c(:*):[!#1!#6]:*",
    "[H][#7]([H])-[#6]-1=[#6]-[#6]=[#6]-[#6]=[#6]-1",
    "[#16]~[#16]",
    "[#7]~&!@[#7]~&!@[#7]",
    "[#7]-&!@[#6&!H0&!H1]-&!@[#7]",
    "[#6&!H0](-&!@[#8])-&!@[#8]",
    "[#35].[#35].[#35]",
    "[#17].[#17].[#17].[#17]",
    "[#9].[#9].[#9].[#9].[#9].[#9].[#9]",
)
"""MOSES's medicinal chemistry filters MCF1-MCF22 (``moses/metrics/mcf.csv``, MIT licence)."""
_ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
PROPERTIES: dict[str, Callable[[Chem.Mol], float]] = {
    "logP": clogp,
    "SA": sa_score,
    "QED": qed,
    "weight": molecular_weight,
}
"""The properties whose distributions MOSES compares (its ``logP``, ``SA``, ``QED``, ``weight``)."""


# ------------------------------------------------------------------------- molecules
def canonical_smiles(smiles: Iterable[str]) -> list[str | None]:
    """RDKit canonical SMILES of each string (None when it does not parse)."""
    records = MoleculeParser().parse_chunk(_raws(smiles))
    return [None if r.mol is None else Chem.MolToSmiles(r.mol) for r in records]


def _canonical_set(smiles: Sequence[str], chunk: int = 10_000) -> set[str]:
    """The canonical SMILES of ``smiles`` that parse, a chunk of molecules at a time: parsing all
    of MOSES train (1.58M) at once held every RDKit molecule together (24 GB, killed)."""
    known: set[str] = set()
    for start in range(0, len(smiles), chunk):
        known.update(s for s in canonical_smiles(smiles[start : start + chunk]) if s is not None)
    return known


def _raws(smiles: Iterable[str]):
    from biomodels.io.molecules import RawRecord

    return [RawRecord(i, None, s) for i, s in enumerate(smiles)]


def _mols(smiles: Sequence[str]) -> list[Chem.Mol]:
    with rdBase.BlockLogs():
        return [Chem.MolFromSmiles(s) for s in smiles]


# --------------------------------------------------------------------------- metrics
def fraction_unique(smiles: Sequence[str], k: int | None = None) -> float:
    """Distinct canonical SMILES among the first ``k`` (all when None or fewer), over their count."""
    if k is not None and len(smiles) < k:
        logger.warning("unique@%d asked of %d molecules: computed on all of them", k, len(smiles))
    head = list(smiles[:k])
    return len(set(head)) / len(head) if head else float("nan")


def novelty(smiles: Sequence[str], train: set[str]) -> float:
    """Distinct molecules of ``smiles`` not in ``train``, over the distinct molecules."""
    distinct = set(smiles)
    return len(distinct - train) / len(distinct) if distinct else float("nan")


def moses_fingerprints(mols: Sequence[Chem.Mol]) -> np.ndarray:
    return packed_fingerprints(mols, radius=2, size=MOSES_FP_BITS)


def internal_diversity(fingerprints: np.ndarray, p: int = 1) -> float:
    """``1 - mean_j (mean_i T_ij^p)^(1/p)`` over all pairs of the packed fingerprints (``n x W``)."""
    if not len(fingerprints):
        return float("nan")
    counts = popcounts(fingerprints)
    per_molecule = np.zeros(len(fingerprints))
    for start, tanimoto in tanimoto_blocks(fingerprints, fingerprints, counts):
        per_molecule[start : start + len(tanimoto)] = (tanimoto**p).mean(axis=1)
    return float(1 - (per_molecule ** (1 / p)).mean())


def snn(fingerprints: np.ndarray, reference: np.ndarray) -> float:
    """Mean over ``fingerprints`` of the largest Tanimoto similarity to ``reference``."""
    if not len(fingerprints) or not len(reference):
        return float("nan")
    counts = popcounts(reference)
    best = np.zeros(len(fingerprints))
    for start, tanimoto in tanimoto_blocks(fingerprints, reference, counts):
        best[start : start + len(tanimoto)] = tanimoto.max(axis=1)
    return float(best.mean())


def fragment_counts(mols: Iterable[Chem.Mol]) -> Counter[str]:
    """BRICS fragments (SMILES, dummy atoms included) of the molecules, counted over all."""
    counts: Counter[str] = Counter()
    for mol in mols:
        counts.update(Chem.MolToSmiles(BRICS.BreakBRICSBonds(mol)).split("."))
    return counts


def _scaffold(mol: Chem.Mol, min_rings: int = 2) -> str | None:
    try:
        scaffold = MurckoScaffold.GetScaffoldForMol(mol)
    except (ValueError, RuntimeError):
        return None
    text = Chem.MolToSmiles(scaffold)
    return text if text and scaffold.GetRingInfo().NumRings() >= min_rings else None


def scaffold_counts(mols: Iterable[Chem.Mol], min_rings: int = 2) -> Counter[str]:
    """Bemis-Murcko scaffolds with at least ``min_rings`` rings, counted."""
    counts = Counter(_scaffold(mol, min_rings) for mol in mols)
    counts.pop(None, None)
    return counts


def cosine_similarity(reference: Counter[str], generated: Counter[str]) -> float:
    """Cosine similarity of two count vectors over the union of their keys (NaN if one is empty)."""
    if not reference or not generated:
        return float("nan")
    keys = sorted(set(reference) | set(generated))
    a = np.array([reference.get(k, 0) for k in keys], np.float64)
    b = np.array([generated.get(k, 0) for k in keys], np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@functools.cache
def _alerts() -> tuple[FilterCatalog, list[Chem.Mol]]:
    params = FilterCatalogParams()
    params.AddCatalog(FilterCatalogParams.FilterCatalogs.PAINS)
    return FilterCatalog(params), [Chem.MolFromSmarts(s) for s in MCF_SMARTS]


def passes_filters(mol: Chem.Mol) -> bool:
    """MOSES's ``mol_passes_filters`` (see the module docstring)."""
    rings = mol.GetRingInfo()
    if any(len(ring) >= 8 for ring in rings.AtomRings()):
        return False
    if any(atom.GetFormalCharge() != 0 for atom in mol.GetAtoms()):
        return False
    if any(atom.GetSymbol() not in _ALLOWED_ATOMS for atom in mol.GetAtoms()):
        return False
    pains, mcf = _alerts()
    with_h = Chem.AddHs(mol)
    if any(with_h.HasSubstructMatch(pattern) for pattern in mcf) or pains.HasMatch(with_h):
        return False
    text = Chem.MolToSmiles(mol, isomericSmiles=False)
    return bool(text) and Chem.MolFromSmiles(text) is not None


def fraction_passes_filters(mols: Sequence[Chem.Mol]) -> float:
    return float(np.mean([passes_filters(m) for m in mols])) if mols else float("nan")


def wasserstein(a: Sequence[float], b: Sequence[float]) -> float:
    """Wasserstein-1 distance of two samples of a property (``scipy.stats``)."""
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(a, b))


@functools.cache
def _chemnet() -> Any:
    import fcd as fcd_package

    return fcd_package.load_ref_model()  # the weights ship in the wheel: nothing is downloaded


def chemnet_statistics(smiles: Sequence[str], batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Mean (``512``) and covariance (``512 x 512``) of the ChemNet activations of ``smiles``."""
    import fcd as fcd_package

    activations = fcd_package.get_predictions(
        _chemnet(), list(smiles), batch_size=batch_size, n_jobs=0, device="cpu"
    )
    return activations.mean(axis=0), np.cov(activations.T)


def cached_chemnet_statistics(
    smiles: Sequence[str], cache_dir: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`chemnet_statistics` of a reference set through the on-disk cache
    (:func:`biomodels.cache.default_cache_dir` when ``cache_dir`` is None), keyed by the
    SMILES themselves and the ``fcd`` version: ChemNet is most of an evaluation's time (about
    120 molecules/s on one CPU thread), and the same test set is scored again and again (MOSES
    ships its test statistics for this reason)."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"fcd {version('fcd')}\n".encode())
    for text in smiles:
        digest.update(text.encode() + b"\n")
    entry = Path(cache_dir or default_cache_dir()) / "chemnet" / f"{digest.hexdigest()[:32]}.npz"
    cached = load_cache_entry(entry, _read_statistics)
    if cached is not None:
        logger.info("ChemNet statistics of %d reference molecules read from %s", len(smiles), entry)
        return cached
    statistics = chemnet_statistics(smiles)
    save_npz(entry, {"mean": statistics[0], "covariance": statistics[1]})
    return statistics


def _read_statistics(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return data["mean"], data["covariance"]


def fcd(generated: tuple[np.ndarray, np.ndarray], reference: tuple[np.ndarray, np.ndarray]) -> float:
    """Fréchet distance of two sets' ChemNet statistics (:func:`chemnet_statistics`)."""
    from fcd.utils import calculate_frechet_distance

    return float(calculate_frechet_distance(generated[0], generated[1], reference[0], reference[1]))


# -------------------------------------------------------------------------- reference
class ReferenceSet:
    """What the metrics need of a reference set (MOSES test or scaffold test), computed once.

    Args:
        smiles: the reference molecules (canonicalised here; unparsable ones are dropped with a
            count in the log).
        properties: also compute the property values (for the Wasserstein distances).
    """

    def __init__(self, smiles: Sequence[str], properties: bool = True):
        canonical = canonical_smiles(smiles)
        self.smiles = [s for s in canonical if s is not None]
        if len(self.smiles) < len(canonical):
            logger.warning(
                "%d reference SMILES do not parse and are left out", len(canonical) - len(self.smiles)
            )
        if not self.smiles:
            raise InputError(None, "the reference set has no valid molecule")
        mols = _mols(self.smiles)
        self.fingerprints = moses_fingerprints(mols)
        self.fragments = fragment_counts(mols)
        self.scaffolds = scaffold_counts(mols)
        self.chemnet = cached_chemnet_statistics(self.smiles)
        self.properties = {k: [f(m) for m in mols] for k, f in PROPERTIES.items()} if properties else {}


def _compare(tag: str, gen: dict[str, Any], ref: ReferenceSet) -> dict[str, float]:
    scores = {
        f"FCD/{tag}": fcd(gen["chemnet"], ref.chemnet),
        f"SNN/{tag}": snn(gen["fingerprints"], ref.fingerprints),
        f"Frag/{tag}": cosine_similarity(ref.fragments, gen["fragments"]),
        f"Scaf/{tag}": cosine_similarity(ref.scaffolds, gen["scaffolds"]),
    }
    for name, values in ref.properties.items():
        scores[name] = wasserstein(gen["properties"][name], values)
    return scores


# --------------------------------------------------------------------------- evaluate
def read_smiles(path: str | Path, max_rows: int | None = None) -> list[str]:
    """The SMILES column of a molecule file (``.csv(.gz)``, ``.smi``...), its first ``max_rows``."""
    out: list[str] = []
    for chunk in iter_raw_chunks(path, chunk_size=50_000):
        out.extend((r.text or "").strip() for r in chunk)
        if max_rows is not None and len(out) >= max_rows:
            return out[:max_rows]
    return out


def _generated(samples: str | Path | pd.DataFrame | Sequence[str]) -> tuple[list[str], int, str | None]:
    """The generated strings of ``samples``: (strings, count, file)."""
    path = str(samples) if isinstance(samples, (str, Path)) else None
    if path is not None:
        if not Path(path).is_file():
            raise InputError(path, "no such file")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise InputError(path, "empty file: no samples") from None
    elif isinstance(samples, pd.DataFrame):
        frame = samples.astype(str)
    else:
        frame = pd.DataFrame({"smiles": [str(s) for s in samples]})
    column = "raw" if "raw" in frame.columns and "smiles" not in frame.columns else "smiles"
    if column not in frame.columns:
        raise InputError(path, f"no 'smiles' column; columns are: {', '.join(frame.columns)}")
    if not len(frame):
        raise InputError(path, "no samples (the file has a header only)")
    return list(frame[column].fillna("")), len(frame), path


def evaluate(
    samples: str | Path | pd.DataFrame | Sequence[str],
    train: str | Path | Sequence[str] | None = None,
    test: str | Path | Sequence[str] | None = None,
    test_scaffolds: str | Path | Sequence[str] | None = None,
    json: str | Path | None = None,
    k: Sequence[int] = (1_000, 10_000),
    max_reference: int | None = None,
) -> dict[str, Any]:
    """The MOSES metrics of generated molecules (see the module docstring).

    Args:
        samples: ``biomodels generate sample``'s CSV (its ``smiles`` column: empty for an
            invalid row), a DataFrame like it, or a list of SMILES.
        train: the training molecules (for ``Novelty``). test, test_scaffolds: reference sets
            (files or lists; ``FCD``, ``SNN``, ``Frag``, ``Scaf``, properties).
        json: also write the metrics to this file (atomically).
        k: the ``unique@k`` sizes.
        max_reference: use only ``max_reference`` molecules of each reference set, a seeded
            random sample (in file order): MOSES's files are ordered, and their first 50,000
            test rows gave a random 30,000 of train an FCD of 1.24 against 0.07 for a random
            50,000.

    Returns:
        ``{metric: value}`` in MOSES's names, plus ``samples``, ``valid_samples``.

    Raises:
        InputError: a missing or empty file, no ``smiles`` column, no valid sample.
    """
    strings, count, path = _generated(samples)
    canonical = canonical_smiles(strings)
    valid = [s for s in canonical if s is not None]
    metrics: dict[str, Any] = {"samples": count, "valid_samples": len(valid), "valid": len(valid) / count}
    if not valid:
        raise InputError(path, f"none of the {count} samples is a valid molecule")
    for size in k:
        metrics[f"unique@{size}"] = fraction_unique(valid, size)
    mols = _mols(valid)
    generated = {
        "fingerprints": moses_fingerprints(mols),
        "fragments": fragment_counts(mols),
        "scaffolds": scaffold_counts(mols),
        "chemnet": chemnet_statistics(valid) if test is not None or test_scaffolds is not None else None,
        "properties": {name: [f(m) for m in mols] for name, f in PROPERTIES.items()},
    }
    if test is not None:
        metrics.update(_compare("Test", generated, ReferenceSet(_sampled(_listed(test), max_reference))))
    if test_scaffolds is not None:
        reference = ReferenceSet(_sampled(_listed(test_scaffolds), max_reference), properties=False)
        metrics.update(_compare("TestSF", generated, reference))
    metrics["IntDiv"] = internal_diversity(generated["fingerprints"], p=1)
    metrics["IntDiv2"] = internal_diversity(generated["fingerprints"], p=2)
    metrics["Filters"] = fraction_passes_filters(mols)
    if train is not None:
        known = _canonical_set(_listed(train))
        metrics["Novelty"] = novelty(valid, known)
    if json is not None:
        write_json(json, metrics)
    return metrics


def _sampled(smiles: list[str], size: int | None, seed: int = 0) -> list[str]:
    """``size`` of ``smiles`` chosen at random (seeded), kept in their order; all when None."""
    if size is None or size >= len(smiles):
        return smiles
    keep = np.sort(np.random.default_rng(seed).choice(len(smiles), size=size, replace=False))
    return [smiles[i] for i in keep]


def _listed(source: str | Path | Sequence[str]) -> list[str]:
    return read_smiles(source) if isinstance(source, (str, Path)) else list(source)
