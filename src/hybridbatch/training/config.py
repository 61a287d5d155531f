"""``TrainConfig``: every setting of ``hybridbatch train``, from a YAML file and/or flags.

Defaults follow the paper (arXiv 2408.10536: AdamW, lr 3e-5, weight decay 0.01, hybrid batches with
α = 0.5) where it gives one; the rest is *ours* and documented per field.

Steps and epochs: give at most one. One *epoch* is the number of training pairs divided by the
global batch size, where the number of training pairs is the number of questions (one per parallel id
and language) in the training split of all training datasets — i.e. an epoch draws about as many pairs
as there are training questions. Fractional epochs are allowed; steps are rounded up. With neither,
training runs one epoch.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hybridbatch.errors import ConfigError

if TYPE_CHECKING:
    from hybridbatch.sampling import SamplerConfig

EVAL_ONLY_DATASETS = ("xquad-r",)

# Keys that may change between a run and its resume without changing what is trained.
RESUME_SAFE_KEYS = frozenset(
    {"out", "checkpoint_every", "keep_checkpoints", "log_batches", "device", "num_threads", "show_progress"}
)


class TrainConfig(BaseModel):
    """Settings of one training run (see the module docstring for steps vs epochs)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- what to train, on what ---------------------------------------------------------------
    model: str = Field("builtin:multilingual-e5-small", description="Model spec (builtin:*, path).")
    data: list[str] = Field(default_factory=lambda: ["mlqa-r"], description="Training dataset specs.")
    languages: list[str] | None = Field(None, description="Restrict training to these languages.")
    # --- batches (hybridbatch.sampling) ---------------------------------------------------------
    sampler: Literal["hybrid", "xx", "xy", "en-en"] = "hybrid"
    alpha: float = Field(0.5, ge=0.0, le=1.0, description="P(X-X batch); start value of linear/cosine.")
    schedule: Literal["constant", "linear", "cosine", "adaptive"] = "constant"
    alpha_end: float | None = Field(None, ge=0.0, le=1.0, description="linear/cosine: α at the last step.")
    adaptive_every: int = Field(100, ge=1, description="adaptive: steps between dev scorings.")
    adaptive_lr: float = Field(0.5, ge=0.0, description="adaptive: α += lr · (target_gap − (mono − cross)).")
    alpha_min: float = Field(0.1, ge=0.0, le=1.0, description="adaptive: lower bound of α.")
    alpha_max: float = Field(0.9, ge=0.0, le=1.0, description="adaptive: upper bound of α.")
    target_gap: float = Field(0.0, description="adaptive: the mono − cross mAP gap considered balanced.")
    languages_per_batch: int | None = Field(None, ge=2, description="K languages per X-Y batch.")
    hard_negatives: int = Field(0, ge=0, description="Hard negatives per pair (same paragraph).")
    # --- objective and optimisation -------------------------------------------------------------
    loss: Literal["infonce", "symmetric", "bce"] = "infonce"
    temperature: float = Field(0.05, gt=0.0)
    batch_size: int = Field(32, ge=2, description="Global batch size (pairs per step, all ranks).")
    lr: float = Field(3e-5, gt=0.0)
    weight_decay: float = Field(0.01, ge=0.0)
    warmup_steps: int | None = Field(None, ge=0, description="Linear warmup; None = 10% of steps.")
    max_grad_norm: float | None = Field(1.0, gt=0.0, description="Gradient clipping; None = off.")
    steps: int | None = Field(None, ge=1)
    epochs: float | None = Field(None, gt=0.0)
    max_query_length: int = Field(64, ge=4)
    max_passage_length: int = Field(128, ge=4)
    padding: Literal["longest", "max_length"] = Field(
        "longest", description="Pad each side to its longest text (dynamic) or to its max length."
    )
    bf16: bool = Field(False, description="bfloat16 autocast on CUDA (ignored on CPU).")
    freeze_embeddings: bool = Field(
        True, description="Freeze the word-embedding matrix (~1/3 faster CPU steps; keeps unseen languages)."
    )
    mini_batch_size: int | None = Field(None, ge=1, description="GradCache chunk size; None = off.")
    cross_device_negatives: bool = True
    seed: int = 0
    # --- dev split and evaluation ---------------------------------------------------------------
    dev_fraction: float = Field(0.05, ge=0.0, lt=1.0, description="Held-out parallel ids per dataset.")
    split_seed: int = Field(0, description="Seed of the train/dev split (independent of `seed`).")
    eval_every: int = Field(0, ge=0, description="Dev evaluation every N steps (0 = only at the end).")
    # --- output ---------------------------------------------------------------------------------
    out: Path = Field(..., description="Run directory (checkpoints, metrics, final model).")
    checkpoint_every: int = Field(500, ge=0, description="0 = no intermediate checkpoints.")
    keep_checkpoints: int = Field(1, ge=1)
    log_batches: Path | None = None
    device: str | None = Field(None, description="cpu, cuda, cuda:1 …; None = cuda when available.")
    num_threads: int | None = Field(None, ge=1, description="torch CPU threads (None = torch default).")
    show_progress: bool = True

    @field_validator("data")
    @classmethod
    def _check_data(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one training dataset is required")
        for spec in value:
            if spec in EVAL_ONLY_DATASETS:
                raise ValueError(f"{spec} is an evaluation-only dataset; train on mlqa-r or your own data")
        if len(set(value)) != len(value):
            raise ValueError("a dataset is listed twice")
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> TrainConfig:
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        if self.alpha_min > self.alpha_max:
            raise ValueError("alpha_min must be <= alpha_max")
        if self.schedule in ("linear", "cosine") and self.alpha_end is None:
            raise ValueError(f"schedule {self.schedule!r} needs alpha_end (α goes from alpha to alpha_end)")
        if self.schedule == "adaptive" and self.dev_fraction == 0:
            raise ValueError("schedule 'adaptive' needs a dev split: set dev_fraction > 0")
        if self.schedule != "constant" and self.sampler != "hybrid":
            raise ValueError(f"schedule {self.schedule!r} only applies to sampler 'hybrid'")
        if self.mini_batch_size is not None and self.mini_batch_size > self.batch_size:
            raise ValueError("mini_batch_size must be <= batch_size")
        return self

    # --- derived --------------------------------------------------------------------------------
    def total_steps(self, num_train_pairs: int) -> int:
        """Number of optimizer steps: ``steps``, else ``ceil(epochs · pairs / batch_size)``."""
        if self.steps is not None:
            return self.steps
        epochs = 1.0 if self.epochs is None else self.epochs
        return max(1, math.ceil(epochs * num_train_pairs / self.batch_size))

    def sampler_config(self, total_steps: int) -> SamplerConfig:
        """The :class:`~hybridbatch.sampling.SamplerConfig` of this run (ramps span ``total_steps``)."""
        from hybridbatch.sampling import SamplerConfig

        return SamplerConfig(
            strategy=self.sampler,
            alpha=self.alpha,
            schedule=self.schedule,
            alpha_end=self.alpha_end,
            schedule_steps=total_steps,
            adaptive_lr=self.adaptive_lr,
            alpha_min=self.alpha_min,
            alpha_max=self.alpha_max,
            target_gap=self.target_gap,
            languages_per_batch=self.languages_per_batch,
            languages=self.languages,
            hard_negatives=self.hard_negatives,
            batch_size=self.batch_size,
            seed=self.seed,
            steps=total_steps,
        )

    def resolved_warmup(self, total_steps: int) -> int:
        """Warmup steps: the configured value, or 10% of ``total_steps``."""
        return self.warmup_steps if self.warmup_steps is not None else int(0.1 * total_steps)

    def material(self) -> dict[str, Any]:
        """The settings that determine the trained weights (everything but :data:`RESUME_SAFE_KEYS`)."""
        return {k: v for k, v in self.model_dump(mode="json").items() if k not in RESUME_SAFE_KEYS}

    def fingerprint(self) -> str:
        """A short hash of :meth:`material`: equal for runs that must produce the same weights."""
        text = json.dumps(self.material(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def differences(self, other: dict[str, Any]) -> list[str]:
        """Material keys whose values differ from ``other`` (a :meth:`material` dump), as ``key: a -> b``."""
        mine = self.material()
        keys = sorted(set(mine) | set(other))
        return [f"{k}: {other.get(k)!r} -> {mine.get(k)!r}" for k in keys if mine.get(k) != other.get(k)]


def _normalise_keys(raw: dict[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise ConfigError(f"{source}: key {key!r} is not a string")
        out[key.replace("-", "_")] = value
    return out


def read_yaml_config(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML config file (ConfigError if unreadable or not a mapping)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a mapping of settings, got {type(raw).__name__}")
    return _normalise_keys(raw, str(path))


def load_train_config(path: str | Path | None = None, **overrides: Any) -> TrainConfig:
    """Build a :class:`TrainConfig` from a YAML file and keyword overrides (flags win; None = unset).

    Raises:
        ConfigError: an unknown key or a bad value; the message names the key (and the file).
    """
    values: dict[str, Any] = read_yaml_config(path) if path is not None else {}
    source = str(path) if path is not None else "flags"
    values.update({k.replace("-", "_"): v for k, v in overrides.items() if v is not None})
    if isinstance(values.get("data"), str):
        values["data"] = [values["data"]]
    if isinstance(values.get("languages"), str):
        values["languages"] = [s for s in values["languages"].split(",") if s]
    try:
        return TrainConfig(**values)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    """The first validation error as ``key: message`` (unknown keys named as such)."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "config"
    if err["type"] == "extra_forbidden":
        known = ", ".join(TrainConfig.model_fields)
        return f"unknown setting {key!r} (known: {known})"
    if err["type"] == "missing":
        return f"setting {key!r} is required"
    message = err["msg"].removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    value = f" (got {err['input']!r})" if err["loc"] and not isinstance(err.get("input"), dict) else ""
    return f"{key}: {message}{value}{more}"
