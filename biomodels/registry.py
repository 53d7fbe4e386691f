"""Name -> factory registries: featurizers, models, splitters, filters are chosen by name.

:data:`MODELS` is the catalogue of every model family. Its entries are import paths, resolved on
first use, so the command line lists the models (and a checkpoint names its class) without
importing torch or the model code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from biomodels.exceptions import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from names to factories, filled with the :meth:`register` decorator.

    Example::

        FEATURIZERS = Registry("featurizer")

        @FEATURIZERS.register("morgan")
        class MorganFeaturizer: ...

        FEATURIZERS.get("morgan")  # -> MorganFeaturizer
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}
        self._info: dict[str, dict[str, Any]] = {}

    def register(self, name: str, **info: Any) -> Callable[[T], T]:
        """Decorator registering the object as ``name``; ``info`` is readable with :meth:`info`."""

        def decorator(obj: T) -> T:
            if name in self:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            self._info[name] = dict(info)
            return obj

        return decorator

    def register_lazy(self, name: str, target: str, **info: Any) -> None:
        """Register ``name`` as the object at ``target`` (``"package.module:attribute"``).

        The module is imported by the first :meth:`get`; ``info`` (e.g. the input kind, preset
        constructor arguments) is readable at once with :meth:`info`.
        """
        if name in self:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._lazy[name] = target
        self._info[name] = dict(info)

    def get(self, name: str) -> T:
        if name not in self._items and name in self._lazy:
            module, _, attribute = self._lazy[name].partition(":")
            self._items[name] = getattr(importlib.import_module(module), attribute)
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self.names()) from None

    def info(self, name: str) -> dict[str, Any]:
        """What was registered with ``name`` besides the object (empty for a plain entry)."""
        if name not in self:
            raise UnknownNameError(self.kind, name, self.names())
        return dict(self._info.get(name, {}))

    def target(self, name: str) -> str:
        """``"module:attribute"`` of the object registered as ``name`` (without importing it)."""
        if name in self._lazy:
            return self._lazy[name]
        obj = self.get(name)
        return f"{obj.__module__}:{obj.__qualname__}"

    def names(self, **info: Any) -> list[str]:
        """Registered names, sorted; with ``info`` only those whose entries match every item."""
        names = set(self._items) | set(self._lazy)
        return sorted(n for n in names if all(self._info.get(n, {}).get(k) == v for k, v in info.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())


MODELS: Registry[Any] = Registry("model")
"""Every model family behind the estimator protocol (:class:`biomodels.train.estimator.Estimator`).

Keys are what ``--model`` takes and what a saved model's ``model.json`` names. ``input`` says
what the model reads (``molecule``, ``text``, ``image``, ``vector``, ``pair``: compound +
protein; ``smiles``: the generative models of :mod:`biomodels.generate`); ``params`` are constructor
arguments the entry presets. Adding a model family is one class plus one line here.
"""
for _encoder in ("dmpnn", "gin", "gcn", "gat", "attentivefp"):
    MODELS.register_lazy(
        _encoder, "biomodels.train.property:GNNEstimator", input="molecule", params={"encoder": _encoder}
    )
MODELS.register_lazy("rf", "biomodels.train.property:ForestEstimator", input="molecule")
MODELS.register_lazy("surrogate-ridge", "biomodels.screen.surrogate:SurrogateRidge", input="surrogate")
MODELS.register_lazy("dta", "biomodels.dta.estimator:AffinityEstimator", input="pair")
for _name, _target, _input in (
    ("cnn", "image_classifier:CNNClassifier", "image"),
    ("resnet18", "image_classifier:ResNet18Classifier", "image"),
    ("pixel-logreg", "baselines:PixelClassifier", "image"),
    ("autoencoder", "anomaly:ImageAutoencoder", "image"),
    ("gan", "generative:ConditionalGANEstimator", "image"),
    ("rnn", "text_classifier:RNNClassifier", "text"),
    ("transformer", "text_classifier:TransformerClassifier", "text"),
    ("bow-logreg", "baselines:BagOfWordsClassifier", "text"),
    ("ridge", "baselines:RidgeRegressor", "vector"),
    ("dense-autoencoder", "anomaly:DenseAutoencoderEstimator", "vector"),
):
    MODELS.register_lazy(_name, f"biomodels.diagnostics.{_target}", input=_input)
for _name, _target in (("charrnn", "CharRNNModel"), ("vae", "VAEModel")):
    MODELS.register_lazy(_name, f"biomodels.generate.models:{_target}", input="smiles")

ENGINES: Registry[Any] = Registry("engine")
"""What runs a loaded model's networks: ``torch`` (the default) or ``onnxruntime`` (the networks
exported to ONNX, see :mod:`biomodels.train.engines`). Keys are what ``--engine`` takes; each
entry is a function ``Run -> Run`` applied by :func:`biomodels.train.run.load_run`."""
ENGINES.register_lazy("torch", "biomodels.train.engines:use_torch")
ENGINES.register_lazy("onnxruntime", "biomodels.train.engines:use_onnxruntime")
