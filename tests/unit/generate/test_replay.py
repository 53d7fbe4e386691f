"""The replay memory keeps the best-rewarded distinct molecules, bounded, and draws reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from biomodels.exceptions import InputError
from biomodels.generate.replay import ReplayMemory


def test_the_memory_keeps_the_best_distinct_molecules() -> None:
    memory = ReplayMemory(size=3, sample=2)
    for i, reward in enumerate([0.5, 0.0, 0.9, 0.2, 0.7, 0.9]):
        memory.add(f"C{i}", f"raw{i}", reward)
    memory.add("C2", "again", 1.0)  # already kept: not replaced, not duplicated
    assert set(memory.entries) == {"C2", "C4", "C5"}  # 0.5 went when 0.9 (C5) came; 0 never joins
    drawn = memory.draw(np.random.default_rng(0))
    assert len(drawn) == 2 and len(set(drawn)) == 2
    assert all(raw in {"raw2", "raw4", "raw5"} for raw, _ in drawn)
    assert drawn == memory.draw(np.random.default_rng(0))  # the same generator state, the same draw


def test_an_empty_or_disabled_memory_draws_nothing() -> None:
    assert ReplayMemory().draw(np.random.default_rng(0)) == []
    off = ReplayMemory(size=0)
    off.add("CCO", "CCO", 1.0)
    assert off.entries == {} and off.draw(np.random.default_rng(0)) == []
    with pytest.raises(InputError, match="replay needs --replay >= 0 and --replay-memory >= 0, got 10, -1"):
        ReplayMemory(size=-1)
