"""The leaf helpers: atomic writes (mode, failures), strict JSON, the ordered bounded map."""

from __future__ import annotations

import errno
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from biomodels.exceptions import OutputError
from biomodels.utils import atomic_path, ordered_map, printable, read_json, write_json


def test_atomic_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "a.json", {"x": 1})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~old


def test_unwritable_output_is_one_line_naming_the_path(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match=r"file/out\.csv: cannot write") as info:
        write_json(tmp_path / "file" / "out.csv", {})
    assert "\n" not in str(info.value)

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OutputError, match=r"out\.json: cannot write \(No space left on device\)"):
        write_json(tmp_path / "out.json", {})
    assert list(tmp_path.glob(".out.json*")) == []


def test_failed_block_leaves_no_temporary_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(KeyError), atomic_path(target) as tmp:
        tmp.write_text("new")
        raise KeyError("boom")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]


def test_json_is_strict_and_round_trips(tmp_path):
    path = write_json(tmp_path / "m.json", {"nan": math.nan, "a": np.arange(3), "f": np.float32(0.5)})
    assert read_json(path) == {"nan": None, "a": [0, 1, 2], "f": 0.5}


def test_ordered_map_keeps_order_with_a_bounded_window():
    with ThreadPoolExecutor(2) as pool:
        assert list(ordered_map(lambda x: x * x, range(20), pool, window=3)) == [x * x for x in range(20)]
    assert list(ordered_map(str, [1, 2])) == ["1", "2"]


def test_printable_escapes_control_characters_and_cuts_long_text():
    assert printable("C\x00C\nN") == "C\\x00C\\nN"
    assert printable("CCO", limit=200) == "CCO"
    assert printable("C" * 1000, limit=5) == "CCCCC... (1000 characters)"
