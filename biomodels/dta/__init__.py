"""Drug-target affinity: compounds plus protein sequences feed one affinity model.

- data: DeepDTA directories (Davis, KIBA) and pair tables (:mod:`biomodels.dta.data`);
- targets: protein FASTA, nucleotide FASTA or GenBank CDS, translated (:mod:`.targets`);
- the model: the ``dta`` estimator (:mod:`.estimator`; network in
  :mod:`biomodels.models.affinity`), trained with ``train_run`` and loaded with ``load_run``;
- workflows: :func:`train` and :func:`predict` (:mod:`.workflow`), ``biomodels dta train|predict``.
"""

from biomodels.dta.data import AffinityData, load_affinity_data, read_deepdta, read_pair_table, to_pkd
from biomodels.dta.estimator import PAIR_SPLITS, AffinityEstimator
from biomodels.dta.targets import Target, read_targets, translate_cds
from biomodels.dta.workflow import PredictSummary, predict, train

__all__ = [
    "PAIR_SPLITS",
    "AffinityData",
    "AffinityEstimator",
    "PredictSummary",
    "Target",
    "load_affinity_data",
    "predict",
    "read_deepdta",
    "read_pair_table",
    "read_targets",
    "to_pkd",
    "train",
    "translate_cds",
]
