"""Sampler settings (:class:`SamplerConfig`) and :func:`build_sampler`, which checks them against the
training collections and raises :class:`~hybridbatch.errors.ConfigError` for impossible settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from itertools import combinations
from math import comb
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from hybridbatch.data import ParallelQACollection
from hybridbatch.errors import ConfigError
from hybridbatch.sampling.hybrid import BatchSampler
from hybridbatch.sampling.pools import SourcePool
from hybridbatch.sampling.schedules import (
    SCHEDULES,
    AdaptiveAlpha,
    AlphaSchedule,
    ConstantAlpha,
    CosineAlpha,
    LinearAlpha,
)

logger = logging.getLogger(__name__)

STRATEGIES = ("hybrid", "xx", "xy", "en-en")
_ALIASES = {"x-x": "xx", "x-y": "xy", "mono": "xx", "cross": "xy", "enen": "en-en", "en": "en-en"}
MAX_ENUMERATED_SUBSETS = 5000


class SamplerConfig(BaseModel):
    """How batches are drawn. Defaults follow the paper: hybrid, constant α = 0.5.

    Attributes:
        strategy: ``hybrid`` (X-X with probability α, else X-Y), ``xx``, ``xy`` or ``en-en``.
        alpha: α, or the start value of a linear/cosine schedule, or the initial α of ``adaptive``.
        schedule: ``constant``, ``linear``, ``cosine`` or ``adaptive`` (see :mod:`.schedules`).
        alpha_end, schedule_steps: end value and length of a linear/cosine schedule
            (``schedule_steps`` defaults to ``steps``).
        adaptive_lr, alpha_min, alpha_max, target_gap: the adaptive rule's parameters.
        languages_per_batch: K, the number of languages one X-Y batch draws from (None: all).
        languages: the training languages (None: every language with questions).
        hard_negatives: up to this many other sentences of each positive's paragraph per pair.
        batch_size: pairs per (global) batch. seed: the stream's seed.
        steps: length of the stream (None: endless).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str = "hybrid"
    alpha: float = 0.5
    schedule: str = "constant"
    alpha_end: float | None = None
    schedule_steps: int | None = None
    adaptive_lr: float = 0.5
    alpha_min: float = 0.1
    alpha_max: float = 0.9
    target_gap: float = 0.0
    languages_per_batch: int | None = None
    languages: list[str] | None = None
    hard_negatives: int = 0
    batch_size: int = 32
    seed: int = 0
    steps: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("strategy", "schedule"):
                if isinstance(data.get(key), str):
                    value = data[key].strip().lower().replace("_", "-")
                    data[key] = _ALIASES.get(value, value) if key == "strategy" else value
        return data

    @model_validator(mode="after")
    def _check(self) -> SamplerConfig:
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"unknown sampler {self.strategy!r} (choose from {', '.join(STRATEGIES)})")
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"unknown alpha schedule {self.schedule!r} (choose from {', '.join(SCHEDULES)})"
            )
        for name in ("alpha", "alpha_end", "alpha_min", "alpha_max"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {value}")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be >= 1, got {self.batch_size}")
        if self.languages_per_batch is not None and self.languages_per_batch < 2:
            raise ConfigError(
                "languages per batch must be >= 2 (an X-Y pair needs two languages), "
                f"got {self.languages_per_batch}"
            )
        if self.hard_negatives < 0:
            raise ConfigError(f"hard negatives must be >= 0, got {self.hard_negatives}")
        if self.steps is not None and self.steps < 0:
            raise ConfigError(f"steps must be >= 0, got {self.steps}")
        if self.schedule in ("linear", "cosine"):
            if self.alpha_end is None:
                raise ConfigError(f"a {self.schedule} alpha schedule needs alpha_end (--alpha-end)")
            if (self.schedule_steps or self.steps) is None:
                raise ConfigError(f"a {self.schedule} alpha schedule needs schedule_steps or steps")
        if self.languages is not None and not self.languages:
            raise ConfigError("languages must not be empty (omit it to train on all languages)")
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamplerConfig:
        """Validate a mapping (e.g. the ``sampler:`` section of a YAML file); errors become ConfigError."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'sampler'}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"invalid sampler settings: {problems}") from None

    def build_schedule(self) -> AlphaSchedule:
        """The α schedule these settings describe."""
        if self.schedule == "constant":
            return ConstantAlpha(self.alpha)
        if self.schedule == "adaptive":
            return AdaptiveAlpha(
                self.alpha, self.adaptive_lr, self.alpha_min, self.alpha_max, self.target_gap
            )
        ramp = LinearAlpha if self.schedule == "linear" else CosineAlpha
        return ramp(self.alpha, self.alpha_end, self.schedule_steps or self.steps)  # type: ignore[arg-type]

    def stream_fields(self) -> dict[str, Any]:
        """The settings that determine the batch stream (everything but its length)."""
        return self.model_dump(exclude={"steps"})


def build_sampler(
    config: SamplerConfig, collections: ParallelQACollection | Sequence[ParallelQACollection]
) -> BatchSampler:
    """A :class:`BatchSampler` over ``collections``; ConfigError when the settings cannot be met."""
    if isinstance(collections, ParallelQACollection):
        collections = [collections]
    if not collections:
        raise ConfigError("no training collections given")
    _check_languages(config, collections)
    pools = [
        SourcePool(name, c, _training_languages(config, c))
        for name, c in zip(_unique_names(collections), collections, strict=True)
    ]
    subsets = []
    for pool in pools:
        _check_pool(config, pool)
        subsets.append(_language_subsets(config, pool))
    return BatchSampler(config, pools, config.build_schedule(), subsets)


def _unique_names(collections: Sequence[ParallelQACollection]) -> list[str]:
    names: list[str] = []
    for c in collections:
        name, n = c.name, 2
        while name in names:
            name, n = f"{c.name}#{n}", n + 1
        names.append(name)
    return names


def _training_languages(config: SamplerConfig, collection: ParallelQACollection) -> list[str]:
    langs = [lang for lang in collection.languages if collection.ids_in(lang)]
    if config.strategy == "en-en":
        return ["en"]
    return [lang for lang in langs if config.languages is None or lang in config.languages]


def _check_languages(config: SamplerConfig, collections: Sequence[ParallelQACollection]) -> None:
    for c in collections:
        have = [lang for lang in c.languages if c.ids_in(lang)]
        if config.strategy == "en-en" and "en" not in have:
            raise ConfigError(
                f"sampler en-en needs English ('en') questions; {c.name} has: {', '.join(have)}"
            )
    if config.languages is not None:
        known = {lang for c in collections for lang in c.languages if c.ids_in(lang)}
        unknown = sorted(set(config.languages) - known)
        if unknown:
            raise ConfigError(
                f"languages {', '.join(unknown)} not in the training data "
                f"(available: {', '.join(sorted(known))})"
            )
        for c in collections:
            if not _training_languages(config, c):
                raise ConfigError(
                    f"{c.name} has none of the training languages {', '.join(config.languages)}"
                )


def _check_pool(config: SamplerConfig, pool: SourcePool) -> None:
    size = config.batch_size
    if config.strategy in ("hybrid", "xx", "en-en"):
        for lang in pool.languages:
            capacity = pool.monolingual(lang).capacity
            if capacity < size:
                raise ConfigError(
                    f"batch size {size} exceeds the {capacity} usable ids of language {lang!r} "
                    f"in {pool.name} "
                    "(ids sharing an answer sentence count once); lower --batch-size or drop the language"
                )
    if config.strategy in ("hybrid", "xy"):
        if len(pool.languages) < 2:
            raise ConfigError(
                f"X-Y batches need at least 2 training languages; {pool.name} has {', '.join(pool.languages)}"
            )
        k = config.languages_per_batch
        if k is not None and k > len(pool.languages):
            raise ConfigError(
                f"languages per batch {k} exceeds the {len(pool.languages)} training languages of {pool.name}"
            )
        if k is None or k == len(pool.languages):
            capacity = pool.cross_lingual(tuple(pool.languages)).capacity
            if capacity < size:
                raise ConfigError(
                    f"batch size {size} exceeds the {capacity} usable ids of {pool.name} that exist in "
                    "two or more training languages"
                )


def _language_subsets(config: SamplerConfig, pool: SourcePool) -> list[tuple[str, ...]]:
    """The K-language subsets an X-Y batch may draw: those with enough ids for a full batch."""
    k = config.languages_per_batch
    if config.strategy not in ("hybrid", "xy") or k is None or k >= len(pool.languages):
        return [tuple(pool.languages)]
    if comb(len(pool.languages), k) > MAX_ENUMERATED_SUBSETS:
        raise ConfigError(
            f"languages per batch {k} of {len(pool.languages)} languages gives more than "
            f"{MAX_ENUMERATED_SUBSETS} language subsets; choose a K closer to 2 or to the number of languages"
        )
    subsets = list(combinations(pool.languages, k))
    feasible = [s for s in subsets if pool.cross_lingual(s).capacity >= config.batch_size]
    if not feasible:
        raise ConfigError(
            f"no {k} languages of {pool.name} share {config.batch_size} ids (batch size); "
            "raise --languages-per-batch or lower --batch-size"
        )
    if len(feasible) < len(subsets):
        dropped = [s for s in subsets if s not in feasible]
        logger.warning(
            "%s: %d of %d language subsets hold fewer ids than a batch and are never drawn: %s",
            pool.name, len(dropped), len(subsets), ", ".join("+".join(s) for s in dropped),
        )  # fmt: skip
    return feasible
