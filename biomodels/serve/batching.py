"""Dynamic batching: concurrent requests for one model are scored together, off the event loop.

A :class:`DynamicBatcher` owns one model's predict function. Each request's items go into a
queue; a background task takes the first waiting request, waits ``max_wait`` seconds for
others to arrive, then scores up to ``max_batch`` items from whole requests in one call on a
single worker thread (the event loop keeps accepting requests meanwhile; torch and ONNX
Runtime release the GIL while they compute), and hands each request its own slice of the
result, rows renumbered from 0. A request is never split, so one larger than ``max_batch``
is scored alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["DynamicBatcher"]

Predict = Callable[[list[str]], pd.DataFrame]
"""Items -> the estimator's prediction frame: one row per item, in order, with ``error``."""


class DynamicBatcher:
    """Coalesce concurrent requests into batched calls of ``predict`` (module docstring).

    Args:
        predict: scores a list of items (one model's ``Run.predict``).
        max_batch: items per call, at most (whole requests are never split).
        max_wait: seconds the first request of a batch waits for others to join.
    """

    def __init__(self, predict: Predict, max_batch: int = 4096, max_wait: float = 0.005):
        self.predict = predict
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.batches = 0
        self.items = 0
        self._queue: asyncio.Queue[tuple[list[str], asyncio.Future[pd.DataFrame]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Start the batching task on the running event loop."""
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="biomodels-serve")
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the batching task and its worker thread (requests still queued are cancelled)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        while self._queue is not None and not self._queue.empty():
            self._queue.get_nowait()[1].cancel()

    @property
    def pending(self) -> int:
        """Requests waiting to be scored."""
        return 0 if self._queue is None else self._queue.qsize()

    async def submit(self, items: list[str]) -> pd.DataFrame:
        """Score ``items`` (batched with concurrent requests): their rows of the prediction frame."""
        if self._queue is None:
            raise RuntimeError("the batcher is not started; call start() on the serving event loop")
        future: asyncio.Future[pd.DataFrame] = asyncio.get_running_loop().create_future()
        await self._queue.put((items, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            pending = [await self._queue.get()]
            await asyncio.sleep(self.max_wait)  # the wait budget: let concurrent requests join
            size = len(pending[0][0])
            while size < self.max_batch and not self._queue.empty():
                pending.append(self._queue.get_nowait())
                size += len(pending[-1][0])
            items = [item for request, _ in pending for item in request]
            try:
                frame = await loop.run_in_executor(self._executor, self.predict, items)
            except Exception as exc:  # the model failed as a whole: every waiting request gets it
                logger.exception("prediction of a batch of %d items failed", len(items))
                for _, future in pending:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches += 1
            self.items += len(items)
            parts = _split(frame, [len(request) for request, _ in pending])
            for (_, future), part in zip(pending, parts, strict=True):
                if not future.done():
                    future.set_result(part)


def _split(frame: pd.DataFrame, sizes: Sequence[int]) -> list[pd.DataFrame]:
    """``frame`` cut into consecutive parts of ``sizes`` rows, each numbered from 0 again.

    Items given as a list are numbered by position: ``row`` (and the text models' ``id``,
    which is the row as a string) counted across the batch; each request gets its own.
    """
    parts, start = [], 0
    for size in sizes:
        part = frame.iloc[start : start + size].reset_index(drop=True)
        start += size
        if "row" in part:
            part["row"] = np.arange(size, dtype=np.int64)
        if "id" in part and part["id"].notna().any():
            part["id"] = [str(i) for i in range(size)]
        parts.append(part)
    return parts
