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

Worker memory allocator
-----------------------
A Dask nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (the
``distributed.nanny.pre-spawn-environ`` setting) so that freed memory goes back to the system.
Setting that variable also turns off glibc's adaptive mmap threshold: every tensor above 128 KiB
is then a fresh ``mmap`` whose pages fault in zeroed, and a D-MPNN scores a chunk with about 1.5x
the CPU time of a plain process. The local cluster starts its workers without that variable, and
on any cluster the first chunk a worker screens resets the thresholds to glibc's adaptive limits
(mmap above 32 MiB, trim above 64 MiB) when the variable is set (see :class:`AllocatorTuned`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from biomodels.io.ranges import plan_ranges
from biomodels.screen.scoring import ChunkJob, map_with_models

if TYPE_CHECKING:
    from distributed import Client

    from biomodels.screen.engine import ScreenConfig
    from biomodels.train.run import Run

logger = logging.getLogger(__name__)

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)
_MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
_allocator_tuned = False

LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # see "Worker memory allocator"
    "distributed.worker.profile.enabled": False,  # a stack sample of the task thread every 10 ms
}
"""Dask settings of the local cluster's workers (a nanny hands its config to its worker)."""
TASKS_PER_WORKER = 4
"""Ranges in flight per worker: results come back in input order, so a worker that finished its
ranges early waits for the oldest one unless it holds more; the frames are small."""


def tune_allocator() -> bool:
    """Undo a fixed ``MALLOC_TRIM_THRESHOLD_`` in this process (once); True when it did.

    glibc raises its mmap threshold as large blocks are freed (up to 32 MiB), unless a threshold
    variable is set. With a fixed 64 KiB trim threshold every large tensor is mmapped and
    unmapped again; setting the thresholds back to the adaptive limits keeps such blocks in the
    heap while freed memory above 64 MiB still goes back to the system.
    """
    global _allocator_tuned
    if _allocator_tuned or not sys.platform.startswith("linux") or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return False
    _allocator_tuned = True
    try:
        libc = ctypes.CDLL(None)
        tuned = bool(
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
            and libc.mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD)
        )
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    logger.debug("worker %d: malloc thresholds reset (tuned=%s)", os.getpid(), tuned)
    return tuned


class AllocatorTuned:
    """A chunk job that first undoes the nanny's fixed malloc trim threshold in its worker."""

    def __init__(self, job: ChunkJob):
        self.job = job

    def __call__(self, models: Sequence[Run], item: tuple[int, object]) -> tuple[int, pd.DataFrame]:
        tune_allocator()
        return self.job(models, item)


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
        import dask

        n_workers = workers or os.cpu_count() or 1
        with (
            dask.config.set(LOCAL_CLUSTER_CONFIG),
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
    job: ChunkJob,
    committed: Mapping[int, int],
    cluster: tuple[Executor, int] | None = None,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Screen ``library`` on the cluster ``config.scheduler``: ``(range index, frame)`` in order.

    Args:
        models: loaded runs (workers reload them from their run directories).
        library: the molecule file, at the same path on every worker.
        config: the run's settings (chunk size, columns, scheduler).
        job: what each worker does with a range (a :class:`~biomodels.screen.engine.ScreenJob`,
            a cascade's surrogate job).
        committed: ``{range index: rows}`` already done; skipped, their rows still counted.
        cluster: ``(executor, window)`` of a client already open (:func:`cluster_executor`);
            None opens one for this call.
    """
    ranges = plan_ranges(
        library, config.chunk_size, config.smiles_col, config.id_col, encoding=config.encoding
    )
    items = [(i, r) for i, r in enumerate(ranges) if i not in committed]
    logger.info("%s: %d ranges (%d to screen) on %s", library, len(ranges), len(items), config.scheduler)
    with contextlib.ExitStack() as stack:
        executor, window = cluster or stack.enter_context(cluster_executor(config))
        results = map_with_models(AllocatorTuned(job), items, models, window, executor)
        offset, following = 0, 0
        for index, frame in results:
            offset += sum(committed[j] for j in range(following, index))
            frame["row"] += offset
            offset += len(frame)
            following = index + 1
            yield index, frame


@contextlib.contextmanager
def cluster_executor(config: ScreenConfig) -> Iterator[tuple[Executor, int]]:
    """``(executor, window)`` of a Dask client of ``config.scheduler``, for
    :func:`~biomodels.screen.scoring.map_with_models` (which keeps ``2 * window`` tasks in flight:
    :data:`TASKS_PER_WORKER` per worker)."""
    with dask_client(config.scheduler, config.workers) as client:
        n_workers = max(len(client.scheduler_info()["workers"]), 1)
        yield client.get_executor(pure=False), TASKS_PER_WORKER * n_workers // 2
