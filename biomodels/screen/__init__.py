"""Virtual screening at scale: stream a library through trained models, filter, rank.

:func:`screen` runs a whole, resumable screening into an output table with its top list and
diverse picks, and returns a summary from which :func:`biomodels.report.screen.write_screen_report`
draws the HTML report; :func:`iter_screen` yields the scored chunks as DataFrames for
notebooks and pipelines. Both keep memory bounded, use every core or a Dask cluster
(:mod:`biomodels.screen.distributed`), and account for every input row.

The names below are imported on first use, so that :mod:`biomodels.screen.options` (the option
names and defaults the command line shows) loads without RDKit, pandas or torch.
"""

from biomodels.utils import lazy_exports

_EXPORTS = {
    "ACQUISITIONS": "biomodels.screen.options",
    "DEFAULT_PROPERTIES": "biomodels.screen.options",
    "DEFAULT_SANITY": "biomodels.screen.options",
    "CascadeConfig": "biomodels.screen.cascade",
    "DomainOptions": "biomodels.screen.scoring",
    "Ranker": "biomodels.screen.ranking",
    "RankingConfig": "biomodels.screen.ranking",
    "ScreenConfig": "biomodels.screen.engine",
    "ScreenSummary": "biomodels.screen.summary",
    "iter_screen": "biomodels.screen.engine",
    "pick_diverse": "biomodels.screen.ranking",
    "screen": "biomodels.screen.run",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
