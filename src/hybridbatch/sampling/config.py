"""Sampler settings, declared once: :class:`SamplerSettings` (what ``train``, ``batches``, ``compare`` and
YAML files share) and :class:`SamplerConfig` (plus batch size, seed and length of the stream).
:func:`hybridbatch.sampling.build.build_sampler` checks them against the training data."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from hybridbatch.sampling.schedules import (
    DEFAULT_ALPHA,
    SCHEDULES,
    AdaptiveAlpha,
    Probability,
    build_schedule,
)
from hybridbatch.settings import Settings

if TYPE_CHECKING:
    from hybridbatch.sampling.schedules import AlphaSchedule

#: The sampler vocabulary: canonical names, and the aliases every entry point accepts.
STRATEGIES = ("hybrid", "xx", "xy", "en-en")
STRATEGY_ALIASES = {"x-x": "xx", "x-y": "xy", "mono": "xx", "cross": "xy", "enen": "en-en", "en": "en-en"}


# The adaptive rule's defaults are AdaptiveAlpha's own (declared there once).
_ADAPTIVE = {k: p.default for k, p in inspect.signature(AdaptiveAlpha).parameters.items()}


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
    adaptive_lr: float = Field(
        _ADAPTIVE["lr"], ge=0.0, allow_inf_nan=False, description="adaptive: α step size."
    )
    alpha_min: Probability = Field(_ADAPTIVE["alpha_min"], description="adaptive: lower bound of α.")
    alpha_max: Probability = Field(_ADAPTIVE["alpha_max"], description="adaptive: upper bound of α.")
    target_gap: float = Field(
        _ADAPTIVE["target_gap"], allow_inf_nan=False, description="adaptive: balanced mono − cross gap."
    )
    languages_per_batch: int | None = Field(None, ge=2, description="K languages per X-Y batch (ours).")
    languages: list[str] | None = Field(None, description="Training languages (default: all).")
    hard_negatives: int = Field(0, ge=0, description="Hard negatives per pair (same paragraph).")
    hard_negatives_from: Literal["passage", "query", "both"] = Field(
        "passage",
        description="X-Y pairs: hard negatives from the positive's paragraph (passage), the same paragraph "
        "in the query's language (query; the Multi setting's same-language distractors) or both.",
    )

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
        if self.hard_negatives_from != "passage" and not self.hard_negatives:
            raise ValueError(f"hard_negatives_from {self.hard_negatives_from!r} needs hard_negatives >= 1")
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
