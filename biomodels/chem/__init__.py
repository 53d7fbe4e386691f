"""Chemistry on RDKit molecules: properties, drug-likeness filters, similarity and the
applicability domain.

Properties (:mod:`~biomodels.chem.properties`) are named in ``PROPERTIES``; filters
(:mod:`~biomodels.chem.filters`) are named in ``FILTERS`` and combined with property thresholds
in expressions such as ``"qed>=0.5,sa<=4,pains,lipinski"``.

The names below are imported on first use, so that :mod:`~biomodels.chem.standardize` (which
every molecule parser imports, in every screening worker) loads without pandas.
"""

from biomodels.utils import lazy_exports

_EXPORTS = {
    "DEFAULT_MIN_SIMILARITY": "biomodels.chem.domain",
    "DOMAIN_COLUMNS": "biomodels.chem.domain",
    "ApplicabilityDomain": "biomodels.chem.domain",
    "FILTERS": "biomodels.chem.filters",
    "ORGANIC_ELEMENTS": "biomodels.chem.filters",
    "PASSES_ALL": "biomodels.chem.filters",
    "CatalogFilter": "biomodels.chem.filters",
    "Criterion": "biomodels.chem.filters",
    "ElementFilter": "biomodels.chem.filters",
    "LipinskiFilter": "biomodels.chem.filters",
    "SmartsFilter": "biomodels.chem.filters",
    "ThresholdCriterion": "biomodels.chem.filters",
    "VeberFilter": "biomodels.chem.filters",
    "apply_filters": "biomodels.chem.filters",
    "filter_summary": "biomodels.chem.filters",
    "load_smarts_filters": "biomodels.chem.filters",
    "match_column": "biomodels.chem.filters",
    "parse_filter_expression": "biomodels.chem.filters",
    "pass_column": "biomodels.chem.filters",
    "PROPERTIES": "biomodels.chem.properties",
    "PropertyFunction": "biomodels.chem.properties",
    "compute_properties": "biomodels.chem.properties",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
