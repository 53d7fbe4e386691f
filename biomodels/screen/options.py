"""The names and defaults of screening options, importable without RDKit, pandas or torch.

``biomodels screen --help`` shows them before any heavy import; :mod:`~biomodels.screen.engine`,
:mod:`~biomodels.screen.ranking` and :mod:`~biomodels.screen.scoring` check values against them,
so a name added here is offered by the command line and accepted by the library at once.
"""

DEFAULT_PROPERTIES = ("mw", "clogp", "tpsa", "hbd", "hba", "rotb")
"""Computed for every row unless told otherwise: the inputs of the Lipinski and Veber rules.
``qed`` (about 1.5 ms a molecule) and ``sa`` (0.3 ms) are added when a filter needs them."""

DEFAULT_SANITY = "organic,fragments<=1,heavy_atoms>=8,heavy_atoms<=70"
"""The sane-chemistry filters every screen applies unless told otherwise (``--sanity``), as
filter-expression terms, each reported as its own ``pass_<term>`` column:

- ``organic``: only H, B, C, N, O, F, Si, P, S, Cl, Se, Br and I; metal complexes and other
  metalloids fail (a cobalt complex otherwise topped the demo's screen at pIC50 17.7);
- ``fragments<=1``: one fragment left after RDKit's salt stripper removed counterions and water
  (mixtures and complexes drawn disconnected are not one compound);
- ``heavy_atoms>=8``: smaller records are solvents and reagents (5.7% of RDKit's NCI library, no
  compound of the demo's training set, no MOSES molecule);
- ``heavy_atoms<=70``: larger ones are peptides, macrocyclic natural products or polymers (0.1% of
  the NCI library; the demo's training set ends at 41 heavy atoms, MOSES at 27)."""

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
