"""Sampler settings (:class:`SamplerConfig`) and :func:`build_sampler`, which checks them against the
training collections and raises :class:`~hybridbatch.errors.ConfigError` for impossible settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from itertools import combinations
from math import comb
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from hybridbatch.data import ParallelQACollection
from hybridbatch.errors import ConfigError
from hybridbatch.sampling.hybrid import BatchSampler
from hybridbatch.sampling.pools import SourcePool
from hybridbatch.sampling.schedules import DEFAULT_ALPHA, SCHEDULES, Probability, build_schedule
from hybridbatch.settings import Settings

if TYPE_CHECKING:
    from hybridbatch.sampling.schedules import AlphaSchedule

logger = logging.getLogger(__name__)

#: The sampler vocabulary: canonical names, and the aliases every entry point accepts.
STRATEGIES = ("hybrid", "xx", "xy", "en-en")
STRATEGY_ALIASES = {"x-x": "xx", "x-y": "xy", "mono": "xx", "cross": "xy", "enen": "en-en", "en": "en-en"}
MAX_ENUMERATED_SUBSETS = 5000


def canonical_strategy(value: str) -> str:
    """The canonical name of a sampler strategy or alias (ValueError when unknown)."""
    name = value.strip().lower().replace("_", "-")
    name = STRATEGY_ALIASES.get(name, name)
    if name not in STRATEGIES:
        raise ValueError(f"unknown sampler {value!r} (choose from {', '.join(STRATEGIES)})")
    return name


class SamplerSettings(Settings):
    """How batches are drawn, declared once: used by ``train``, ``batches``, ``compare`` and YAML files.

    Defaults follow the paper (arXiv 2408.10536): hybrid batches with constant α = 0.5.
    """

    FLAT_NAMES: ClassVar[dict[str, str]] = {"strategy": "sampler"}  # the flag and setting are "sampler"

    strategy: str = Field(
        "hybrid", description="Sampler: hybrid, xx, xy or en-en (aliases: x-x, x-y, mono, cross, en)."
    )
    alpha: Probability = Field(
        DEFAULT_ALPHA, description="P(X-X batch); start of linear/cosine, initial adaptive α."
    )
    schedule: str = Field("constant", description="α schedule: constant, linear, cosine or adaptive.")
    alpha_end: Probability | None = Field(None, description="linear/cosine: α at the last step.")
    adaptive_lr: float = Field(0.5, ge=0.0, allow_inf_nan=False, description="adaptive: α step size.")
    alpha_min: Probability = Field(0.1, description="adaptive: lower bound of α.")
    alpha_max: Probability = Field(0.9, description="adaptive: upper bound of α.")
    target_gap: float = Field(0.0, allow_inf_nan=False, description="adaptive: balanced mono − cross gap.")
    languages_per_batch: int | None = Field(None, ge=2, description="K languages per X-Y batch (ours).")
    languages: list[str] | None = Field(None, description="Training languages (default: all).")
    hard_negatives: int = Field(0, ge=0, description="Hard negatives per pair (same paragraph).")

    @field_validator("strategy", mode="before")
    @classmethod
    def _strategy(cls, value: Any) -> Any:
        return canonical_strategy(value) if isinstance(value, str) else value

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in SCHEDULES:
                raise ValueError(f"unknown alpha schedule {value!r} (choose from {', '.join(SCHEDULES)})")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("languages must not be empty (omit it to train on all languages)")
        return value

    @model_validator(mode="after")
    def _combinations(self) -> SamplerSettings:
        if self.alpha_min > self.alpha_max:
            raise ValueError("alpha_min must be <= alpha_max")
        if self.schedule in ("linear", "cosine") and self.alpha_end is None:
            raise ValueError(
                f"a {self.schedule} alpha schedule needs alpha_end (α goes from alpha to alpha_end)"
            )
        if self.schedule != "constant" and self.strategy != "hybrid":
            raise ValueError(f"schedule {self.schedule!r} only applies to sampler 'hybrid'")
        return self


class SamplerConfig(SamplerSettings):
    """:class:`SamplerSettings` plus the stream's batch size, seed and length.

    ``schedule_steps`` (the length of a linear/cosine ramp) defaults to ``steps``; ``steps`` None is an
    endless stream.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule_steps: int | None = Field(None, ge=1, description="Length of a linear/cosine schedule.")
    batch_size: int = Field(32, ge=1, description="Pairs per (global) batch.")
    seed: int = Field(0, ge=0, lt=2**63, description="Seed of the batch stream.")
    steps: int | None = Field(None, ge=0, description="Length of the stream (None: endless).")

    @model_validator(mode="after")
    def _ramp_length(self) -> SamplerConfig:
        if self.schedule in ("linear", "cosine") and (self.schedule_steps or self.steps) is None:
            raise ValueError(f"a {self.schedule} alpha schedule needs schedule_steps or steps")
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamplerConfig:
        """Validate a mapping (e.g. the ``sampler:`` section of a YAML file); errors become ConfigError."""
        return cls.validated(data, source="sampler")

    def build_schedule(self) -> AlphaSchedule:
        """The α schedule these settings describe."""
        return build_schedule(self)

    def stream_fields(self) -> dict[str, Any]:
        """The settings that determine the batch stream (everything but its length), in the saved layout."""
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
