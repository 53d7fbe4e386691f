"""Drug-likeness filters: rules of thumb, structural alerts, property thresholds, user SMARTS.

A *criterion* (:class:`Criterion`) decides, for a batch of molecules, which ones pass. Four kinds:

- rule filters: :class:`LipinskiFilter` (rule of five) and :class:`VeberFilter`;
- element filters: :class:`ElementFilter` (``organic``: no metal or metalloid outside an
  allow-list);
- structural alerts from RDKit's ``FilterCatalog`` (:class:`CatalogFilter`: PAINS A/B/C, Brenk,
  NIH) or from a user's SMARTS file (:class:`SmartsFilter`, see :func:`load_smarts_filters`);
- thresholds on a property from :mod:`biomodels.chem.properties` (:class:`ThresholdCriterion`).

Named filters live in :data:`FILTERS`; :func:`parse_filter_expression` turns text such as
``"qed>=0.5,sa<=4,pains,lipinski"`` into criteria and :func:`apply_filters` evaluates them.

Output columns (one frame per batch, rows aligned with the input molecules):

- ``pass_<criterion>`` (bool): True when the molecule PASSES, i.e. satisfies the rule or
  threshold, or matches no alert. ``<criterion>`` is the filter name (``pass_pains``) or the
  threshold as written without spaces (``pass_qed>=0.5``).
- ``<criterion>_match`` (str) for alert filters: the descriptions of every alert that matched,
  joined with ``"; "`` (``""`` when none did, missing (NA) for a molecule that failed to parse).
- ``passes_all`` (bool): the molecule passes every criterion.

A molecule that failed to parse (``None``) passes nothing, and its property values are NaN.

RDKit objects that are costly to build (the filter catalogs) are built lazily, once per process,
and criteria hold only plain data (names, SMARTS strings), so they pickle cheaply to process
pools and Dask workers.
"""

from __future__ import annotations

import functools
import logging
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase
from rdkit.Chem.FilterCatalog import (
    FilterCatalog,
    FilterCatalogEntry,
    FilterCatalogParams,
    SmartsMatcher,
)

from biomodels.chem.properties import PROPERTIES, compute_properties
from biomodels.exceptions import InputError
from biomodels.registry import Registry

logger = logging.getLogger(__name__)

__all__ = [
    "FILTERS",
    "PASSES_ALL",
    "ORGANIC_ELEMENTS",
    "CatalogFilter",
    "Criterion",
    "ElementFilter",
    "LipinskiFilter",
    "SmartsFilter",
    "ThresholdCriterion",
    "VeberFilter",
    "apply_filters",
    "filter_summary",
    "load_smarts_filters",
    "match_column",
    "parse_filter_expression",
    "pass_column",
]

PASSES_ALL = "passes_all"
"""Column that is True when a molecule passes every criterion."""


def pass_column(criterion_name: str) -> str:
    """Name of the boolean column holding whether each molecule passes ``criterion_name``."""
    return f"pass_{criterion_name}"


def match_column(criterion_name: str) -> str:
    """Name of the text column listing which alerts of ``criterion_name`` matched."""
    return f"{criterion_name}_match"


class Criterion(Protocol):
    """Decides which molecules of a batch pass.

    Attributes:
        name: identifies the criterion in output columns (``pass_<name>``).
        properties: property names (from ``PROPERTIES``) that :meth:`evaluate` reads.
    """

    @property
    def name(self) -> str: ...

    @property
    def properties(self) -> tuple[str, ...]: ...

    def evaluate(self, mols: Sequence[Chem.Mol | None], properties: pd.DataFrame) -> pd.DataFrame:
        """Return ``pass_<name>`` (and optionally more) columns indexed like ``properties``.

        Args:
            mols: the batch, ``None`` for molecules that failed to parse.
            properties: ``N x P`` frame, row ``i`` for ``mols[i]``, holding at least the
                columns named in :attr:`properties` (NaN for ``None`` molecules).
        """
        ...


# --- rule filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LipinskiFilter:
    """Lipinski's rule of five: MW <= 500, cLogP <= 5, H-bond donors <= 5, acceptors <= 10.

    Passing allows ``max_violations`` broken limits. The default of one is the rule as Lipinski
    et al. (1997) stated it ("poor absorption is more likely when two or more are violated") and
    as most screening tools apply it; set 0 for the stricter reading where every limit must hold.
    """

    max_violations: int = 1
    name: str = "lipinski"
    properties: ClassVar[tuple[str, ...]] = ("mw", "clogp", "hbd", "hba")

    def evaluate(self, mols: Sequence[Chem.Mol | None], properties: pd.DataFrame) -> pd.DataFrame:
        """See :meth:`Criterion.evaluate`; a molecule with any property unknown fails."""
        p = properties
        violations = (p["mw"] > 500).astype(int) + (p["clogp"] > 5) + (p["hbd"] > 5) + (p["hba"] > 10)
        known = p[list(self.properties)].notna().all(axis=1)
        return pd.DataFrame({pass_column(self.name): known & (violations <= self.max_violations)})


@dataclass(frozen=True)
class VeberFilter:
    """Veber et al. (2002) oral bioavailability rule: rotatable bonds <= 10 and TPSA <= 140."""

    name: str = "veber"
    properties: ClassVar[tuple[str, ...]] = ("rotb", "tpsa")

    def evaluate(self, mols: Sequence[Chem.Mol | None], properties: pd.DataFrame) -> pd.DataFrame:
        """See :meth:`Criterion.evaluate`; NaN properties compare False, so they fail."""
        passes = (properties["rotb"] <= 10) & (properties["tpsa"] <= 140)
        return pd.DataFrame({pass_column(self.name): passes})


ORGANIC_ELEMENTS = ("H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I")
"""The elements of the ``organic`` filter: the nonmetals of medicinal chemistry plus boron (the
boronic acids bortezomib, tavaborole), silicon and selenium (ebselen). Metals (Co, Pt, Fe...) and
the other metalloids (As, Sb, Te, Ge) fail it: a graph model trained on organic molecules has
never seen their chemistry, and a metal complex can look drug-like to the rule filters."""


@functools.cache
def _outside_elements(allowed: tuple[str, ...]) -> Chem.Mol:
    """A SMARTS query matching any atom of an element outside ``allowed`` (built once)."""
    table = Chem.GetPeriodicTable()
    return Chem.MolFromSmarts("[" + ";".join(f"!#{table.GetAtomicNumber(e)}" for e in allowed) + "]")


@dataclass(frozen=True)
class ElementFilter:
    """Passes molecules made only of the ``allowed`` elements (default: :data:`ORGANIC_ELEMENTS`).

    Also returns ``<name>_match``: the elements outside the list, e.g. ``"Co"`` or ``"Cl; Pt"``
    sorted, ``""`` when none (missing for a molecule that failed to parse).
    """

    allowed: tuple[str, ...] = ORGANIC_ELEMENTS
    name: str = "organic"
    properties: ClassVar[tuple[str, ...]] = ()

    def evaluate(self, mols: Sequence[Chem.Mol | None], properties: pd.DataFrame) -> pd.DataFrame:
        """See :meth:`Criterion.evaluate`."""
        query = _outside_elements(self.allowed)
        passes = np.zeros(len(mols), dtype=bool)
        found: list[str | None] = [None] * len(mols)
        for i, mol in enumerate(mols):
            if mol is None:
                continue
            passes[i] = not mol.HasSubstructMatch(query)  # one C++ call for the common case
            found[i] = "" if passes[i] else "; ".join(sorted({a.GetSymbol() for a in _outside(mol, query)}))
        return pd.DataFrame(
            {pass_column(self.name): passes, match_column(self.name): found}, index=properties.index
        )


def _outside(mol: Chem.Mol, query: Chem.Mol) -> list[Chem.Atom]:
    return [mol.GetAtomWithIdx(match[0]) for match in mol.GetSubstructMatches(query)]


# --- property thresholds ------------------------------------------------------------------------

_OPERATORS: dict[str, Callable[[pd.Series, float], pd.Series]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class ThresholdCriterion:
    """Passes molecules whose property compares true with a number, e.g. ``qed >= 0.5``.

    Attributes:
        property_name: a name from ``PROPERTIES``.
        op: one of ``>=``, ``<=``, ``>``, ``<``, ``==``, ``!=``.
        value: the number compared with.
        name: the threshold as written without spaces (``qed>=0.5``); the column suffix.
    """

    property_name: str
    op: str
    value: float
    name: str

    @property
    def properties(self) -> tuple[str, ...]:
        return (self.property_name,)

    def evaluate(self, mols: Sequence[Chem.Mol | None], properties: pd.DataFrame) -> pd.DataFrame:
        """See :meth:`Criterion.evaluate`; NaN fails every comparison, ``!=`` included."""
        column = properties[self.property_name]
        passes = _OPERATORS[self.op](column, self.value) & column.notna()
        return pd.DataFrame({pass_column(self.name): passes})


# --- structural alerts --------------------------------------------------------------------------


class _AlertFilter:
    """Shared evaluation of alert filters: pass when no catalog entry matches the molecule."""

    name: str
    properties: ClassVar[tuple[str, ...]] = ()

    def catalog(self) -> FilterCatalog:
        """The RDKit catalog of alerts, built once per process."""
        raise NotImplementedError

    def evaluate(self, mols: Sequence[Chem.Mol | None], properties: pd.DataFrame) -> pd.DataFrame:
        """See :meth:`Criterion.evaluate`; also returns the ``<name>_match`` descriptions."""
        catalog = self.catalog()
        passes = np.zeros(len(mols), dtype=bool)
        matches: list[str | None] = [None] * len(mols)
        for i, mol in enumerate(mols):
            if mol is None:
                continue
            found = dict.fromkeys(entry.GetDescription() for entry in catalog.GetMatches(mol))
            passes[i] = not found
            matches[i] = "; ".join(found)
        return pd.DataFrame(
            {pass_column(self.name): passes, match_column(self.name): matches},
            index=properties.index,
        )


@functools.cache
def _builtin_catalog(catalogs: tuple[str, ...]) -> FilterCatalog:
    """Build (once per process) an RDKit catalog joining the named ``FilterCatalogs``."""
    params = FilterCatalogParams()
    for catalog in catalogs:
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, catalog))
    built = FilterCatalog(params)
    logger.debug("built filter catalog %s with %d entries", catalogs, built.GetNumEntries())
    return built


@dataclass(frozen=True)
class CatalogFilter(_AlertFilter):
    """Alerts from RDKit's curated ``FilterCatalog`` sets (PAINS, Brenk, NIH, ...).

    Attributes:
        name: the column suffix, e.g. ``pains``.
        catalogs: ``FilterCatalogParams.FilterCatalogs`` member names, e.g. ``("PAINS_A",)``.
    """

    name: str
    catalogs: tuple[str, ...]

    def catalog(self) -> FilterCatalog:
        return _builtin_catalog(self.catalogs)


@functools.lru_cache(maxsize=16)
def _smarts_catalog(patterns: tuple[tuple[str, str], ...]) -> FilterCatalog:
    """Build (once per process and pattern set) a catalog from ``(smarts, description)`` pairs."""
    catalog = FilterCatalog()
    for smarts, description in patterns:
        catalog.AddEntry(FilterCatalogEntry(description, SmartsMatcher(description, smarts, 1)))
    return catalog


@dataclass(frozen=True)
class SmartsFilter(_AlertFilter):
    """Alerts from user SMARTS patterns; a molecule passes when it matches none of them.

    Attributes:
        patterns: ``(smarts, description)`` pairs, already checked to parse.
        name: the column suffix.
        source: where the patterns came from (a file path), for messages.
    """

    patterns: tuple[tuple[str, str], ...]
    name: str = "smarts"
    source: str | None = None

    def catalog(self) -> FilterCatalog:
        return _smarts_catalog(self.patterns)


def load_smarts_filters(path: str | Path, name: str = "smarts") -> SmartsFilter:
    """Read a SMARTS alert file: per line a pattern, then optionally whitespace and a description.

    Blank lines and lines whose first non-space character is ``#`` are skipped (``#`` inside a
    pattern, as in ``[#6]``, is SMARTS, so there are no trailing comments). A pattern without a
    description is described by its SMARTS text.

    Args:
        path: the text file (UTF-8).
        name: the criterion name, hence the columns ``pass_<name>`` and ``<name>_match``.

    Raises:
        InputError: the file cannot be read, holds no pattern, or a pattern does not parse; the
            error names the file, the 1-based line number (as the record) and the SMARTS.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read SMARTS file: {exc}") from exc
    patterns: list[tuple[str, str]] = []
    for line_number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        smarts, *description = text.split(maxsplit=1)  # any whitespace separates the name
        with rdBase.BlockLogs():  # we raise our own error; keep RDKit's parser quiet
            pattern = Chem.MolFromSmarts(smarts)
        if pattern is None:
            raise InputError(path, f"invalid SMARTS {smarts!r} on line {line_number}", line_number)
        patterns.append((smarts, description[0] if description else smarts))
    if not patterns:
        raise InputError(path, "no SMARTS patterns found")
    logger.info("loaded %d SMARTS alerts from %s", len(patterns), path)
    return SmartsFilter(tuple(patterns), name=name, source=str(path))


# --- the registry -------------------------------------------------------------------------------

FILTERS: Registry[Criterion] = Registry("filter")
"""Filter name -> criterion; these names are valid terms of a filter expression."""

FILTERS.register("lipinski")(LipinskiFilter())
FILTERS.register("veber")(VeberFilter())
FILTERS.register("organic")(ElementFilter())
for _name, _catalogs in {
    "pains": ("PAINS_A", "PAINS_B", "PAINS_C"),
    "pains_a": ("PAINS_A",),
    "pains_b": ("PAINS_B",),
    "pains_c": ("PAINS_C",),
    "brenk": ("BRENK",),
    "nih": ("NIH",),
}.items():
    FILTERS.register(_name)(CatalogFilter(_name, _catalogs))


# --- expressions and application ----------------------------------------------------------------

_THRESHOLD = re.compile(
    r"(?P<property>[A-Za-z_]\w*)\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
)


def parse_filter_expression(expression: str) -> list[Criterion]:
    """Parse comma-separated terms into criteria, e.g. ``"qed>=0.5,sa<=4,pains,lipinski"``.

    A term is a name from :data:`FILTERS` (the molecule must pass it) or a threshold
    ``<property><op><number>`` over a name from ``PROPERTIES``, with op one of ``>=``, ``<=``,
    ``>``, ``<``, ``==``, ``!=``. Spaces around terms and operators are ignored.

    Raises:
        InputError: a term is empty, repeated, or neither a filter nor a valid threshold; the
            message names the term and lists the valid filters, properties and operators.
    """
    criteria: list[Criterion] = []
    for raw in expression.split(","):
        term = raw.strip()
        criterion = _parse_term(expression, term)
        if any(existing.name == criterion.name for existing in criteria):
            raise _term_error(expression, term, "it is repeated")
        criteria.append(criterion)
    return criteria


def _parse_term(expression: str, term: str) -> Criterion:
    """Turn one stripped term of ``expression`` into a criterion, or raise naming the term."""
    if not term:
        raise _term_error(expression, term, "empty term (a doubled or trailing comma?)")
    if term in FILTERS:
        return FILTERS.get(term)
    threshold = _THRESHOLD.fullmatch(term)
    if threshold is not None:
        prop, op, value = threshold.group("property", "op", "value")
        if prop not in PROPERTIES:
            raise _term_error(expression, term, f"unknown property {prop!r}")
        return ThresholdCriterion(prop, op, float(value), name=f"{prop}{op}{value}")
    if any(char in term for char in "<>=!"):
        raise _term_error(expression, term, "a threshold must read <property><op><number>")
    raise _term_error(expression, term, "neither a filter name nor a threshold")


def _term_error(expression: str, term: str, why: str) -> InputError:
    return InputError(
        None,
        f"bad filter term {term!r} in {expression!r}: {why}; filters are: "
        f"{', '.join(FILTERS.names())}; thresholds are <property><op><number> with properties: "
        f"{', '.join(PROPERTIES.names())} and ops: {', '.join(_OPERATORS)}",
    )


def apply_filters(
    mols: Sequence[Chem.Mol | None],
    criteria: str | Sequence[Criterion],
    smarts_path: str | Path | None = None,
    properties: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Evaluate criteria on a batch of molecules: one row per molecule, none dropped.

    Args:
        mols: the batch, ``None`` for molecules that failed to parse (they pass nothing).
        criteria: a filter expression (see :func:`parse_filter_expression`) or criteria.
        smarts_path: optional SMARTS alert file, added as criterion ``smarts`` (see
            :func:`load_smarts_filters`).
        properties: already computed properties, row ``i`` for ``mols[i]``; the columns the
            criteria need are taken from it and only missing ones are computed, so a screening
            run that also reports properties computes them once. Its index becomes the result's.

    Returns:
        The property columns the criteria read, then each criterion's columns (``pass_<name>``
        and, for alert filters, ``<name>_match``), then ``passes_all``. Index: ``properties``'s,
        else a ``RangeIndex`` over ``mols``.

    Raises:
        InputError: bad expression or SMARTS file.
        ValueError: no criteria, two criteria with the same name, or ``properties`` whose row
            count differs from ``len(mols)``.
    """
    criteria = parse_filter_expression(criteria) if isinstance(criteria, str) else list(criteria)
    if smarts_path is not None:
        criteria.append(load_smarts_filters(smarts_path))
    if not criteria:
        raise ValueError("no filter criteria given")
    names = [criterion.name for criterion in criteria]
    if len(set(names)) != len(names):
        raise ValueError(f"criteria names must be unique, got: {', '.join(names)}")
    needed = list(dict.fromkeys(name for criterion in criteria for name in criterion.properties))
    props = _needed_properties(mols, needed, properties)
    result = pd.concat([props, *(criterion.evaluate(mols, props) for criterion in criteria)], axis=1)
    parsed = np.array([mol is not None for mol in mols], dtype=bool)
    pass_columns = [pass_column(name) for name in names]
    for column in pass_columns:  # also guards user-given properties that are set for None mols
        result[column] = result[column].to_numpy(dtype=bool) & parsed
    result[PASSES_ALL] = result[pass_columns].all(axis=1)
    return result


def _needed_properties(
    mols: Sequence[Chem.Mol | None], needed: list[str], given: pd.DataFrame | None
) -> pd.DataFrame:
    """Return the ``needed`` property columns, reusing ``given`` ones and computing the rest."""
    if given is None:
        return compute_properties(mols, needed)
    if len(given) != len(mols):
        raise ValueError(f"properties has {len(given)} rows but there are {len(mols)} molecules")
    missing = [name for name in needed if name not in given.columns]
    computed = compute_properties(mols, missing).set_axis(given.index)
    return pd.concat([given[[n for n in needed if n in given.columns]], computed], axis=1)[needed]


def filter_summary(results: pd.DataFrame) -> dict[str, int]:
    """Count molecules passing each criterion of an :func:`apply_filters` result.

    Returns:
        ``{"molecules": rows, "pass_<name>": passing, ..., "passes_all": passing}`` in column
        order, so chunk summaries of a streaming run can be added key by key.
    """
    counts = {"molecules": len(results)}
    for column in results.columns:
        if column.startswith("pass_") or column == PASSES_ALL:
            counts[column] = int(results[column].sum())
    return counts
