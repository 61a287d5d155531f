"""What ``hybridbatch compare`` runs: strategies, α sweep, K sweep, shared training settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hybridbatch.data.sources import parse_source
from hybridbatch.errors import ConfigError
from hybridbatch.sampling.schedules import DEFAULT_ALPHA
from hybridbatch.training.config import DEFAULT_MODEL, TrainConfig

STRATEGIES = ("base", "en-en", "xx", "xy", "hybrid", "hybrid-adaptive")
DEFAULT_STRATEGIES = ("base", "en-en", "xx", "xy", "hybrid")


class ComparisonConfig(BaseModel):
    """One comparison: every strategy trained with the same model, data, seed, steps and settings.

    ``train_settings`` holds any further :class:`hybridbatch.training.TrainConfig` field (lr, loss,
    batch_size, freeze_embeddings, …) shared by all strategies; ``base`` is the untrained model.
    """

    FLAT_NAMES: ClassVar[dict[str, str]] = {"alphas": "alpha"}  # the flag is --alpha
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str = Field(DEFAULT_MODEL, description="Model spec shared by every strategy.")
    train: list[str] = Field(
        default_factory=lambda: [str(s) for s in TrainConfig.model_fields["data"].default_factory()],  # type: ignore[misc]
        description="Training sources, as train's --data (YAML: train or sources).",
    )
    eval: list[str] = Field(default_factory=lambda: ["xquad-r"], description="Held-out evaluation datasets.")
    strategies: list[str] = Field(
        default_factory=lambda: list(DEFAULT_STRATEGIES),
        description=f"Strategies, from {', '.join(STRATEGIES)}.",
    )
    alphas: list[float] = Field(
        default_factory=list, description="α sweep of the hybrid strategy, e.g. 0.3,0.7."
    )
    languages_per_batch: list[int] = Field(
        default_factory=list, description="K sweep of the hybrid strategy."
    )
    budget: int = Field(120, ge=1, description="Training steps per strategy.")
    seed: int = Field(
        TrainConfig.model_fields["seed"].default, ge=0, lt=2**63, description="Seed of every run."
    )
    out: Path = Field(..., description="Comparison directory; rerun to resume.")
    train_settings: dict[str, Any] = Field(
        default_factory=dict, description="TrainConfig settings of every run."
    )
    eval_batch_size: int = Field(64, ge=1, description="Encoding batch size of the evaluations.")
    eval_fraction: float = Field(1.0, gt=0.0, le=1.0, description="Share of evaluation ids (quick runs).")
    precision: str = Field(
        "fp32",
        description="Encoding precision of the evaluations: fp32, bf16, int8, onnx-fp32, onnx-int8 "
        "(fast sweeps) or auto (bf16 on a CPU with native bf16, else fp32).",
    )
    variants: list[str] = Field(
        default_factory=list,
        description="Training-free rows: RUN+lsar, RUN+center (neutralized), RUN@λ (WiSE-FT with base).",
    )
    merge_weights: list[float] = Field(
        default_factory=list, description="WiSE-FT λ sweep: adds hybrid@λ rows, e.g. 0.3,0.5,0.7."
    )
    allow_overlap: bool = Field(
        False, description="Train even if a training source shares texts with an evaluation set (reported)."
    )

    @model_validator(mode="before")
    @classmethod
    def _sources_synonym(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sources" in data:
            if "train" in data:
                raise ValueError("give train or sources, not both (they are the same setting)")
            data = dict(data)
            data["train"] = data.pop("sources")
        return data

    @field_validator("train", mode="before")
    @classmethod
    def _canonical_sources(cls, value: Any) -> Any:
        """Each source in its canonical string (``train``'s ``data`` parses it again, identically)."""
        items = [value] if isinstance(value, (str, dict)) else value
        return [str(parse_source(item)) for item in items] if isinstance(items, list) else value

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, value: str) -> str:
        """A known precision; ``auto`` becomes this CPU's (bf16 or fp32), so folders name what ran."""
        from hybridbatch.models.encoding import AUTO, PRECISIONS, check_precision, unknown_precision

        if value not in (*PRECISIONS, AUTO):
            raise ValueError(unknown_precision(value))
        return check_precision(value)

    @property
    def eval_name(self) -> str:
        """Each run's evaluation folder: ``eval`` at fp32, ``eval-<precision>`` otherwise."""
        return eval_dir_name(self.precision)

    @property
    def report_dir(self) -> Path:
        """Where the comparison files go: ``out`` at fp32, ``out/<precision>`` otherwise (runs are shared)."""
        return self.out if self.precision == "fp32" else self.out / self.precision

    @field_validator("train_settings")
    @classmethod
    def _no_per_run_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, instead in _SET_PER_RUN.items():
            if key.replace("_", "-") in value or key in value:
                raise ValueError(f"{key!r} is set by the comparison's {instead!r}, not by train_settings")
        return value


def eval_dir_name(precision: str) -> str:
    """``eval`` for fp32 evaluations, ``eval-<precision>`` for reduced-precision ones (never mixed)."""
    return "eval" if precision == "fp32" else f"eval-{precision}"


def afriqa_dir_name(split: str, precision: str = "fp32") -> str:
    """A run's AfriQA folder: ``afriqa-<split>`` at fp32, ``afriqa-<split>-<precision>`` otherwise."""
    return f"afriqa-{split}" if precision == "fp32" else f"afriqa-{split}-{precision}"


# Training settings every run gets from the comparison itself (key -> the comparison setting).
_SET_PER_RUN = {
    "sampler": "strategies",
    "model": "model",
    "data": "train",
    "sources": "train",
    "steps": "budget",
    "epochs": "budget",
    "seed": "seed",
    "out": "out",
}


class RunSpec(BaseModel):
    """One row of the comparison: a name and the training overrides that make it (None = base)."""

    name: str
    strategy: str
    overrides: dict[str, Any] | None


def plan_runs(config: ComparisonConfig) -> list[RunSpec]:
    """Expand strategies, the α sweep and the K sweep into named runs (no duplicates)."""
    unknown = [s for s in config.strategies if s not in STRATEGIES]
    if unknown:
        raise ConfigError(f"--strategies: unknown {', '.join(unknown)} (choose from {', '.join(STRATEGIES)})")
    if not config.strategies:
        raise ConfigError("--strategies: give at least one strategy")
    runs: list[RunSpec] = []
    for strategy in config.strategies:
        runs.append(RunSpec(name=strategy, strategy=strategy, overrides=_overrides(strategy, config)))
    default_alpha = float(config.train_settings.get("alpha", DEFAULT_ALPHA))
    for alpha in config.alphas:
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"--alpha: {alpha} is outside [0, 1]")
        if alpha == default_alpha and "hybrid" in config.strategies:
            continue
        overrides = {**_overrides("hybrid", config), "alpha": alpha}
        runs.append(RunSpec(name=f"hybrid-a{alpha:g}", strategy="hybrid", overrides=overrides))
    for k in config.languages_per_batch:
        if k < 2:
            raise ConfigError(f"--languages-per-batch: K must be at least 2, got {k}")
        overrides = {**_overrides("hybrid", config), "languages_per_batch": k}
        runs.append(RunSpec(name=f"hybrid-k{k}", strategy="hybrid", overrides=overrides))
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ConfigError(f"--strategies: a strategy is listed twice ({', '.join(names)})")
    return runs


def alpha_of(run: RunSpec, config: ComparisonConfig) -> float | None:
    """The α a hybrid run trains with (None for other strategies)."""
    if run.strategy != "hybrid" or run.overrides is None:
        return None
    return float(run.overrides.get("alpha", config.train_settings.get("alpha", DEFAULT_ALPHA)))


def train_config(run: RunSpec, config: ComparisonConfig, out: Path | None = None) -> TrainConfig:
    """The training settings of ``run``: shared ``train_settings``, the run's overrides, and the
    comparison's model, data, budget and seed (ConfigError naming the setting when invalid)."""
    settings: dict[str, Any] = {
        **config.train_settings,
        **(run.overrides or {}),
        "model": config.model,
        "data": config.train,
        "steps": config.budget,
        "seed": config.seed,
        "out": out or config.out / "runs" / safe_name(run.name),
    }
    return TrainConfig.validated(settings, source=f"train_settings of run {run.name!r}")


def _overrides(strategy: str, config: ComparisonConfig) -> dict[str, Any] | None:
    if strategy == "base":
        return None
    if strategy == "hybrid-adaptive":
        return {"sampler": "hybrid", "schedule": "adaptive"}
    return {"sampler": strategy}


def safe_name(name: str) -> str:
    """A run name usable as a directory name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)
