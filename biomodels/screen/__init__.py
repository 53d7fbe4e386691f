"""Virtual screening at scale: stream a library through trained models, filter, rank, report.

:func:`screen` runs a whole, resumable screening into an output table with its top list,
diverse picks and HTML report; :func:`iter_screen` yields the scored chunks as DataFrames for
notebooks and pipelines. Both keep memory bounded, use every core or a Dask cluster
(:mod:`biomodels.screen.distributed`), and account for every input row.
"""

from biomodels.screen.engine import DEFAULT_PROPERTIES, ScreenConfig, iter_screen
from biomodels.screen.ranking import ACQUISITIONS, Ranker, RankingConfig, pick_diverse
from biomodels.screen.run import screen
from biomodels.screen.summary import ScreenSummary

__all__ = [
    "ACQUISITIONS",
    "DEFAULT_PROPERTIES",
    "Ranker",
    "RankingConfig",
    "ScreenConfig",
    "ScreenSummary",
    "iter_screen",
    "pick_diverse",
    "screen",
]
