"""JSON round trips of the architecture configs that checkpoints store (``model.json``)."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, TypeVar

__all__ = ["JSONConfig"]

C = TypeVar("C", bound="JSONConfig")


class JSONConfig:
    """Mixin of a dataclass config: :meth:`to_dict` and its strict inverse :meth:`from_dict`."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a renamed field, a typo)."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} keys {unknown}; known: {sorted(known)}")
        return cls(**data)
