"""What ``hybridbatch compare`` runs: strategies, α sweep, K sweep, shared training settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from hybridbatch.data.sources import parse_source
from hybridbatch.sampling.config import STRATEGIES as SAMPLERS
from hybridbatch.sampling.config import SamplerSettings, canonical_strategy
from hybridbatch.sampling.schedules import DEFAULT_ALPHA, Probability
from hybridbatch.settings import Settings, read_yaml_config
from hybridbatch.training.config import DEFAULT_MODEL, TrainConfig

#: Rows of a comparison: the untrained model, every sampler, and hybrid with the adaptive α schedule.
STRATEGIES = ("base", *SAMPLERS, "hybrid-adaptive")
DEFAULT_STRATEGIES = ("base", "en-en", "xx", "xy", "hybrid")


def canonical_row(value: Any) -> Any:
    """A comparison row's canonical name: ``base``, ``hybrid-adaptive`` or a sampler (aliases too)."""
    if not isinstance(value, str) or value.strip().lower() in ("base", "hybrid-adaptive"):
        return value.strip().lower() if isinstance(value, str) else value
    try:
        return canonical_strategy(value)
    except ValueError:
        raise ValueError(f"unknown strategy {value!r} (choose from {', '.join(STRATEGIES)})") from None


def _number(value: Any) -> Any:
    """A comma-list flag's item (``"1.5"``) as the number it spells, so flags and YAML read alike."""
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
    return value


Strategy = Annotated[str, BeforeValidator(canonical_row)]
Alpha = Annotated[Probability, BeforeValidator(_number)]
#: K of the hybrid strategy's K sweep, bounded as the sampler's own ``languages_per_batch``.
LanguagesPerBatch = Annotated[
    int, *SamplerSettings.model_fields["languages_per_batch"].metadata, BeforeValidator(_number)
]


class ComparisonSettings(Settings):
    """One comparison: every strategy trained with the same model, data, seed, steps and settings.

    ``train_settings`` holds any further :class:`hybridbatch.training.TrainConfig` field (lr, loss,
    batch_size, freeze_embeddings, …) shared by all strategies; ``base`` is the untrained model.
    The fields generate ``compare``'s flags; YAML keys and flags are validated alike.
    """

    FLAT_NAMES: ClassVar[dict[str, str]] = {"alphas": "alpha"}  # the flag is --alpha
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str = Field(DEFAULT_MODEL, description="Model spec shared by every strategy.")
    train: list[str] = Field(
        default_factory=lambda: ["mlqa-r"],
        description="Training sources, as train's --data (YAML: train or sources). Default MLQA-R alone, "
        "not train's default: strategies are compared on data every batch type can use (no bitext in X-X).",
    )
    eval: list[str] = Field(default_factory=lambda: ["xquad-r"], description="Held-out evaluation datasets.")
    strategies: list[Strategy] = Field(
        default_factory=lambda: list(DEFAULT_STRATEGIES),
        description=f"Strategies, from {', '.join(STRATEGIES)} (sampler aliases too).",
    )
    alphas: list[Alpha] = Field(
        default_factory=list, description="α sweep of the hybrid strategy, e.g. 0.3,0.7."
    )
    languages_per_batch: list[LanguagesPerBatch] = Field(
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
    train_precision: Literal["fp32", "bf16", "auto"] = Field(
        "fp32",
        description="Training precision of every run: fp32, bf16 (autocast) or auto (bf16 on a CPU with "
        "native bf16, else fp32; benchmarks/precision.md); non-fp32 sets train_settings' bf16.",
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

    @field_validator("strategies")
    @classmethod
    def _some_strategies(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one strategy")
        return value

    @field_validator("strategies", "alphas", "languages_per_batch")
    @classmethod
    def _each_once(cls, value: list[Any]) -> list[Any]:
        shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        if len(set(value)) != len(value):
            raise ValueError(f"a value is listed twice ({shown})")
        return value

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, value: str) -> str:
        """A known precision; ``auto`` becomes this CPU's (bf16 or fp32), so folders name what ran."""
        from hybridbatch.models.encoding import AUTO, PRECISIONS, check_precision, unknown_precision

        if value not in (*PRECISIONS, AUTO):
            raise ValueError(unknown_precision(value))
        return check_precision(value)

    def shared_train_settings(self) -> dict[str, Any]:
        """``train_settings`` with ``train_precision`` applied (as ``bf16``); a run's overrides come after."""
        if self.train_precision == "fp32":
            return dict(self.train_settings)
        return {**self.train_settings, "bf16": True if self.train_precision == "bf16" else "auto"}

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


# The demo's training recipe (see benchmarks/quality.md for how it was chosen).
DEMO_TRAIN_SETTINGS: dict[str, Any] = {
    "batch_size": 32,
    "lr": 5e-5,
    "hard_negatives": 1,
    "max_passage_length": 64,
    "freeze_embeddings": True,
    "checkpoint_every": 50,
}
DEMO_BUDGET: int = ComparisonSettings.model_fields["budget"].default
# --quick: minutes, not an hour — a smaller budget and batch, 15% of the evaluation ids.
QUICK = {"budget": 20, "eval_fraction": 0.15, "train_settings": {"batch_size": 16, "checkpoint_every": 10}}


def build_settings(
    out: Path, flags: dict[str, Any], config_file: Path | None = None, quick: bool = False
) -> ComparisonSettings:
    """Merge defaults, the YAML file, ``--quick`` and the given ``flags`` (later wins) into settings whose
    every run's training settings are valid — so a typo fails in seconds, before any model is loaded."""
    values: dict[str, Any] = {"train_settings": dict(DEMO_TRAIN_SETTINGS)}
    if config_file is not None:
        values = _merge(values, read_yaml_config(config_file))
    if quick:
        values = _merge(values, QUICK)
    values = _merge(values, {**flags, "out": out})
    source = str(config_file) if config_file is not None else "compare settings"
    settings = ComparisonSettings.validated(values, source, flags)
    for run in plan_runs(settings):
        if run.overrides is not None:
            train_config(run, settings)
    return settings


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


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


def plan_runs(config: ComparisonSettings) -> list[RunSpec]:
    """Expand strategies, the α sweep and the K sweep into named runs (no duplicates)."""
    runs: list[RunSpec] = []
    for strategy in config.strategies:
        runs.append(RunSpec(name=strategy, strategy=strategy, overrides=_overrides(strategy, config)))
    default_alpha = float(config.train_settings.get("alpha", DEFAULT_ALPHA))
    for alpha in config.alphas:
        if alpha == default_alpha and "hybrid" in config.strategies:
            continue
        overrides = {**_overrides("hybrid", config), "alpha": alpha}
        runs.append(RunSpec(name=f"hybrid-a{alpha:g}", strategy="hybrid", overrides=overrides))
    for k in config.languages_per_batch:
        overrides = {**_overrides("hybrid", config), "languages_per_batch": k}
        runs.append(RunSpec(name=f"hybrid-k{k}", strategy="hybrid", overrides=overrides))
    return runs


def alpha_of(run: RunSpec, config: ComparisonSettings) -> float | None:
    """The α a hybrid run trains with (None for other strategies)."""
    if run.strategy != "hybrid" or run.overrides is None:
        return None
    return float(run.overrides.get("alpha", config.train_settings.get("alpha", DEFAULT_ALPHA)))


def train_config(run: RunSpec, config: ComparisonSettings, out: Path | None = None) -> TrainConfig:
    """The training settings of ``run``: shared ``train_settings``, the run's overrides, and the
    comparison's model, data, budget and seed (ConfigError naming the setting when invalid)."""
    settings: dict[str, Any] = {
        **config.shared_train_settings(),
        **(run.overrides or {}),
        "model": config.model,
        "data": config.train,
        "steps": config.budget,
        "seed": config.seed,
        "out": out or config.out / "runs" / safe_name(run.name),
    }
    return TrainConfig.validated(settings, source=f"train_settings of run {run.name!r}")


def _overrides(strategy: str, config: ComparisonSettings) -> dict[str, Any] | None:
    if strategy == "base":
        return None
    if strategy == "hybrid-adaptive":
        return {"sampler": "hybrid", "schedule": "adaptive"}
    return {"sampler": strategy}


def safe_name(name: str) -> str:
    """A run name usable as a directory name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)
