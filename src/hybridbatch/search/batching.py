"""Dynamic micro-batching: concurrent requests share one model call.

Requests put jobs on a bounded asyncio queue; one worker coroutine takes the first job, waits at most
``max_wait`` seconds for more (up to ``max_batch`` items in total) and hands the whole batch to
``process`` on a single dedicated thread, so the event loop never blocks and no lock is held across
encoding. This is the dynamic batching of inference servers (e.g. NVIDIA Triton, Clipper: Crankshaw
et al., NSDI 2017). ``max_batch=1`` gives the naive one-request-one-call baseline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


class Overloaded(Exception):
    """The queue is full (or the batcher is stopping): the caller should answer 503."""


class ShuttingDown(Overloaded):
    """The server is shutting down: the job was dropped (:meth:`MicroBatcher.abort`)."""


@dataclass
class Job:
    """One unit of work: ``size`` items (e.g. queries) and the future its result goes to."""

    payload: Any
    size: int
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Group concurrent jobs into calls of ``process(payloads) -> results`` (one result per payload).

    ``max_batch`` bounds the items per call (a job larger than that runs alone), ``max_wait`` how long
    the first job of a batch waits for company, ``max_queue`` the jobs waiting (beyond it :meth:`submit`
    raises :class:`Overloaded`). ``calls`` and ``batched_items`` count what went to ``process``.
    """

    def __init__(
        self,
        process: Callable[[list[Any]], Sequence[Any]],
        max_batch: int = 32,
        max_wait: float = 0.005,
        max_queue: int = 1024,
    ):
        if max_batch < 1 or max_wait < 0 or max_queue < 1:
            raise ValueError("max_batch and max_queue must be >= 1 and max_wait >= 0")
        self.process = process
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait, max_queue
        self.calls = 0
        self.batched_items = 0
        self._queue: asyncio.Queue[Job] | None = None
        self._held: Job | None = None
        self._running: list[Job] = []
        self._worker: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._busy = False
        self._closing = False

    @property
    def queued(self) -> int:
        """Jobs waiting for the worker."""
        return (self._queue.qsize() if self._queue else 0) + (self._held is not None)

    async def start(self) -> None:
        """Start the worker on the running loop (call once, e.g. at application startup)."""
        self._queue = asyncio.Queue(self.max_queue)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hybridbatch-encoder")
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="micro-batcher")

    async def stop(self, timeout: float = 30.0) -> None:
        """Refuse new jobs, finish the queued ones (for at most ``timeout`` s), then stop the thread.

        Jobs still waiting after ``timeout`` fail with :class:`Overloaded`.
        """
        self._closing = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self.queued or self._busy) and self._worker and not self._worker.done():
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.01)
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        pending = [self._held] if self._held else []
        self._held = None
        while self._queue is not None and not self._queue.empty():
            pending.append(self._queue.get_nowait())
        for job in pending:
            if not job.future.done():
                job.future.set_exception(Overloaded("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def abort(self) -> None:
        """Refuse new jobs and fail every waiting and running job with :class:`ShuttingDown` now
        (a running encode call finishes on its thread; its results are dropped)."""
        self._closing = True
        jobs, self._held = [*self._running, *([self._held] if self._held else [])], None
        while self._queue is not None and not self._queue.empty():
            jobs.append(self._queue.get_nowait())
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(ShuttingDown("the server is shutting down"))

    async def submit(self, payload: Any, size: int = 1) -> Any:
        """Queue ``payload`` (``size`` items) and wait for its result."""
        if self._closing or self._queue is None or self._worker is None or self._worker.done():
            raise Overloaded("the encoder is not running (the server is starting or stopping)")
        job = Job(payload, size, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise Overloaded(f"{self.max_queue} requests are already waiting") from None
        return await job.future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            batch = [job for job in batch if not job.future.done()]  # cancelled: client gone
            if not batch:
                continue
            self.calls += 1
            self.batched_items += sum(job.size for job in batch)
            self._busy, self._running = True, batch
            try:
                results = await loop.run_in_executor(self._executor, self.process, [j.payload for j in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"process returned {len(results)} results for {len(batch)} jobs")
            except asyncio.CancelledError:
                results = [Overloaded("the server is shutting down")] * len(batch)
                self._deliver(batch, results)
                raise
            except Exception as exc:  # the error of this batch goes to its requests, the worker goes on
                results = [exc] * len(batch)
            finally:
                self._busy, self._running = False, []
            self._deliver(batch, results)

    @staticmethod
    def _deliver(batch: list[Job], results: Sequence[Any]) -> None:
        for job, result in zip(batch, results, strict=True):
            if job.future.done():
                continue
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    async def _collect(self) -> list[Job]:
        """The next batch: the first job, then whatever arrives within ``max_wait`` and fits."""
        assert self._queue is not None
        first, self._held = self._held or await self._queue.get(), None
        batch, size = [first], first.size
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while size < self.max_batch:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                if remaining <= 0 or not self._queue.empty():
                    job = self._queue.get_nowait()
                else:
                    job = await asyncio.wait_for(self._queue.get(), remaining)
            except (asyncio.QueueEmpty, TimeoutError):
                break
            if size + job.size > self.max_batch:
                self._held = job  # first in the next batch
                break
            batch.append(job)
            size += job.size
        return batch
