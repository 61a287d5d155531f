"""The micro-batcher on its own: grouping, splitting at max_batch, errors, back-pressure, shutdown."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hybridbatch.search.batching import MicroBatcher, Overloaded


class Recorder:
    """``process``: answers each payload doubled, records the batches; ``gate`` holds calls."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, payloads: list[int]) -> list[int]:
        self.batches.append(list(payloads))
        assert self.gate.wait(10)
        if any(p < 0 for p in payloads):
            raise ValueError("negative")
        return [2 * p for p in payloads]


async def wait_until(condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


def test_waiting_jobs_share_a_call_and_respect_max_batch() -> None:
    recorder = Recorder()

    async def scenario() -> tuple[list[int], int, int]:
        batcher = MicroBatcher(recorder, max_batch=4, max_wait=0)
        await batcher.start()
        recorder.gate.clear()
        first = asyncio.ensure_future(batcher.submit(0))
        await wait_until(lambda: recorder.batches == [[0]])
        sizes = [1, 2, 1, 3, 1]  # 1+2+1 fill a batch of 4; 3 does not fit and starts the next
        rest = [asyncio.ensure_future(batcher.submit(i + 1, size)) for i, size in enumerate(sizes)]
        await wait_until(lambda: batcher.queued == 5)
        recorder.gate.set()
        results = await asyncio.gather(first, *rest)
        await batcher.stop()
        return results, batcher.calls, batcher.batched_items

    assert asyncio.run(scenario()) == ([0, 2, 4, 6, 8, 10], 3, 9)
    assert recorder.batches == [[0], [1, 2, 3], [4, 5]]


def test_a_failing_batch_fails_its_jobs_and_the_worker_goes_on() -> None:
    recorder = Recorder()

    async def scenario() -> int:
        batcher = MicroBatcher(recorder, max_batch=8, max_wait=0)
        await batcher.start()
        with pytest.raises(ValueError, match="negative"):
            await batcher.submit(-1)
        result = await batcher.submit(5)
        await batcher.stop()
        return result

    assert asyncio.run(scenario()) == 10


def test_full_queue_and_stopped_batcher_raise_overloaded() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        batcher = MicroBatcher(recorder, max_batch=1, max_wait=0, max_queue=2)
        with pytest.raises(Overloaded):
            await batcher.submit(1)  # not started
        await batcher.start()
        recorder.gate.clear()
        busy = asyncio.ensure_future(batcher.submit(1))
        await wait_until(lambda: len(recorder.batches) == 1)
        queued = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3)]
        await wait_until(lambda: batcher.queued == 2)
        with pytest.raises(Overloaded, match="already waiting"):
            await batcher.submit(4)
        recorder.gate.set()
        assert await asyncio.gather(busy, *queued) == [2, 4, 6]
        await batcher.stop()
        with pytest.raises(Overloaded):
            await batcher.submit(5)

    asyncio.run(scenario())


def test_stop_finishes_queued_jobs_first() -> None:
    recorder = Recorder()

    async def scenario() -> list[int]:
        batcher = MicroBatcher(recorder, max_batch=2, max_wait=0)
        await batcher.start()
        recorder.gate.clear()
        jobs = [asyncio.ensure_future(batcher.submit(i)) for i in (1, 2, 3)]
        await wait_until(lambda: recorder.batches)
        stopping = asyncio.ensure_future(batcher.stop(timeout=10))
        await asyncio.sleep(0.05)
        recorder.gate.set()
        await stopping
        return await asyncio.gather(*jobs)

    assert asyncio.run(scenario()) == [2, 4, 6]


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        MicroBatcher(Recorder(), max_batch=0)
