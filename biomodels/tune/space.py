"""The search space of ``biomodels tune``: GNN hyper-parameters as data, sampled through Optuna.

Each :class:`Param` names a :class:`~biomodels.train.property.GNNEstimator` constructor argument and
its range; :data:`SEARCH_SPACE` is the space the tuner searches (chemprop's ``hpopt`` ranges, the
hidden size capped at 600 so that a trial fits a CPU budget). :data:`DEFAULTS` are the
estimator's defaults in the same terms: the tuner evaluates them as its first trial, so the tuned
configuration is never worse on validation than the untuned one.

The choice ``"none"`` of ``extra_features`` means no extra features (stored as None in the
model's parameters); everything else is passed on as sampled.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from biomodels.train.property import GNNEstimator

if TYPE_CHECKING:
    import optuna

__all__ = ["DEFAULTS", "SEARCH_SPACE", "Param", "model_params", "sample"]

NO_FEATURES = "none"


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: an int or float range (``step`` or ``log`` spacing) or a choice.

    Attributes:
        name: the estimator's constructor argument.
        kind: ``int``, ``float`` or ``choice``.
        low, high: the inclusive range of a number. step: its grid step (None: continuous).
        log: sample the number on a log scale. choices: the options of a ``choice``.
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: optuna.Trial) -> Any:
        """This parameter's value for ``trial``, drawn by the study's sampler."""
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1))
        if self.kind == "float":
            value = trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)
            return value if self.step is None else round(value, 10)  # 0.3, not 0.30000000000000004
        return trial.suggest_categorical(self.name, list(self.choices))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` lies in this parameter's range or choices."""
        if self.kind == "choice":
            return value in self.choices
        return isinstance(value, int | float) and self.low <= value <= self.high

    def describe(self) -> str:
        """The range in one phrase, e.g. ``100..600 step 100`` or ``log 0.0001..0.003``."""
        if self.kind == "choice":
            return " | ".join(map(str, self.choices))
        spacing = f" step {self.step:g}" if self.step else ""
        return f"{'log ' if self.log else ''}{self.low:g}..{self.high:g}{spacing}"


SEARCH_SPACE: tuple[Param, ...] = (
    Param("hidden", "int", 100, 600, step=100),
    Param("depth", "int", 2, 6),
    Param("dropout", "float", 0.0, 0.4, step=0.05),
    Param("lr", "float", 1e-4, 3e-3, log=True),
    Param("batch_size", "choice", choices=(16, 32, 50, 64, 128)),
    Param("ffn_layers", "int", 1, 3),
    Param("extra_features", "choice", choices=(NO_FEATURES, "rdkit2d")),
)
"""Hidden size, depth, dropout, learning rate, batch size, FFN layers and extra features."""

_ESTIMATOR_DEFAULTS = {f.name: f.default for f in fields(GNNEstimator)}
DEFAULTS: dict[str, Any] = {
    p.name: NO_FEATURES if _ESTIMATOR_DEFAULTS[p.name] is None else _ESTIMATOR_DEFAULTS[p.name]
    for p in SEARCH_SPACE
}
""":class:`~biomodels.train.property.GNNEstimator`'s defaults, as values of :data:`SEARCH_SPACE`."""


def sample(trial: optuna.Trial, space: tuple[Param, ...] = SEARCH_SPACE) -> dict[str, Any]:
    """One configuration of ``space`` for ``trial`` (search-space values, see :func:`model_params`)."""
    return {param.name: param.suggest(trial) for param in space}


def model_params(values: dict[str, Any]) -> dict[str, Any]:
    """Search-space values -> estimator parameters (``extra_features`` ``"none"`` -> None)."""
    params = dict(values)
    if params.get("extra_features") == NO_FEATURES:
        params["extra_features"] = None
    return params
