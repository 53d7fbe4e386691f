"""Hyper-parameter tuning: Optuna studies over the GNN search space, resumable from SQLite.

:func:`tune_run` (``biomodels tune``) runs the study and retrains the best configuration into a
run directory; :data:`SEARCH_SPACE` is what it searches. Optuna is imported with this package.
"""

from biomodels.tune.space import DEFAULTS, SEARCH_SPACE, Param
from biomodels.tune.study import TuneConfig, TuneResult, finished_trials, tune_run

__all__ = ["DEFAULTS", "SEARCH_SPACE", "Param", "TuneConfig", "TuneResult", "finished_trials", "tune_run"]
