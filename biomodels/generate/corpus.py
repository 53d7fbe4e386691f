"""Training molecules for the generative models, streamed from a file in bounded memory.

:class:`SmilesCorpus` reads a molecule file (``.csv(.gz)``, ``.smi``, ...; the MOSES files have
one ``SMILES`` column) through :func:`biomodels.io.molecules.iter_raw_chunks`, or takes a list of
SMILES. :meth:`SmilesCorpus.scan` reads it once: it parses every row with RDKit, tokenises it and
counts the invalid rows by reason (the run's ``metrics.json`` reports them, nothing is fatal),
and collects the tokens of the vocabulary. A second read encodes the usable rows into a
:class:`TokenStore` (one byte per token, memory-mapped from ``store_dir`` when given), and each
epoch draws its batches from it in a fresh random order over all rows
(:meth:`SmilesCorpus.batches`): padded id tensors (``B x L``).

Rows ``row % VAL_EVERY == 0`` (at most ``VAL_ROWS`` of them) are held out for validation.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from biomodels.generate.tokens import Representation, TokenError, Vocabulary
from biomodels.io.molecules import MoleculeParser, RawRecord, iter_raw_chunks

logger = logging.getLogger(__name__)

__all__ = ["VAL_EVERY", "VAL_ROWS", "CorpusScan", "SmilesCorpus", "TokenStore", "pad_batch"]

VAL_EVERY = 100
"""Every ``VAL_EVERY``-th row (row 0, 100, ...) is held out for validation ..."""
VAL_ROWS = 5_000
"""... up to this many rows."""
_EXAMPLES = 20
"""Invalid rows quoted in the scan (the rest are counted by reason)."""


@dataclass
class CorpusScan:
    """What one read of the corpus found.

    Attributes:
        rows: rows read. usable: rows that parse and tokenise within ``max_length`` tokens.
        train, val: usable rows in each partition.
        invalid: number of unusable rows per reason. examples: the first unusable rows
            (``row``, ``smiles``, ``reason``). skipped: their row numbers (streaming skips them).
        tokens: the vocabulary's tokens with their counts. longest: the longest usable row's
            token count.
    """

    rows: int = 0
    usable: int = 0
    train: int = 0
    val: int = 0
    invalid: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, object]] = field(default_factory=list)
    skipped: set[int] = field(default_factory=set, repr=False)
    tokens: Counter[str] = field(default_factory=Counter, repr=False)
    longest: int = 0

    def summary(self) -> dict[str, object]:
        """The counts for the run's ``metrics.json``."""
        return {
            "rows": self.rows,
            "usable": self.usable,
            "train": self.train,
            "val": self.val,
            "invalid": sum(self.invalid.values()),
            "invalid_reasons": dict(sorted(self.invalid.items(), key=lambda kv: -kv[1])),
            "invalid_examples": self.examples,
            "longest_tokens": self.longest,
        }


def is_val_row(row: int) -> bool:
    return row % VAL_EVERY == 0 and row // VAL_EVERY < VAL_ROWS


def pad_batch(encoded: Sequence[Sequence[int]]) -> torch.Tensor:
    """Padded ``B x L`` (``L`` the longest) long tensor of id lists; padding is 0."""
    out = torch.zeros(len(encoded), max(map(len, encoded)), dtype=torch.long)
    for i, ids in enumerate(encoded):
        out[i, : len(ids)] = torch.from_numpy(np.asarray(ids, dtype=np.int64))
    return out


class SmilesCorpus:
    """SMILES in row order, from a file (streamed) or a list.

    Args:
        source: a molecule file, or a sequence of SMILES strings.
        max_rows: read only the first ``max_rows`` rows.
        smiles_col: a table's SMILES column (detected when None).
        holdout: hold every ``VAL_EVERY``-th row out for validation (off: every row trains).
        chunk_size: rows read at a time.
        store_dir: where the encoded rows are memory-mapped from (:class:`TokenStore`); in
            memory when None.
    """

    def __init__(
        self,
        source: str | Path | Sequence[str],
        max_rows: int | None = None,
        smiles_col: str | None = None,
        holdout: bool = True,
        chunk_size: int = 20_000,
        store_dir: str | Path | None = None,
    ):
        self.source = source if isinstance(source, (str, Path)) else list(source)
        self.max_rows, self.smiles_col, self.holdout, self.chunk_size = (
            max_rows,
            smiles_col,
            holdout,
            chunk_size,
        )
        self.scan_: CorpusScan | None = None
        self.store_dir = store_dir
        self._store: tuple[tuple[object, ...], TokenStore] | None = None  # (part, vocabulary), store

    @property
    def path(self) -> str | None:
        return None if isinstance(self.source, list) else str(self.source)

    def raw_chunks(self) -> Iterator[list[RawRecord]]:
        """The rows as raw records, ``chunk_size`` at a time, stopping after ``max_rows``."""
        if isinstance(self.source, list):
            items = self.source[: self.max_rows]
            for start in range(0, len(items), self.chunk_size):
                yield [
                    RawRecord(start + i, None, s)
                    for i, s in enumerate(items[start : start + self.chunk_size])
                ]
            return
        left = self.max_rows
        for chunk in iter_raw_chunks(self.source, self.smiles_col, chunk_size=self.chunk_size):
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            if chunk:
                yield chunk
            if left == 0:
                return

    def scan(self, representation: Representation, max_length: int, progress=None) -> CorpusScan:
        """Read every row once: parse, tokenise, count (see the module docstring).

        Args:
            max_length: rows of more tokens are unusable ("longer than max_length tokens").
            progress: ``advance(n)`` called after each chunk of ``n`` rows.
        """
        scan = CorpusScan()
        parser = MoleculeParser()
        for chunk in self.raw_chunks():
            for record in parser.parse_chunk(chunk):
                reason = record.error if record.mol is None else None
                tokens: list[str] = []
                if reason is None:
                    try:
                        tokens = representation.tokenize(record.smiles)
                    except TokenError as exc:
                        reason = str(exc)
                if reason is None and len(tokens) > max_length:
                    reason = f"longer than max_length ({max_length}) tokens"
                scan.rows += 1
                if reason is not None:
                    key = reason if len(scan.invalid) < 50 or reason in scan.invalid else "other reasons"
                    scan.invalid[key] = scan.invalid.get(key, 0) + 1
                    scan.skipped.add(record.row)
                    if len(scan.examples) < _EXAMPLES:
                        scan.examples.append({"row": record.row, "smiles": record.smiles, "reason": reason})
                    continue
                scan.usable += 1
                scan.tokens.update(tokens)
                scan.longest = max(scan.longest, len(tokens))
                if self.holdout and is_val_row(record.row):
                    scan.val += 1
                else:
                    scan.train += 1
            if progress is not None:
                progress(len(chunk))
        if scan.invalid:
            logger.info("%d of %d training rows are unusable: %s", len(scan.skipped), scan.rows, scan.invalid)
        self.scan_ = scan
        return scan

    def smiles(self, part: str) -> Iterator[tuple[int, str]]:
        """``(row, smiles)`` of the usable rows of ``part`` (``train``, ``val`` or ``all``)."""
        skipped = self.scan_.skipped if self.scan_ is not None else set()
        for chunk in self.raw_chunks():
            for raw in chunk:
                if raw.row in skipped:
                    continue
                held = self.holdout and is_val_row(raw.row)
                if part == "all" or (part == "val") == held:
                    yield raw.row, (raw.text or "").strip()

    def batches(
        self,
        part: str,
        representation: Representation,
        vocabulary: Vocabulary,
        batch_size: int,
        rng: np.random.Generator | None = None,
        window: int = 100_000,
    ) -> Iterator[torch.Tensor]:
        """Padded id batches (``B x L``) of ``part``: in row order, or, when ``rng`` is given, in
        a random order over the whole part, drawn afresh each epoch.

        The rows are encoded once into a :class:`TokenStore` (:meth:`token_store`), so the
        order is global: a file streamed through a bounded shuffle buffer is seen in file order
        at the scale of the buffer, and an ordered file (MOSES's are) then trains the model on its
        last rows most recently. Shuffled batches are length-bucketed (:func:`_length_bucketed`,
        ``window`` rows of the order at a time): each holds rows of similar length, so little of a
        batch is padding (a quarter of MOSES's tokens otherwise).
        """
        store = self.token_store(part, representation, vocabulary)
        order = np.arange(len(store)) if rng is None else rng.permutation(len(store))
        for start in range(0, len(order), window):
            rows = [store.row(i) for i in order[start : start + window]]
            if rng is None:
                batches = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
            else:
                batches = _length_bucketed(rows, batch_size, rng)
            for batch in batches:
                yield pad_batch(batch)

    def token_store(self, part: str, representation: Representation, vocabulary: Vocabulary) -> TokenStore:
        """The encoded rows of ``part``, built on first use with this vocabulary (one more read of
        the data) and kept: in memory, or memory-mapped from files in ``store_dir``.

        Rows the vocabulary cannot encode (only possible for data the scan did not see) are
        left out with a count in the log.
        """
        key = (part, representation.name, tuple(vocabulary.tokens))
        if self._store is None or self._store[0] != key:
            folder = None if self.store_dir is None else Path(self.store_dir) / part
            store = TokenStore.build(self.smiles(part), representation, vocabulary, folder)
            if store.failed:
                logger.warning(
                    "%d rows of %s were skipped: tokens outside the vocabulary", store.failed, part
                )
            self._store = (key, store)
        return self._store[1]


class TokenStore:
    """Encoded rows in two flat arrays: ``ids`` (every row's token ids, one after another, one
    byte per token when the vocabulary has at most 256 tokens) and ``starts`` (where each row
    begins; ``n + 1`` entries). 1.58 M MOSES molecules take 60 MB, against gigabytes as Python
    lists. With a ``folder`` the ids are a file there (``ids.bin``), memory-mapped: the operating
    system pages in the rows an epoch reads, and the process's memory stays bounded.
    """

    def __init__(self, ids: np.ndarray, starts: np.ndarray, failed: int = 0):
        self.ids, self.starts, self.failed = ids, starts, failed

    def __len__(self) -> int:
        return len(self.starts) - 1

    def row(self, index: int) -> np.ndarray:
        """The token ids of row ``index`` (``<bos>`` ... ``<eos>``)."""
        return self.ids[self.starts[index] : self.starts[index + 1]]

    @classmethod
    def build(
        cls,
        smiles: Iterator[tuple[int, str]],
        representation: Representation,
        vocabulary: Vocabulary,
        folder: Path | None = None,
        chunk: int = 50_000,
    ) -> TokenStore:
        """Encode ``(row, smiles)`` pairs, ``chunk`` rows at a time, into a store (see the class)."""
        dtype = np.uint8 if len(vocabulary) <= 256 else np.int32
        pieces: list[np.ndarray] = []
        lengths: list[int] = []
        pending: list[int] = []
        failed = 0
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "ids.bin", "wb") if folder is not None else contextlib.nullcontext() as sink:
            for _, text in smiles:
                try:
                    ids = vocabulary.encode(representation.tokenize(text))
                except TokenError:
                    failed += 1
                    continue
                pending.extend(ids)
                lengths.append(len(ids))
                if len(lengths) % chunk == 0:
                    cls._flush(pending, dtype, pieces, sink)
            cls._flush(pending, dtype, pieces, sink)
        starts = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        if folder is None:
            ids_array = np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)
        elif starts[-1]:
            ids_array = np.memmap(folder / "ids.bin", dtype=dtype, mode="r", shape=(int(starts[-1]),))
        else:
            ids_array = np.zeros(0, dtype=dtype)
        return cls(ids_array, starts, failed)

    @staticmethod
    def _flush(pending: list[int], dtype: type, pieces: list[np.ndarray], sink: Any) -> None:
        array = np.asarray(pending, dtype=dtype)
        pending.clear()
        if sink is None:
            pieces.append(array)
        else:
            sink.write(array.tobytes())


_BUCKET_BATCHES = 32
"""Batches sorted by length together: the rows of 32 shuffled batches are sorted, cut into
batches, and the batches are shuffled again (fairseq's and torchtext's bucketing)."""


def _length_bucketed(
    rows: list[list[int]], batch_size: int, rng: np.random.Generator
) -> list[list[list[int]]]:
    """``rows`` (already shuffled) cut into batches of rows of similar length, in random order."""
    span = batch_size * _BUCKET_BATCHES
    batches = []
    for start in range(0, len(rows), span):
        group = sorted(rows[start : start + span], key=len)
        batches.extend(group[i : i + batch_size] for i in range(0, len(group), batch_size))
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]
