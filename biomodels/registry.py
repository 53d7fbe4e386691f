"""Name -> factory registries: featurizers, models, splitters, filters are chosen by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

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

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, list(self._items)) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
