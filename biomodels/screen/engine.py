"""Screening chunks: parse, compute properties, filter, predict; one output row per input row.

:class:`ScreenJob` is the work done on one chunk (in this process, a pool worker or a Dask
worker, which each load the models once). :func:`iter_chunks` streams a whole library through
it, in input order, on a process pool or a Dask cluster; :func:`iter_screen` is the notebook form
that yields plain DataFrames.

Columns of a screened chunk, in order:

- ``row`` (0-based input record), ``id``, ``smiles``;
- per model target: the prediction, ``<column>_std`` (uncertainty) and, for regression,
  ``<column>_in_range``, then ``nn_similarity``, ``nn_id``, ``in_domain`` (unless ``domain`` is
  off), as in :func:`~biomodels.screen.scoring.score_parsed`; column names are
  ``<model>:<name>`` when several models score together;
- the properties (``mw``, ``clogp``...; NaN for rows that did not parse);
- filter flags: ``pass_<criterion>`` for the sane-chemistry terms (``sanity``, by default
  :data:`~biomodels.screen.options.DEFAULT_SANITY`) and then the ``filters``, ``<alert>_match``
  texts and ``passes_all`` (see :mod:`biomodels.chem.filters`);
- ``error``: why the row could not be scored (unparsable SMILES, model failure), else missing;
- with ``filter_first``: ``note``, saying which filters a valid molecule failed so that it was
  not scored (its predictions are NaN; its ``error`` stays empty: it is not an error).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from biomodels.chem.filters import (
    PASSES_ALL,
    Criterion,
    apply_filters,
    load_smarts_filters,
    parse_filter_expression,
    pass_column,
)
from biomodels.chem.properties import PROPERTIES, compute_properties
from biomodels.exceptions import InputError, UnknownNameError
from biomodels.io.molecules import MoleculeParser, RawRecord, iter_raw_chunks
from biomodels.io.ranges import LibraryRange, read_range
from biomodels.io.textfiles import DEFAULT_ENCODING, check_encoding
from biomodels.registry import ENGINES
from biomodels.screen.options import DEFAULT_PROPERTIES, DEFAULT_SANITY, POOLS
from biomodels.screen.scoring import DomainOptions, map_with_models, score_parsed
from biomodels.train.run import Run, load_run

logger = logging.getLogger(__name__)

Chunk = list[RawRecord] | LibraryRange
"""What a job receives: raw records read by the client, or a file range a worker reads itself."""


@dataclass
class ScreenConfig:
    """What a screening run computes for every row, and where it runs.

    Attributes:
        smiles_col: SMILES column of a table library (detected when None).
        id_col: id column (detected when None).
        properties: names from :data:`~biomodels.chem.properties.PROPERTIES` computed per row.
        filters: a filter expression such as ``"qed>=0.5,sa<=4,pains"`` (see
            :func:`~biomodels.chem.filters.parse_filter_expression`), or None.
        smarts: a SMARTS alert file, added as the criterion ``smarts``.
        sanity: the sane-chemistry filter expression applied before ``filters`` (default:
            :data:`~biomodels.screen.options.DEFAULT_SANITY`); None or ``""``: none.
        domain: add the applicability-domain columns (see :mod:`biomodels.chem.domain`).
        min_similarity: their ``in_domain`` threshold; None: each model's saved one.
        filter_first: molecules failing a filter are not scored (they cost no inference) and
            get a ``note``; they still appear in the output.
        standardize: standardise molecules before everything else (largest fragment, neutral).
        encoding: the library's text encoding (UTF-8 by default), decoded strictly.
        chunk_size: records per chunk: the unit of work, of memory and of resumable progress.
        workers: parallel jobs (0 = every core); with a Dask scheduler, the local cluster's workers.
        pool: ``"threads"`` (one process: one copy of the models, the least memory) or
            ``"processes"`` (one process per worker); see :func:`map_with_models`.
        scheduler: None for this machine's process pool; ``"local"`` for a Dask ``LocalCluster``;
            ``"tcp://HOST:PORT"`` for a running Dask scheduler.
        engine: what runs the networks, an :data:`~biomodels.registry.ENGINES` key (``torch``,
            ``onnxruntime``).
    """

    smiles_col: str | None = None
    id_col: str | None = None
    properties: Sequence[str] = DEFAULT_PROPERTIES
    filters: str | None = None
    smarts: str | None = None
    sanity: str | None = DEFAULT_SANITY
    domain: bool = True
    min_similarity: float | None = None
    filter_first: bool = False
    standardize: bool = False
    encoding: str = DEFAULT_ENCODING
    chunk_size: int = 2000
    workers: int = 0
    pool: str = "threads"
    scheduler: str | None = None
    engine: str = "torch"

    def __post_init__(self) -> None:
        self.properties = tuple(self.properties)
        for name in self.properties:
            PROPERTIES.get(name)  # unknown names fail here, listing the valid ones
        if self.chunk_size < 1:
            raise InputError(None, f"chunk size must be positive, got {self.chunk_size}")
        if self.pool not in POOLS:
            raise UnknownNameError("pool", self.pool, list(POOLS))
        self.domain_options()  # a threshold out of range fails here
        if self.filter_first and not (self.filters or self.smarts or self.sanity):
            raise InputError(None, "filter-first needs filters, sanity terms or a SMARTS file")
        check_encoding(self.encoding)
        ENGINES.get(self.engine)  # an unknown name raises, listing the valid ones

    def criteria(self) -> list[Criterion]:
        """The filter criteria: the sane-chemistry terms, the expression's (a term already among
        them is not repeated), then the SMARTS file's."""
        criteria = parse_filter_expression(self.sanity) if self.sanity else []
        for criterion in parse_filter_expression(self.filters) if self.filters else []:
            if all(criterion.name != c.name for c in criteria):
                criteria.append(criterion)
        if self.smarts:
            criteria.append(load_smarts_filters(self.smarts))
        return criteria

    def domain_options(self) -> DomainOptions:
        return DomainOptions(self.domain, self.min_similarity)

    def output_options(self) -> dict[str, object]:
        """The settings that decide the output rows (a resumed run must use the same ones)."""
        options = asdict(self)
        for key in (
            "workers",
            "pool",
            "scheduler",
            "engine",
        ):  # where the rows are computed does not change them
            options.pop(key)
        return options


@dataclass
class ScreenJob:
    """Screen one chunk; picklable, so pool and Dask workers run it with their loaded models.

    Attributes:
        properties: property columns to compute.
        criteria: filter criteria (may be empty).
        filter_first: skip inference for molecules failing a criterion.
        parser: turns raw records into molecules.
        domain: the applicability-domain columns.
    """

    properties: tuple[str, ...]
    criteria: list[Criterion] = field(default_factory=list)
    filter_first: bool = False
    parser: MoleculeParser = field(default_factory=MoleculeParser)
    domain: DomainOptions = field(default_factory=DomainOptions)

    @classmethod
    def from_config(cls, config: ScreenConfig) -> ScreenJob:
        return cls(
            tuple(config.properties),
            config.criteria(),
            config.filter_first,
            MoleculeParser(standardize=config.standardize),
            config.domain_options(),
        )

    def __call__(self, models: Sequence[Run], item: tuple[int, Chunk]) -> tuple[int, pd.DataFrame]:
        """Screen chunk ``item = (index, records or range)``; returns ``(index, frame)``.

        A range's rows are numbered from 0 (see :mod:`biomodels.io.ranges`).
        """
        index, chunk = item
        raws = read_range(chunk) if isinstance(chunk, LibraryRange) else chunk
        return index, self.screen(models, raws)

    def screen(self, models: Sequence[Run], raws: list[RawRecord]) -> pd.DataFrame:
        """One output row per raw record, columns as in the module docstring."""
        records = self.parser.parse_chunk(raws)
        mols = [r.mol if r.ok else None for r in records]
        needed = [*self.properties, *(p for c in self.criteria for p in c.properties)]
        properties = compute_properties(mols, list(dict.fromkeys(needed)))
        blocks = [properties[list(self.properties)]]
        mask = None
        if self.criteria:
            flags = apply_filters(mols, self.criteria, properties=properties)
            blocks.append(flags.drop(columns=properties.columns, errors="ignore"))
            if self.filter_first:
                mask = flags[PASSES_ALL].to_numpy()
        scored = score_parsed(models, records, mask, self.domain)
        frame = pd.concat([scored.drop(columns="error"), *blocks, scored["error"]], axis=1)
        if mask is not None:
            frame["note"] = self._notes(flags, np.array([r.ok for r in records]) & ~mask)
        return frame

    def _notes(self, flags: pd.DataFrame, skipped: np.ndarray) -> pd.Series:
        """``not scored: failed <criteria>`` for the valid molecules the filters kept from scoring."""
        notes = pd.Series([None] * len(flags), dtype=object)
        failed = ~flags[[pass_column(c.name) for c in self.criteria]].to_numpy()
        names = np.array([c.name for c in self.criteria])
        for i in np.flatnonzero(skipped):
            notes[i] = "not scored: failed " + ", ".join(names[failed[i]])
        return notes


def load_models(run_dirs: Sequence[str | Path], engine: str = "torch") -> list[Run]:
    """Load trained runs; names are the folder names, numbered when two are the same."""
    names = [Path(d).name for d in run_dirs]
    unique = [f"{n}{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]
    return [load_run(d, n, engine) for d, n in zip(run_dirs, unique, strict=True)]


def iter_chunks(
    models: Sequence[Run],
    library: str | Path,
    config: ScreenConfig,
    committed: Mapping[int, int] | None = None,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Screen ``library`` chunk by chunk, in input order: ``(chunk index, frame)`` pairs.

    Args:
        models: loaded runs.
        library: any file :func:`~biomodels.io.read_molecules` reads.
        config: the run's settings.
        committed: ``{chunk index: rows}`` of chunks already done (a resumed run); they are
            read past but not screened again.
    """
    committed = committed or {}
    job = ScreenJob.from_config(config)
    if config.scheduler:
        from biomodels.screen.distributed import iter_cluster_chunks

        yield from iter_cluster_chunks(models, library, config, job, committed)
        return
    raw_chunks = iter_raw_chunks(
        library, config.smiles_col, config.id_col, config.chunk_size, encoding=config.encoding
    )
    items = ((i, raws) for i, raws in enumerate(raw_chunks) if i not in committed)
    yield from map_with_models(job, items, models, config.workers, pool=config.pool)


def iter_screen(
    run_dirs: Sequence[str | Path], library: str | Path, config: ScreenConfig | None = None
) -> Iterator[pd.DataFrame]:
    """Screen a library and yield its scored chunks as DataFrames, in input order.

    For notebooks and pipelines: nothing is written and memory stays bounded by the chunk
    size. Every input row appears exactly once (columns: see this module's docstring).

    Example::

        for chunk in iter_screen(["runs/solubility"], "library.smi"):
            hits.append(chunk[chunk["logp"] > 3])
    """
    config = config or ScreenConfig()
    for _, frame in iter_chunks(load_models(run_dirs, config.engine), library, config):
        yield frame
