"""Chemistry on RDKit molecules: properties, drug-likeness filters, similarity and the
applicability domain.

Properties (:mod:`~biomodels.chem.properties`) are named in ``PROPERTIES``; filters
(:mod:`~biomodels.chem.filters`) are named in ``FILTERS`` and combined with property thresholds
in expressions such as ``"qed>=0.5,sa<=4,pains,lipinski"``.
"""

from biomodels.chem.domain import DEFAULT_MIN_SIMILARITY, DOMAIN_COLUMNS, ApplicabilityDomain
from biomodels.chem.filters import (
    FILTERS,
    ORGANIC_ELEMENTS,
    PASSES_ALL,
    CatalogFilter,
    Criterion,
    ElementFilter,
    LipinskiFilter,
    SmartsFilter,
    ThresholdCriterion,
    VeberFilter,
    apply_filters,
    filter_summary,
    load_smarts_filters,
    match_column,
    parse_filter_expression,
    pass_column,
)
from biomodels.chem.properties import PROPERTIES, PropertyFunction, compute_properties

__all__ = [
    "DEFAULT_MIN_SIMILARITY",
    "DOMAIN_COLUMNS",
    "FILTERS",
    "ORGANIC_ELEMENTS",
    "PASSES_ALL",
    "PROPERTIES",
    "ApplicabilityDomain",
    "CatalogFilter",
    "Criterion",
    "ElementFilter",
    "LipinskiFilter",
    "PropertyFunction",
    "SmartsFilter",
    "ThresholdCriterion",
    "VeberFilter",
    "apply_filters",
    "compute_properties",
    "filter_summary",
    "load_smarts_filters",
    "match_column",
    "parse_filter_expression",
    "pass_column",
]
