"""Global batches sliced per DDP rank."""

from __future__ import annotations

import pytest

from hybridbatch.errors import ConfigError
from hybridbatch.sampling import SamplerConfig, build_sampler, shard


@pytest.mark.parametrize("world_size", [1, 2, 3, 4, 5])
def test_shards_partition_the_global_batch(synth, world_size):
    sampler = build_sampler(SamplerConfig(batch_size=16, steps=20), synth)
    for batch in sampler:
        parts = [shard(batch, rank, world_size) for rank in range(world_size)]
        assert [p for part in parts for p in part.pairs] == batch.pairs
        assert max(len(p.pairs) for p in parts) - min(len(p.pairs) for p in parts) <= 1
        for rank, part in enumerate(parts):
            assert (part.step, part.kind, part.language, part.source, part.alpha) == (
                batch.step,
                batch.kind,
                batch.language,
                batch.source,
                batch.alpha,
            )
            assert part.extra == {"rank": rank, "world_size": world_size}
            assert part.to_json()["rank"] == rank


def test_ranks_compute_the_same_global_batch(synth):
    """Each rank builds its own sampler; their slices are disjoint and cover the batch."""
    config = SamplerConfig(batch_size=12, steps=10, seed=7)
    per_rank = [[shard(b, rank, 3) for b in build_sampler(config, synth)] for rank in range(3)]
    for step in range(10):
        ids = [p.id for rank in range(3) for p in per_rank[rank][step].pairs]
        assert len(ids) == len(set(ids)) == 12
        assert len({per_rank[rank][step].kind for rank in range(3)}) == 1


def test_bad_rank():
    from hybridbatch.sampling import Batch

    with pytest.raises(ConfigError, match="rank 2 is not in"):
        shard(Batch(0, "xx", []), 2, 2)
