"""Batch samplers for hybrid batch training (arXiv 2408.10536): X-X, X-Y, hybrid and En-En batches.

>>> sampler = build_sampler(SamplerConfig(strategy="hybrid", alpha=0.5, batch_size=32), collection)
>>> for batch in sampler: ...  # Batch(step, kind, pairs=[Pair(id, query_lang, passage_lang)], ...)

The algorithm is in :mod:`hybridbatch.sampling.hybrid`; α schedules in :mod:`.schedules`.
"""

from hybridbatch.sampling.batch import Batch, BatchKind, Pair
from hybridbatch.sampling.build import build_sampler
from hybridbatch.sampling.config import STRATEGIES, SamplerConfig, SamplerSettings, canonical_strategy
from hybridbatch.sampling.hybrid import BatchSampler
from hybridbatch.sampling.pools import answer_groups
from hybridbatch.sampling.schedules import (
    DEFAULT_ALPHA,
    SCHEDULES,
    AdaptiveAlpha,
    AlphaSchedule,
    ConstantAlpha,
    CosineAlpha,
    LinearAlpha,
    ObservingSchedule,
    schedule_from_state,
)
from hybridbatch.sampling.shard import shard

__all__ = [
    "DEFAULT_ALPHA",
    "SCHEDULES",
    "STRATEGIES",
    "AdaptiveAlpha",
    "AlphaSchedule",
    "Batch",
    "BatchKind",
    "BatchSampler",
    "ConstantAlpha",
    "CosineAlpha",
    "LinearAlpha",
    "ObservingSchedule",
    "Pair",
    "SamplerConfig",
    "SamplerSettings",
    "answer_groups",
    "build_sampler",
    "canonical_strategy",
    "schedule_from_state",
    "shard",
]
