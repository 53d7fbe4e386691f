"""The names and defaults of screening options, importable without RDKit, pandas or torch.

``biomodels screen --help`` shows them before any heavy import; :mod:`~biomodels.screen.engine`,
:mod:`~biomodels.screen.ranking` and :mod:`~biomodels.screen.scoring` check values against them,
so a name added here is offered by the command line and accepted by the library at once.
"""

DEFAULT_PROPERTIES = ("mw", "clogp", "tpsa", "hbd", "hba", "rotb")
"""Computed for every row unless told otherwise: the inputs of the Lipinski and Veber rules.
``qed`` (about 1.5 ms a molecule) and ``sa`` (0.3 ms) are added when a filter needs them."""

ACQUISITIONS = {
    "mean": "the prediction",
    "ucb": "mean + kappa * std",
    "prob": "P(value > threshold)",
}
"""Ranking objectives by name, with what each scores (see :mod:`biomodels.screen.ranking`)."""

POOLS = {
    "threads": "one process: least memory",
    "processes": "a process per worker",
}
"""How local workers run (see :func:`biomodels.screen.scoring.map_with_models`)."""
