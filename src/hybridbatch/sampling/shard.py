"""Slicing a global batch for data-parallel training.

Every rank computes the same global batch from (seed, step) — so all ranks agree on the batch type
and, for X-X, the language — and trains on its own contiguous slice of the pairs.
"""

from __future__ import annotations

from dataclasses import replace

from hybridbatch.errors import ConfigError
from hybridbatch.sampling.batch import Batch


def shard(batch: Batch, rank: int, world_size: int) -> Batch:
    """Rank ``rank``'s slice of ``batch`` (of ``world_size`` ranks).

    Slices are contiguous and their sizes differ by at most one (the first ``B % world_size`` ranks
    get one pair more); use a batch size divisible by ``world_size`` for equal slices. The slice keeps
    step, kind, source, α and language, and adds ``extra["rank"]`` and ``extra["world_size"]``.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ConfigError(f"rank {rank} is not in [0, {world_size}) (world size {world_size})")
    base, rest = divmod(len(batch.pairs), world_size)
    start = rank * base + min(rank, rest)
    stop = start + base + (rank < rest)
    return replace(
        batch, pairs=batch.pairs[start:stop], extra={**batch.extra, "rank": rank, "world_size": world_size}
    )
