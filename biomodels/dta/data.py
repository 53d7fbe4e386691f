"""Drug-target affinity data: a DeepDTA-format directory or a pair table -> :class:`AffinityData`.

A DeepDTA directory (as DeepDTA and GraphDTA ship Davis and KIBA) holds::

    ligands_can.txt     JSON object: compound id -> SMILES (its order is the matrix's rows)
    proteins.txt        JSON object: protein name -> sequence (the matrix's columns)
    <matrix>.txt        the one other .txt file (``ligands_iso.txt`` and similarity matrices,
                        ``*sim*.txt``, are ignored): ligands x proteins affinities, whitespace-
                        or tab-separated, ``nan`` where not measured
    folds/train_fold_setting1.txt, folds/test_fold_setting1.txt
                        JSON lists of flat indices into the measured entries, in row-major
                        order (DeepDTA's ``np.where(~np.isnan(Y))``): setting 1

A matrix of dissociation constants in nM (Davis: any value above 20) becomes
``pKd = -log10(Kd / 1e9)``; a matrix already in log units (KIBA scores, at most about 17) is
kept. A pair table (CSV, TSV or Parquet, ``.gz`` allowed for text) has a SMILES column, a
target sequence column (``target_sequence``, ``sequence``, ``protein_sequence`` or
``protein``), optionally a target id column (``target_id``, ``target``, ``protein_id``,
``target_name``), and an affinity column (``affinity``, ``pkd``, ``pki``, ``pic50``, ``kiba``,
``label`` or ``y``), used as given.

Pairs whose compound does not parse, whose sequence is not a protein or whose affinity is not
a number are left out of training and listed, each with its row and reason, in
:attr:`AffinityData.skipped` (a run records them in ``metrics.json``).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem

from biomodels.data.splits import Pairs
from biomodels.exceptions import InputError
from biomodels.io.molecules import MoleculeParser, RawRecord, iter_raw_chunks
from biomodels.io.sequences import detect_alphabet

logger = logging.getLogger(__name__)

__all__ = [
    "AffinityData",
    "load_affinity_data",
    "read_deepdta",
    "read_pair_table",
    "sequence_error",
    "to_pkd",
]

LIGANDS_FILE = "ligands_can.txt"
PROTEINS_FILE = "proteins.txt"
TRAIN_FOLDS = "folds/train_fold_setting1.txt"
TEST_FOLD = "folds/test_fold_setting1.txt"
NANOMOLAR_ABOVE = 20.0
"""A matrix with a value above this is taken as Kd (or Ki) in nM and converted to pKd."""
SEQUENCE_COLUMNS = ("target_sequence", "sequence", "protein_sequence", "protein")
TARGET_ID_COLUMNS = ("target_id", "target", "protein_id", "target_name")
AFFINITY_COLUMNS = ("affinity", "pkd", "pki", "pic50", "kiba", "label", "y")


@dataclass
class AffinityData:
    """Compounds, proteins and the measured (compound, protein, affinity) pairs between them.

    Attributes:
        ligand_ids, smiles, mols: the ``D`` usable compounds (ids, SMILES, RDKit molecules).
        target_ids, sequences: the ``P`` usable proteins.
        ligand, target: ``n`` int64, each pair's compound and protein (indices into the above).
        affinity: ``n`` float32 affinities (pKd for a converted Kd matrix).
        rows: ``n`` int64, each pair's place in the source: its flat index among the measured
            matrix entries, or its table row.
        path: the directory or table read. units: ``pKd`` or ``as given``.
        folds, test_fold: setting-1 folds as indices into the pairs, when the data has them.
        folds_missing: the fold file that is missing, when there are none.
        skipped: ``{"row", "reason"}`` of every source pair left out.
    """

    ligand_ids: list[str]
    smiles: list[str]
    mols: list[Chem.Mol]
    target_ids: list[str]
    sequences: list[str]
    ligand: np.ndarray
    target: np.ndarray
    affinity: np.ndarray
    rows: np.ndarray
    path: str
    units: str = "as given"
    folds: tuple[np.ndarray, ...] | None = None
    test_fold: np.ndarray | None = None
    folds_missing: str | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.affinity)

    def pairs(self) -> Pairs:
        """The pairs as a splitter takes them (:class:`~biomodels.data.splits.Pairs`)."""
        return Pairs(self.ligand, self.target, self.folds, self.test_fold)

    def subset(self, indices: np.ndarray) -> AffinityData:
        """The pairs at ``indices`` over the same compounds and proteins (folds dropped)."""
        idx = np.asarray(indices, dtype=np.int64)
        return replace(
            self,
            ligand=self.ligand[idx],
            target=self.target[idx],
            affinity=self.affinity[idx],
            rows=self.rows[idx],
            folds=None,
            test_fold=None,
            skipped=[],
        )

    def summary(self) -> dict[str, Any]:
        """Counts for a run record: pairs, compounds, proteins, units, skipped pairs."""
        return {
            "pairs": len(self),
            "ligands": len(self.ligand_ids),
            "targets": len(self.target_ids),
            "units": self.units,
            "skipped": self.skipped,
        }


def to_pkd(kd_nm: np.ndarray) -> np.ndarray:
    """``-log10(Kd / 1e9)``: nM dissociation constants to pKd (10000 nM -> 5, 1 nM -> 9)."""
    return -np.log10(np.asarray(kd_nm, dtype=np.float64) / 1e9)


def load_affinity_data(path: str | Path, **columns: str | None) -> AffinityData:
    """Read a DeepDTA directory (:func:`read_deepdta`) or a pair table (:func:`read_pair_table`)."""
    path = Path(path)
    if path.is_dir():
        return read_deepdta(path)
    if not path.exists():
        raise InputError(path, "not found; give a DeepDTA directory or a pair table")
    return read_pair_table(path, **columns)


def read_deepdta(directory: str | Path) -> AffinityData:
    """Read a data set in DeepDTA's layout (see the module docstring).

    Raises:
        InputError: a missing or unreadable file, a JSON list that is not id -> text, a matrix
            that is not numeric or whose shape disagrees with the ligand and protein lists, or
            fold indices out of range; one line naming the file and the reason.
    """
    directory = Path(directory)
    ligands = _read_json_map(directory / LIGANDS_FILE, "compound id -> SMILES")
    proteins = _read_json_map(directory / PROTEINS_FILE, "protein name -> sequence")
    matrix_path = _matrix_file(directory)
    matrix = _read_matrix(matrix_path)
    if matrix.shape != (len(ligands), len(proteins)):
        raise InputError(
            matrix_path,
            f"the matrix is {matrix.shape[0]} x {matrix.shape[1]} but {LIGANDS_FILE} lists "
            f"{len(ligands)} compounds and {PROTEINS_FILE} {len(proteins)} proteins "
            "(rows must be compounds, columns proteins)",
        )
    units = "as given"
    finite = matrix[np.isfinite(matrix)]
    if finite.size and finite.max() > NANOMOLAR_ABOVE:
        if (finite <= 0).any():
            raise InputError(
                matrix_path, "holds Kd values in nM (above 20) and values <= 0; cannot take logs"
            )
        matrix, units = to_pkd(matrix), "pKd"
    ligand, target = np.nonzero(np.isfinite(matrix))  # row-major, as DeepDTA's np.where
    affinity = matrix[ligand, target]
    raws = [RawRecord(i, key, smiles) for i, (key, smiles) in enumerate(ligands.items())]
    records = MoleculeParser().parse_chunk(raws)
    ligand_errors = {r.row: r.error for r in records if not r.ok}
    target_errors = {j: sequence_error(s) for j, s in enumerate(proteins.values())}
    target_errors = {j: e for j, e in target_errors.items() if e is not None}
    reasons = [
        _pair_reason(list(ligands)[i], ligand_errors.get(i), list(proteins)[j], target_errors.get(j))
        for i, j in zip(ligand, target, strict=True)
    ]
    data = _assemble(
        directory,
        units,
        [(key, r.smiles, r.mol) for key, r in zip(ligands, records, strict=True)],
        list(proteins.items()),
        ligand,
        target,
        affinity,
        np.arange(len(affinity)),
        reasons,
    )
    _attach_folds(data, directory, len(affinity))
    return data


def read_pair_table(
    path: str | Path,
    smiles_col: str | None = None,
    sequence_col: str | None = None,
    target_col: str | None = None,
    affinity_col: str | None = None,
) -> AffinityData:
    """Read a table of (SMILES, protein sequence, affinity) rows (see the module docstring).

    Raises:
        InputError: a missing or unreadable file, or a column that is not found (listing them).
    """
    path = Path(path)
    raws = [r for chunk in iter_raw_chunks(path, smiles_col) for r in chunk]
    if not raws:
        raise InputError(path, "no rows")
    columns = list(raws[0].props)
    seq_name = _column(path, columns, sequence_col, SEQUENCE_COLUMNS, "target sequence")
    aff_name = _column(path, columns, affinity_col, AFFINITY_COLUMNS, "affinity")
    tid_name = _column(path, columns, target_col, TARGET_ID_COLUMNS, None)
    texts = list(dict.fromkeys(r.text.strip() if r.text else "" for r in raws))
    uniques = [RawRecord(i, None, text) for i, text in enumerate(texts)]
    parsed = dict(zip(texts, MoleculeParser().parse_chunk(uniques), strict=True))
    ligand_pos: dict[str, int] = {}
    ligand_names: list[str] = []
    target_pos: dict[str, int] = {}
    proteins: list[tuple[str, str]] = []
    ligand, target, affinity, reasons = [], [], [], []
    for r in raws:
        smiles = r.text.strip() if r.text else ""
        sequence = str(r.props.get(seq_name) or "").strip().upper()
        name = str(r.props.get(tid_name) or "").strip() if tid_name else ""
        key = name or sequence
        if smiles not in ligand_pos:
            ligand_pos[smiles] = len(ligand_names)
            ligand_names.append(r.id or f"ligand_{len(ligand_names)}")
        if key not in target_pos:
            target_pos[key] = len(proteins)
            proteins.append((name or f"target_{len(proteins)}", sequence))
        ligand.append(ligand_pos[smiles])
        target.append(target_pos[key])
        value = _number(r.props.get(aff_name))
        affinity.append(value)
        reason = _pair_reason(smiles, parsed[smiles].error, key, sequence_error(proteins[target_pos[key]][1]))
        if reason is None and not math.isfinite(value):
            reason = f"affinity {r.props.get(aff_name)!r} is not a number"
        reasons.append(reason)
    compounds = [(ligand_names[i], s, parsed[s].mol) for s, i in ligand_pos.items()]
    return _assemble(
        path,
        "as given",
        compounds,
        proteins,
        np.asarray(ligand),
        np.asarray(target),
        np.asarray(affinity),
        np.asarray([r.row for r in raws]),
        reasons,
    )


def _assemble(
    path: Path,
    units: str,
    compounds: list[tuple[str, str | None, Chem.Mol | None]],
    proteins: list[tuple[str, str]],
    ligand: np.ndarray,
    target: np.ndarray,
    affinity: np.ndarray,
    rows: np.ndarray,
    reasons: list[str | None],
) -> AffinityData:
    """Keep the usable pairs, renumber their compounds and proteins, list the others."""
    keep = np.array([r is None for r in reasons], dtype=bool)
    skipped = [{"row": int(rows[i]), "reason": reasons[i]} for i in np.flatnonzero(~keep)]
    if skipped:
        logger.warning("%s: %d pairs left out, e.g. row %d: %s", path, len(skipped), *skipped[0].values())
    used_ligands, new_ligand = np.unique(ligand[keep], return_inverse=True)
    used_targets, new_target = np.unique(target[keep], return_inverse=True)
    if not keep.any():
        raise InputError(path, f"no usable pairs ({len(reasons)} read; first: {skipped[0]['reason']})")
    return AffinityData(
        ligand_ids=[compounds[i][0] for i in used_ligands],
        smiles=[compounds[i][1] for i in used_ligands],
        mols=[compounds[i][2] for i in used_ligands],
        target_ids=[proteins[j][0] for j in used_targets],
        sequences=[proteins[j][1] for j in used_targets],
        ligand=new_ligand.astype(np.int64),
        target=new_target.astype(np.int64),
        affinity=np.asarray(affinity[keep], dtype=np.float32),
        rows=np.asarray(rows[keep], dtype=np.int64),
        path=str(path),
        units=units,
        skipped=skipped,
    )


def _attach_folds(data: AffinityData, directory: Path, n_measured: int) -> None:
    """Read the setting-1 folds (flat indices into the measured entries) as pair indices."""
    train_path, test_path = directory / TRAIN_FOLDS, directory / TEST_FOLD
    missing = next((p for p in (train_path, test_path) if not p.is_file()), None)
    if missing is not None:
        data.folds_missing = str(missing)
        return
    position = np.full(n_measured, -1, dtype=np.int64)
    position[data.rows] = np.arange(len(data))
    train = _read_json(train_path)
    if not (isinstance(train, list) and all(isinstance(f, list) for f in train)):
        raise InputError(train_path, "must be a JSON list of folds, each a list of indices")
    test = _read_json(test_path)
    if not isinstance(test, list):
        raise InputError(test_path, "must be a JSON list of indices")
    folds = [_fold(train_path, f, position) for f in train]
    data.folds, data.test_fold = tuple(folds), _fold(test_path, test, position)


def _fold(path: Path, values: list[Any], position: np.ndarray) -> np.ndarray:
    try:
        flat = np.asarray(values, dtype=np.int64)
    except (TypeError, ValueError):
        raise InputError(path, "holds an index that is not an integer") from None
    bad = flat[(flat < 0) | (flat >= len(position))]
    if bad.size:
        raise InputError(
            path, f"index {bad[0]} is out of range: the matrix has {len(position)} measured entries"
        )
    pairs = position[flat]
    return pairs[pairs >= 0]  # the pairs left out (bad SMILES) are listed in skipped


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"unreadable JSON ({' '.join(str(exc).split())})") from None


def _read_json_map(path: Path, what: str) -> dict[str, str]:
    value = _read_json(path)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InputError(path, f"must be a JSON object {what}")
    if not value:
        raise InputError(path, f"is empty: no {what.split(' -> ')[0]}s")
    return value


def _matrix_file(directory: Path) -> Path:
    """The affinity matrix: the one ``.txt`` that is not a ligand or protein list
    (``ligands_*.txt``, ``proteins.txt``) or a similarity matrix (a name holding ``sim``), the
    files DeepDTA's own Davis and KIBA directories hold besides it."""
    found = sorted(
        p
        for p in directory.glob("*.txt")
        if not p.name.startswith("ligands_") and p.name != PROTEINS_FILE and "sim" not in p.name.lower()
    )
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "none"
        raise InputError(
            directory,
            f"needs exactly one affinity matrix .txt besides {LIGANDS_FILE} and {PROTEINS_FILE}; "
            f"found {listed}",
        )
    return found[0]


def _read_matrix(path: Path) -> np.ndarray:
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"unreadable ({' '.join(str(exc).split())})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append([float(token) for token in line.split()])
        except ValueError as exc:
            raise InputError(path, f"line {number}: {exc}") from None
        if len(rows[-1]) != len(rows[0]):
            raise InputError(path, f"line {number} has {len(rows[-1])} values, the first line {len(rows[0])}")
    if not rows:
        raise InputError(path, "empty affinity matrix")
    return np.asarray(rows, dtype=np.float64)


def _column(
    path: Path, columns: list[str], wanted: str | None, candidates: tuple[str, ...], what: str | None
) -> str | None:
    by_lower = {c.lower().strip(): c for c in columns}
    for name in [wanted] if wanted else candidates:
        if name.lower() in by_lower:
            return by_lower[name.lower()]
    if what is None:
        return None
    looked = wanted or ", ".join(candidates)
    raise InputError(
        path, f"no {what} column (looked for {looked}, any case); columns are: {', '.join(columns)}"
    )


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def sequence_error(sequence: str) -> str | None:
    """Why ``sequence`` cannot be a protein (empty, letters of no alphabet), or None."""
    if not sequence:
        return "empty sequence"
    try:
        detect_alphabet(sequence)
    except ValueError as exc:
        return f"sequence {exc}"
    return None


def _pair_reason(ligand: str, ligand_error: str | None, target: str, target_error: str | None) -> str | None:
    if ligand_error is not None:
        return f"compound {ligand!r}: {ligand_error}"
    if target_error is not None:
        return f"target {target!r}: {target_error}"
    return None
