"""Reports: plots (and later tables and HTML pages) of results computed elsewhere."""

from biomodels.report.plots import (
    plot_confusion_matrix,
    plot_histogram,
    plot_parity,
    plot_roc_pr,
    plot_training_curves,
)

__all__ = [
    "plot_confusion_matrix",
    "plot_histogram",
    "plot_parity",
    "plot_roc_pr",
    "plot_training_curves",
]
