"""Screening on a Dask cluster: workers read their own share of the library and load models once.

Needs ``pip install "biomodels[distributed]"``. The client cuts the library into ranges
(:func:`~biomodels.io.ranges.plan_ranges`: byte ranges of text files, row-group ranges of
Parquet) and sends each worker a range, not the molecules. A worker loads the models the first
time a task needs them and keeps them for its later tasks. Results come back in input order and
rows are renumbered as one reader would number them, so the output equals a single-machine run
row for row.

Running on a real cluster
-------------------------
Every worker must see the library and the run directories at the same paths as the client
(a shared filesystem), and run the same environment. Give each worker process one thread
(``--nthreads 1``): each worker scores with one torch thread, so use one worker per core.

Plain machines::

    dask scheduler                                       # on the head node: tcp://HEAD:8786
    dask worker tcp://HEAD:8786 --nworkers 16 --nthreads 1   # on each compute node
    biomodels screen runs/solubility library.smi -o hits.parquet --scheduler tcp://HEAD:8786

SLURM, with ``dask-jobqueue``::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=16, processes=16, memory="32GB", walltime="04:00:00")
    cluster.scale(jobs=8)                # 8 nodes x 16 single-threaded workers
    print(cluster.scheduler_address)     # pass it to --scheduler, or use the Python API:

    from biomodels.screen import ScreenConfig, screen
    screen(["runs/solubility"], "library.smi", "hits.parquet",
           ScreenConfig(scheduler=cluster.scheduler_address))

Kubernetes: run the ``dask/dask`` Helm chart (or the dask-kubernetes operator's ``DaskCluster``)
with an image that has biomodels installed, mount the library and runs on a shared volume, and
pass the scheduler service address (``tcp://dask-scheduler:8786``) to ``--scheduler``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from biomodels.io.ranges import plan_ranges
from biomodels.screen.scoring import map_with_models

if TYPE_CHECKING:
    from distributed import Client

    from biomodels.screen.engine import ScreenConfig, ScreenJob
    from biomodels.train.run import Run

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def dask_client(scheduler: str, workers: int = 0) -> Iterator[Client]:
    """A Dask client for ``scheduler``, closed (with its cluster) when the block ends.

    Args:
        scheduler: ``"local"`` starts a ``LocalCluster`` of single-threaded worker processes on
            this machine; ``"tcp://HOST:PORT"`` connects to a running scheduler.
        workers: local cluster size (0 = one worker per core); ignored for a remote scheduler.
    """
    from distributed import Client, LocalCluster

    if scheduler == "local":
        n_workers = workers or os.cpu_count() or 1
        with (
            LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    else:
        with Client(scheduler) as client:
            yield client


def iter_cluster_chunks(
    models: Sequence[Run],
    library: str | Path,
    config: ScreenConfig,
    job: ScreenJob,
    committed: Mapping[int, int],
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Screen ``library`` on the cluster ``config.scheduler``: ``(range index, frame)`` in order.

    Args:
        models: loaded runs (workers reload them from their run directories).
        library: the molecule file, at the same path on every worker.
        config: the run's settings (chunk size, columns, scheduler).
        job: what each worker does with a range.
        committed: ``{range index: rows}`` already done; skipped, their rows still counted.
    """
    ranges = plan_ranges(
        library, config.chunk_size, config.smiles_col, config.id_col, encoding=config.encoding
    )
    items = [(i, r) for i, r in enumerate(ranges) if i not in committed]
    logger.info("%s: %d ranges (%d to screen) on %s", library, len(ranges), len(items), config.scheduler)
    with dask_client(config.scheduler, config.workers) as client:
        n_workers = max(len(client.scheduler_info()["workers"]), 1)
        results = map_with_models(job, items, models, n_workers, client.get_executor(pure=False))
        offset, following = 0, 0
        for index, frame in results:
            offset += sum(committed[j] for j in range(following, index))
            frame["row"] += offset
            offset += len(frame)
            following = index + 1
            yield index, frame
