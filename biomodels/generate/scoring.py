"""What goal-directed optimisation maximises: scoring components, desirability transforms, and
their weighted geometric mean (REINVENT 4's scoring, with biomodels' own models as components).

An :class:`Objective` scores a batch of molecules (``n`` canonical SMILES) in three steps:

1. each component (:data:`COMPONENTS`) computes a raw value per molecule (``n``): a predicted
   activity, a nearest-neighbour Tanimoto, QED, a filter's pass/fail...;
2. its transform (:data:`TRANSFORMS`) maps the raw value to a desirability in [0, 1];
3. the score is the weighted geometric mean of the desirabilities,
   ``prod(d_i ** w_i) ** (1 / sum(w_i))``: one component at 0 vetoes the molecule, as in
   REINVENT's ``geometric_mean`` aggregation.

:meth:`Objective.score` returns one row per molecule: ``score``, then per component ``<name>``
(raw) and ``d_<name>`` (desirability), the activity's ``<name>_std``, and ``error`` (a component
that failed on the batch says so there; those molecules score 0, none is dropped).

Objectives come from :func:`default_objective` (``--activity RUN_DIR`` alone) or from a TOML
file (:func:`load_objective`, ``--objective objective.toml``)::

    [[component]]
    type = "activity"                  # a run directory of `biomodels train`
    run = "runs/demo/run"              # default: --activity
    weight = 2
    uncertainty = 0.5                  # rank by mean - 0.5 x ensemble std
    transform = { type = "sigmoid", low = 6.0, high = 8.0 }

    [[component]]
    type = "filter"
    filters = "pains,lipinski"         # any filter expression of `biomodels filter`

    [diversity_filter]                 # see biomodels.generate.diversity
    bucket_size = 25
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomllib
from rdkit import Chem, rdBase

from biomodels.chem.filters import PASSES_ALL, apply_filters, parse_filter_expression
from biomodels.chem.properties import PROPERTIES, compute_properties
from biomodels.chem.similarity import nearest_neighbours, packed_fingerprints
from biomodels.exceptions import CheckpointError, InputError
from biomodels.registry import Registry

logger = logging.getLogger(__name__)

__all__ = [
    "COMPONENTS",
    "TRANSFORMS",
    "Objective",
    "Term",
    "build_objective",
    "default_objective",
    "geometric_mean",
    "load_objective",
]

Transform = Callable[[np.ndarray], np.ndarray]
TRANSFORMS: Registry[Callable[..., np.ndarray]] = Registry("transform")
"""Desirability transforms: ``f(x: n floats, **params) -> n floats in [0, 1]`` (NaN -> 0)."""
COMPONENTS: Registry[type] = Registry("scoring component")
"""Scoring components: classes built from their TOML parameters (``type`` is the key)."""


# --- transforms ----------------------------------------------------------------------------------


def _finite(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(np.asarray(x, float)), 0.0, values)


@TRANSFORMS.register("identity")
def identity(x: np.ndarray) -> np.ndarray:
    """The value itself, clipped to [0, 1] (QED, a probability, a pass flag)."""
    return _finite(x, np.clip(np.nan_to_num(x), 0.0, 1.0))


@TRANSFORMS.register("sigmoid")
def sigmoid(x: np.ndarray, low: float, high: float, k: float = 0.5) -> np.ndarray:
    """REINVENT's sigmoid: ~0 at ``low``, 0.5 halfway, ~1 at ``high`` (``k = 0.5``: 0.003 and
    0.997 there; larger ``k`` is steeper). ``low > high`` makes it decreasing (SA: low 6, high 2).

    ``1 / (1 + 10 ** (10 k (x - (low + high) / 2) / (low - high)))``
    """
    if low == high:
        raise ValueError("sigmoid needs low != high")
    with np.errstate(over="ignore"):
        exponent = np.clip(10 * k * (np.asarray(x, float) - (low + high) / 2) / (low - high), -300, 300)
        return _finite(x, 1.0 / (1.0 + np.power(10.0, np.nan_to_num(exponent))))


@TRANSFORMS.register("double_sigmoid")
def double_sigmoid(x: np.ndarray, low: float, high: float, width: float, k: float = 0.5) -> np.ndarray:
    """~1 inside ``[low, high]``, falling to ~0 within ``width`` outside it on either side
    (a rising sigmoid from ``low - width`` to ``low`` times a falling one from ``high`` to
    ``high + width``): a molecular weight window, a logP range."""
    if not low < high or width <= 0:
        raise ValueError("double_sigmoid needs low < high and width > 0")
    return sigmoid(x, low - width, low, k) * sigmoid(x, high + width, high, k)


@TRANSFORMS.register("step")
def step(x: np.ndarray, low: float = -math.inf, high: float = math.inf) -> np.ndarray:
    """1 where ``low <= x <= high``, else 0: a hard gate."""
    x = np.asarray(x, float)
    return _finite(x, ((x >= low) & (x <= high)).astype(float))


def make_transform(spec: Mapping[str, Any], where: str = "transform") -> Transform:
    """The transform of a ``{type = ..., <params>}`` table, its parameters checked.

    Raises:
        InputError: unknown type, unknown or missing parameter, or values out of range, naming
            ``where`` (the TOML key).
    """
    params = dict(spec)
    name = params.pop("type", None)
    if name not in TRANSFORMS:
        choices = ", ".join(TRANSFORMS)
        raise InputError(None, f"{where}.type: {name!r} is not a transform; choose one of: {choices}")
    function = TRANSFORMS.get(name)
    _check_keys(function, params, f"{where} ({name})", skip=1)
    transform = functools.partial(function, **params)
    try:
        transform(np.zeros(1))
    except (ValueError, TypeError) as exc:
        raise InputError(None, f"{where} ({name}): {exc}") from None
    return transform


def _check_keys(function: Callable[..., Any], params: Mapping[str, Any], where: str, skip: int = 0) -> None:
    """Raise an :class:`InputError` naming an unknown or a missing parameter of ``function``."""
    signature = list(inspect.signature(function).parameters.values())[skip:]
    known = {p.name for p in signature}
    for key in params:
        if key not in known:
            valid = ", ".join(sorted(known))
            raise InputError(None, f"{where}: unknown key {key!r}; valid keys are: {valid}")
    for p in signature:
        if p.default is inspect.Parameter.empty and p.name not in params:
            raise InputError(None, f"{where}: missing key {p.name!r}")


# --- components ----------------------------------------------------------------------------------


class Component:
    """One scoring component: raw values of a batch (``__call__``) and its default transform.

    Subclasses are dataclasses whose fields are the TOML parameters; ``name`` labels the
    columns (the component's type by default; two components need two names).
    """

    name: str

    def __call__(self, smiles: Sequence[str], mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        """``{name: n raw values, ...}``; further keys are logged beside them."""
        raise NotImplementedError

    def default_transform(self) -> dict[str, Any]:
        return {"type": "identity"}


@COMPONENTS.register("property")
@dataclass
class PropertyComponent(Component):
    """A property of :data:`~biomodels.chem.properties.PROPERTIES` (``qed``, ``sa``, ``clogp``...)."""

    property: str = "qed"
    name: str = ""

    def __post_init__(self) -> None:
        PROPERTIES.get(self.property)  # an unknown name lists the valid ones
        self.name = self.name or self.property

    def __call__(self, smiles: Sequence[str], mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        return {self.name: compute_properties(mols, self.property)[self.property].to_numpy()}

    def default_transform(self) -> dict[str, Any]:
        # SA runs from 1 (easy) to 10 (hard): desirable below ~4; QED is already in [0, 1]
        if self.property == "sa":
            return {"type": "sigmoid", "low": 6.0, "high": 2.0}
        return super().default_transform()


@COMPONENTS.register("qed")
@dataclass
class QEDComponent(PropertyComponent):
    """QED (Bickerton et al. 2012), in [0, 1]."""

    property: str = "qed"


@COMPONENTS.register("sa")
@dataclass
class SAComponent(PropertyComponent):
    """Synthetic accessibility (Ertl and Schuffenhauer 2009; the MOSES metrics' SA)."""

    property: str = "sa"


@COMPONENTS.register("filter")
@dataclass
class FilterComponent(Component):
    """1 when a molecule passes every criterion of a filter expression (``pains``,
    ``lipinski``, ``qed>=0.5``..., see :func:`~biomodels.chem.filters.parse_filter_expression`),
    and of a SMARTS alert file (``smarts_file``), else 0."""

    filters: str = "pains"
    smarts_file: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        self._criteria = parse_filter_expression(self.filters)
        self.name = self.name or self.filters.replace(",", "_")

    def __call__(self, smiles: Sequence[str], mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        passes = apply_filters(mols, self._criteria, smarts_path=self.smarts_file)[PASSES_ALL]
        return {self.name: passes.to_numpy(float)}


@COMPONENTS.register("smarts")
@dataclass
class SmartsComponent(Component):
    """How many times a SMARTS pattern matches (``count``), or whether it does (0/1): a custom
    substructure reward (``[#7]`` counts nitrogens) or, with a decreasing transform, a penalty."""

    smarts: str = ""
    count: bool = True
    name: str = "smarts"

    def __post_init__(self) -> None:
        with rdBase.BlockLogs():
            self._pattern = Chem.MolFromSmarts(self.smarts)
        if self._pattern is None:
            raise ValueError(f"invalid SMARTS {self.smarts!r}")

    def __call__(self, smiles: Sequence[str], mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        hits = [len(mol.GetSubstructMatches(self._pattern)) for mol in mols]
        values = np.array(hits, float)
        return {self.name: values if self.count else (values > 0).astype(float)}


@COMPONENTS.register("similarity")
@dataclass
class SimilarityComponent(Component):
    """The largest Tanimoto similarity (Morgan radius 2, 2,048 bits) to reference molecules."""

    smiles: list[str] = field(default_factory=list)
    name: str = "similarity"

    def __post_init__(self) -> None:
        mols = [Chem.MolFromSmiles(s) for s in self.smiles]
        bad = [s for s, m in zip(self.smiles, mols, strict=True) if m is None]
        if not self.smiles or bad:
            raise ValueError(f"needs valid reference SMILES, got {bad or 'none'}")
        self._reference = packed_fingerprints(mols)

    def __call__(self, smiles: Sequence[str], mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        similarity, _ = nearest_neighbours(packed_fingerprints(mols), self._reference)
        return {self.name: similarity.astype(float)}


@functools.cache
def load_activity_run(run: str) -> Any:
    from biomodels.train.run import load_run

    loaded = load_run(run)
    if getattr(loaded.model, "input_kind", None) != "molecule":
        raise CheckpointError(run, f"holds a {loaded.model.name} model, not a molecule activity model")
    return loaded


@COMPONENTS.register("activity")
@dataclass
class ActivityComponent(Component):
    """The prediction of an activity model (a run directory of ``biomodels train``): the
    ensemble mean of a regression target, or the probability of a classifier's positive class,
    minus ``uncertainty`` x the ensemble std (0: no penalty). ``<name>_std`` is logged."""

    run: str = ""
    target: str | None = None
    uncertainty: float = 0.0
    name: str = "activity"

    def __post_init__(self) -> None:
        self.run = str(self.run)
        self.model_ = load_activity_run(self.run).model
        targets = list(self.model_.target_names_)
        self.target = self.target or targets[0]
        if self.target not in targets:
            raise ValueError(f"target {self.target!r} is not one of the model's: {', '.join(targets)}")
        if getattr(self.model_, "classes_", None):
            raise ValueError("a multiclass model has no single activity; train a binary or regression model")

    @property
    def regression(self) -> bool:
        return self.model_.task_ == "regression"

    def __call__(self, smiles: Sequence[str], mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        frame = self.model_.predict(list(smiles))
        mean = frame[self.target].to_numpy(float)
        std = frame[f"{self.target}_std"].to_numpy(float)
        value = mean - self.uncertainty * np.nan_to_num(std) if self.uncertainty else mean
        return {self.name: value, f"{self.name}_std": std}

    def training_labels(self) -> np.ndarray:
        """The training split's labels of the target (``predictions_train.csv``'s ``_true``)."""
        path = Path(self.run) / "predictions_train.csv"
        column = f"{self.target}_true"
        try:
            labels = pd.read_csv(path, usecols=[column])[column].to_numpy(float)
        except (OSError, ValueError) as exc:
            reason = f"no training labels ({column}) to centre the default transform on: {exc}"
            raise CheckpointError(path, reason) from None
        return labels[~np.isnan(labels)]

    def default_transform(self) -> dict[str, Any]:
        """A classifier's probability as it is; for a regression target a soft sigmoid (``k``
        0.25) that is 0.5 at the 90th percentile of its training labels (the top decile: a
        hit) and 0.05 at the 75th: the focused prior's molecules start near the median, so the
        gradient is where the optimisation is (measured: from the median instead, 2 hits in
        1,000 calls against 14)."""
        if not self.regression:
            return super().default_transform()
        low, hit = np.percentile(self.training_labels(), [75, 90])
        return {"type": "sigmoid", "low": float(low), "high": float(2 * hit - low), "k": 0.25}


@COMPONENTS.register("domain")
@dataclass
class DomainComponent(Component):
    """Nearest-neighbour Tanimoto (Morgan radius 2, 2,048 bits) to an activity model's training
    set (its :class:`~biomodels.chem.domain.ApplicabilityDomain`): the optimiser cannot win by
    leaving the chemistry the model knows. Default transform: a soft gate at 0.4."""

    run: str = ""
    name: str = "domain"

    def __post_init__(self) -> None:
        self.run = str(self.run)
        self.domain_ = load_activity_run(self.run).model.domain_
        if self.domain_ is None:
            raise ValueError(f"the model of {self.run} was saved without its training set")

    def __call__(self, smiles: Sequence[str], mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        similarity, _ = self.domain_.nearest(self.domain_.fingerprints_of(mols))
        return {self.name: similarity.astype(float)}

    def default_transform(self) -> dict[str, Any]:
        return {"type": "sigmoid", "low": 0.2, "high": 0.6, "k": 0.25}  # 0.5 at 0.4, 0.05 at 0.2


# --- the objective -------------------------------------------------------------------------------


def geometric_mean(desirabilities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted geometric mean of ``n x c`` desirabilities in [0, 1] with ``c`` weights: ``n``
    scores, 0 wherever any weighted desirability is 0 (or NaN)."""
    d = np.nan_to_num(np.asarray(desirabilities, float), nan=0.0)
    w = np.asarray(weights, float)
    with np.errstate(divide="ignore"):
        logs = np.where(d > 0, np.log(np.where(d > 0, d, 1.0)), -np.inf)
    return np.exp((logs * w).sum(axis=1) / w.sum())


@dataclass
class Term:
    """A component with its transform and weight in an :class:`Objective`."""

    component: Component
    transform: Transform
    weight: float = 1.0


@dataclass
class Objective:
    """Components, transforms and weights; :meth:`score` gives each molecule's score in [0, 1].

    Attributes:
        terms: the weighted components.
        spec: the parsed TOML (or default) that built it: saved in a run's ``config.json``.
    """

    terms: list[Term]
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The columns of :meth:`score` before ``error``."""
        out = ["score"]
        for term in self.terms:
            out += [term.component.name, f"d_{term.component.name}"]
            if isinstance(term.component, ActivityComponent):
                out.append(f"{term.component.name}_std")
        return out

    def score(self, smiles: Sequence[str]) -> pd.DataFrame:
        """Score molecules (valid SMILES): :attr:`columns` and ``error``, one row each, in order."""
        with rdBase.BlockLogs():  # an invalid SMILES is reported in its row, not on the console
            mols = [Chem.MolFromSmiles(s) for s in smiles]
        n = len(smiles)
        errors = np.full(n, None, dtype=object)
        for i, mol in enumerate(mols):
            if mol is None:
                errors[i] = "not a valid SMILES"
        ok = np.flatnonzero([m is not None for m in mols])
        columns: dict[str, np.ndarray] = {}
        desirability = np.zeros((n, len(self.terms)))
        for j, term in enumerate(self.terms):
            name = term.component.name
            raw = np.full(n, np.nan)
            try:
                values = term.component([smiles[i] for i in ok], [mols[i] for i in ok]) if len(ok) else {}
                for key, value in values.items():
                    columns.setdefault(key, np.full(n, np.nan))[ok] = value
                raw = columns.get(name, raw)
            except Exception as exc:  # one failing component marks the batch's rows, never the run
                logger.warning("scoring component %s failed on a batch of %d: %s", name, len(ok), exc)
                reason = f"component {name} failed: {' '.join(str(exc).split())}"
                errors[ok] = [e or reason for e in errors[ok]]
            columns[name] = raw
            desirability[:, j] = term.transform(raw)
            columns[f"d_{name}"] = desirability[:, j]
        score = geometric_mean(desirability, np.array([t.weight for t in self.terms]))
        parts = {c: columns.get(c, np.full(n, np.nan)) for c in self.columns[1:]}
        frame = pd.DataFrame({"score": score, **parts})
        frame["error"] = pd.Series(errors, dtype=object)
        return frame


def build_objective(
    spec: Mapping[str, Any], activity: str | Path | None = None, source: str | Path | None = None
) -> Objective:
    """The objective of a parsed TOML table (``[[component]]`` entries, see the module docstring).

    Args:
        activity: the run directory for ``activity`` and ``domain`` components without a ``run``.
        source: the file ``spec`` came from, for error messages.

    Raises:
        InputError: a missing, unknown or invalid key, one line naming the file and the key
            (``component[2].transform.low``).
    """
    entries = spec.get("component")
    if not isinstance(entries, list) or not entries:
        raise InputError(source, "no [[component]] tables: the objective needs at least one component")
    terms, names = [], set()
    for i, entry in enumerate(entries, start=1):
        where = f"component[{i}]"
        params = dict(entry)
        kind = params.pop("type", None)
        if kind not in COMPONENTS:
            choices = ", ".join(COMPONENTS)
            raise InputError(source, f"{where}.type: {kind!r} is not a component; choose one of: {choices}")
        weight = params.pop("weight", 1.0)
        transform = params.pop("transform", None)
        cls = COMPONENTS.get(kind)
        if "run" in inspect.signature(cls).parameters and "run" not in params:
            if activity is None:
                reason = f'{where} ({kind}): needs a run directory: give --activity or run = "..."'
                raise InputError(source, reason)
            params["run"] = str(activity)
        try:
            _check_keys(cls, params, f"{where} ({kind})")
            if not isinstance(weight, int | float) or weight <= 0:
                raise InputError(None, f"{where}.weight: must be a positive number, got {weight!r}")
            component = cls(**params)
            transform_spec = transform if transform is not None else component.default_transform()
            if not isinstance(transform_spec, Mapping):
                example = '{ type = "sigmoid", low = 0, high = 1 }'
                raise InputError(None, f"{where}.transform: must be a table such as {example}")
            term = Term(component, make_transform(transform_spec, f"{where}.transform"), float(weight))
        except InputError as exc:
            raise InputError(source, exc.reason) from None
        except (ValueError, TypeError) as exc:
            raise InputError(source, f"{where} ({kind}): {' '.join(str(exc).split())}") from None
        if term.component.name in names:
            reason = f"{where}.name: {term.component.name!r} is used twice; give each component a name"
            raise InputError(source, reason)
        names.add(term.component.name)
        entry_spec = {"type": kind, "weight": float(weight), **params, "transform": dict(transform_spec)}
        terms.append((term, entry_spec))
    resolved = {**spec, "component": [s for _, s in terms]}
    return Objective([t for t, _ in terms], resolved)


def load_objective(path: str | Path, activity: str | Path | None = None) -> Objective:
    """The objective of a TOML file (see the module docstring and the README).

    Raises:
        InputError: the file is missing or not TOML, or a key is wrong (naming the file and key).
    """
    try:
        spec = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read the objective: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a valid TOML file: {exc}") from None
    return build_objective(spec, activity, source=path)


def default_objective(activity: str | Path) -> Objective:
    """What ``--activity RUN_DIR`` alone optimises: the activity desirability (0.5 at the 90th
    percentile of its training labels; a classifier's probability) x a drug-likeness
    desirability (0.5 at QED 0.5) x a soft domain gate (0.5 at a Tanimoto of 0.4 to the
    training set) x PAINS-free (a hard gate), equally weighted: each soft threshold sits on
    what makes a molecule a hit."""
    components = [
        {"type": "activity"},
        {"type": "qed", "transform": {"type": "sigmoid", "low": 0.3, "high": 0.7, "k": 0.25}},
        {"type": "domain"},
        {"type": "filter", "filters": "pains"},
    ]
    spec = {"component": components}
    return build_objective(spec, activity)
