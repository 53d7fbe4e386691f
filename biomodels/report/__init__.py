"""Reports: plots, tables and HTML pages drawn from results and run directories.

Nothing below this package imports it: training, screening and evaluation write data, and
:func:`report_run` (``biomodels report RUN``) draws a run's figures from its directory;
:func:`write_screen_report` draws a screening run's HTML page from the summary it returned.
"""

from biomodels.report.molecules import draw_top_compounds
from biomodels.report.optimize import report_optimization, write_optimization_report
from biomodels.report.plots import (
    plot_confusion_matrix,
    plot_histogram,
    plot_parity,
    plot_roc_pr,
    plot_training_curves,
)
from biomodels.report.run import report_run
from biomodels.report.screen import write_screen_report

__all__ = [
    "draw_top_compounds",
    "plot_confusion_matrix",
    "plot_histogram",
    "plot_parity",
    "plot_roc_pr",
    "plot_training_curves",
    "report_optimization",
    "report_run",
    "write_optimization_report",
    "write_screen_report",
]
