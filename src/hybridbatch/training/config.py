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
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.fields import FieldInfo

from hybridbatch.data.sources import Source, SourceSpec, parse_source
from hybridbatch.sampling.config import SamplerConfig, SamplerSettings
from hybridbatch.settings import Settings, read_yaml_config
from hybridbatch.training.adaptation_settings import DistillSettings, TuningSettings

__all__ = ["DEFAULT_MODEL", "TrainConfig", "load_train_config", "read_yaml_config"]

DEFAULT_MODEL = "builtin:multilingual-e5-small"
EVAL_ONLY_DATASETS = ("xquad-r", "flores200:dev")
_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")

_STREAM = SamplerConfig.model_fields  # batch size and seed: the stream's defaults

# Keys that may change between a run and its resume without changing what is trained.
RESUME_SAFE_KEYS = frozenset(
    {"out", "checkpoint_every", "keep_checkpoints", "log_batches", "device", "num_threads", "show_progress"}
)
# Settings added after runs were fingerprinted: part of the fingerprint only when not at the value runs
# had before the key existed (not necessarily today's default): no distillation, and English-mode
# streams distilling one side only (distill_both_sides False, today's default True), hard negatives from
# the positive's paragraph (hard_negatives_from 'passage') — so older runs
# resume, and are reused by studies, under exactly those values.
LATER_KEYS = (
    {"anchor_weight": 0.0, "hard_negatives_from": "passage"}
    | {
        key: info.get_default(call_default_factory=True)
        for group in (DistillSettings, TuningSettings)
        for key, info in group.model_fields.items()
    }
    | {"distill_weight": 0.0, "distill_both_sides": False}
)


#: The default training sources (issue 22): MLQA-R's parallel questions plus FLORES-200 bitext at
#: weight 0.6, chosen on validation in benchmarks/studies/data-sources.md and kept by long-tail.md
#: (AfriQA dev and FLORES-200 dev up, the trainer's MLQA-R dev within the seed-to-seed spread).
#: ``compare``, its studies and ``make demo`` keep MLQA-R alone: they compare batch strategies, as the
#: paper does, on data every batch type can use (bitext cannot enter an X-X batch).
DEFAULT_DATA = ("mlqa-r", "flores200:train@0.6")


class TrainConfig(Settings):
    """Settings of one training run (see the module docstring for steps vs epochs).

    The sampler settings are nested (:attr:`sampling`, a :class:`~hybridbatch.sampling.SamplerSettings`)
    but read and written flat, as in YAML files and flags (``sampler: xy``, ``alpha: 0.3``); the
    sampler's ``strategy`` is the flat key ``sampler``.
    """

    FLATTENED: ClassVar[tuple[str, ...]] = ("sampling", "distillation", "tuning")
    FLAT_NAMES: ClassVar[dict[str, str]] = {"strategy": "sampler"}
    #: Flags not spelled as their key (hybridbatch.settings.model_flag).
    FLAGS: ClassVar[dict[str, str]] = {"num_threads": "--threads"}
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    # --- what to train, on what ---------------------------------------------------------------
    model: str = Field(DEFAULT_MODEL, description="Model spec (builtin:*, directory, Hugging Face id).")
    data: list[Source] = Field(
        default_factory=lambda: [parse_source(spec) for spec in DEFAULT_DATA],
        description="Training sources: NAME[:SPLIT][@WEIGHT] or [KIND:]PATH[@WEIGHT], kinds qa, bitext, "
        "pairs (YAML: data or sources; docs/data.md).",
    )
    # --- batches (hybridbatch.sampling) ---------------------------------------------------------
    sampling: SamplerSettings = Field(default_factory=SamplerSettings, description="How batches are drawn.")
    adaptive_every: int = Field(100, ge=1, description="adaptive: steps between dev scorings.")
    # --- objective and optimisation -------------------------------------------------------------
    loss: Literal["infonce", "symmetric", "bce"] = Field("infonce", description="infonce, symmetric or bce.")
    temperature: float = Field(0.05, gt=0.0, description="Softmax temperature τ.")
    batch_size: int = Field(
        _STREAM["batch_size"].default, ge=2, description="Global batch size (pairs per step, all ranks)."
    )
    lr: float = Field(3e-5, gt=0.0, description="Peak learning rate (AdamW).")
    weight_decay: float = Field(0.01, ge=0.0, description="AdamW weight decay.")
    warmup_steps: int | None = Field(None, ge=0, description="Linear warmup steps (default: 10% of steps).")
    max_grad_norm: float | None = Field(1.0, gt=0.0, description="Gradient clipping (None: off).")
    anchor_weight: float = Field(
        0.0, ge=0.0, description="μ of the L2-SP anchor μ·‖θ − θ_base‖² (Li et al., ICML 2018); 0 = off."
    )
    steps: int | None = Field(None, ge=1, description="Optimizer steps (default: one epoch).")
    epochs: float | None = Field(None, gt=0.0, description="Epochs (training questions / batch size).")
    max_query_length: int = Field(64, ge=4, description="Max query tokens.")
    max_passage_length: int = Field(128, ge=4, description="Max passage tokens.")
    padding: Literal["longest", "max_length"] = Field(
        "longest", description="Pad each side to its longest text (longest) or to its max length."
    )
    bf16: bool | Literal["auto"] = Field(
        False,
        description="bfloat16 autocast, loss in fp32 (not bit-exact; CPU: fast with AMX/AVX512-BF16 only); "
        "YAML bf16: auto turns it on where the CPU has native bf16.",
    )
    freeze_embeddings: bool = Field(
        True, description="Freeze the word-embedding matrix (~1/3 faster CPU steps; keeps unseen languages)."
    )
    mini_batch_size: int | None = Field(None, ge=1, description="GradCache chunk size (None: off).")
    cross_device_negatives: bool = Field(True, description="DDP: negatives from every rank's batch.")
    seed: int = Field(
        _STREAM["seed"].default, ge=0, lt=2**63, description="Seed of batches, dropout and everything else."
    )
    # --- keeping what the base model knows (issue 22) ------------------------------------------
    distillation: DistillSettings = Field(
        default_factory=DistillSettings, description="Distillation from a frozen teacher."
    )
    tuning: TuningSettings = Field(
        default_factory=TuningSettings, description="Which parameters train (LoRA, frozen layers)."
    )
    # --- dev split and evaluation ---------------------------------------------------------------
    dev_fraction: float = Field(0.05, ge=0.0, lt=1.0, description="Held-out parallel ids per dataset.")
    split_seed: int = Field(0, ge=0, lt=2**63, description="Seed of the train/dev split (not `seed`).")
    eval_every: int = Field(0, ge=0, description="Dev evaluation every N steps (0: only at the end).")
    # --- output ---------------------------------------------------------------------------------
    out: Path = Field(..., description="Run directory (checkpoints, metrics, final model); rerun to resume.")
    checkpoint_every: int = Field(500, ge=0, description="Checkpoint every N steps (0: never).")
    keep_checkpoints: int = Field(1, ge=1, description="Checkpoints to keep.")
    log_batches: Path | None = Field(None, description="Write the trained batches as JSONL.")
    device: str | None = Field(None, description="cpu, cuda, cuda:1 … (default: cuda when available).")
    num_threads: int | None = Field(None, ge=1, description="torch CPU threads (default: torch's).")
    show_progress: bool = Field(True, description="Show a progress bar.")

    @model_validator(mode="before")
    @classmethod
    def _nest_sampler_keys(cls, data: Any) -> Any:
        """Accept the flat layout: sampler keys at the top level move into ``sampling``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        nested = data.get("sampling", {})
        nested = nested.model_dump(exclude_unset=True) if isinstance(nested, SamplerSettings) else nested
        if not isinstance(nested, dict):
            return data
        nested = dict(nested)
        for key in SamplerSettings.model_fields:
            flat = cls.FLAT_NAMES.get(key, key)
            if flat in data:
                nested[key] = data.pop(flat)
        data["sampling"] = nested
        if "sources" in data:  # the YAML synonym of data
            if "data" in data:
                raise ValueError("give data or sources, not both (they are the same setting)")
            data["data"] = data.pop("sources")
        if isinstance(data.get("data"), (str, dict)):
            data["data"] = [data["data"]]
        if isinstance(nested.get("languages"), str):
            nested["languages"] = [s for s in nested["languages"].split(",") if s]
        return data

    @field_validator("data")
    @classmethod
    def _check_data(cls, value: list[SourceSpec]) -> list[SourceSpec]:
        if not value:
            raise ValueError("at least one training dataset is required")
        for spec in value:
            if spec.dataset in EVAL_ONLY_DATASETS:
                raise ValueError(
                    f"{spec.dataset} is an evaluation-only dataset; train on mlqa-r, flores200:train "
                    "or your own data"
                )
        datasets = [(spec.kind, spec.dataset) for spec in value]
        if len(set(datasets)) != len(datasets):
            raise ValueError("a dataset is listed twice")
        return value

    @field_validator("bf16")
    @classmethod
    def _auto_bf16(cls, value: bool | str) -> bool:
        """``auto``: on where the CPU computes bf16 natively (models.capability); stored as what runs."""
        if value == "auto":
            from hybridbatch.models.capability import detect

            return detect(with_torch=False).native_bf16
        return bool(value)

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str | None) -> str | None:
        if value is not None and not _DEVICE.match(value.strip().lower()):
            raise ValueError(f"unknown device {value!r} (cpu, cuda, cuda:N or mps)")
        return None if value is None else value.strip().lower()

    @model_validator(mode="after")
    def _check_combinations(self) -> TrainConfig:
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        if self.sampling.schedule == "adaptive" and self.dev_fraction == 0:
            raise ValueError("schedule 'adaptive' needs a dev split: set dev_fraction > 0")
        if self.mini_batch_size is not None and self.mini_batch_size > self.batch_size:
            raise ValueError("mini_batch_size must be <= batch_size")
        return self

    @model_validator(mode="before")
    @classmethod
    def _nest_adaptation_keys(cls, data: Any) -> Any:
        """Accept the flat layout of the distillation and tuning groups (``distill_weight: 0.5``)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for group in ("distillation", "tuning"):
            nested = data.get(group, {})
            if not isinstance(nested, dict):
                continue
            nested = dict(nested)
            for key in cls.model_fields[group].annotation.model_fields:  # type: ignore[union-attr]
                if key in data:
                    nested[key] = data.pop(key)
            data[group] = nested
        return data

    # --- the flat layout ------------------------------------------------------------------------
    @classmethod
    def flat_fields(cls) -> dict[str, FieldInfo]:
        """Every setting by its flat name (the sampler's in place of ``sampling``), for flags and docs."""
        fields: dict[str, FieldInfo] = {}
        for name, info in cls.model_fields.items():
            if name in cls.FLATTENED:
                group = cls.model_fields[name].annotation
                fields.update({cls.FLAT_NAMES.get(k, k): v for k, v in group.model_fields.items()})  # type: ignore[union-attr]
            else:
                fields[name] = info
        return fields

    def flat(self) -> dict[str, Any]:
        """The settings as one flat JSON mapping (the layout of YAML files and the training metadata)."""
        data = self.model_dump(mode="json")
        for group in self.FLATTENED:
            data.update({self.FLAT_NAMES.get(k, k): v for k, v in data.pop(group).items()})
        return {name: data[name] for name in self.flat_fields()}

    # --- derived --------------------------------------------------------------------------------
    def total_steps(self, num_train_pairs: int) -> int:
        """Number of optimizer steps: ``steps``, else ``ceil(epochs · pairs / batch_size)``."""
        if self.steps is not None:
            return self.steps
        epochs = 1.0 if self.epochs is None else self.epochs
        return max(1, math.ceil(epochs * num_train_pairs / self.batch_size))

    def sampler_config(self, total_steps: int) -> SamplerConfig:
        """The :class:`~hybridbatch.sampling.SamplerConfig` of this run (ramps span ``total_steps``)."""
        return SamplerConfig(
            **self.sampling.model_dump(),
            schedule_steps=total_steps,
            batch_size=self.batch_size,
            seed=self.seed,
            steps=total_steps,
        )

    def resolved_warmup(self, total_steps: int) -> int:
        """Warmup steps: the configured value, or 10% of ``total_steps``."""
        return self.warmup_steps if self.warmup_steps is not None else int(0.1 * total_steps)

    def material(self) -> dict[str, Any]:
        """The settings that determine the trained weights (everything but :data:`RESUME_SAFE_KEYS`)."""
        unused = self.distillation.unused_keys() | self.tuning.unused_keys()  # they change nothing
        return {
            k: v
            for k, v in self.flat().items()
            if k not in RESUME_SAFE_KEYS | unused and not (k in LATER_KEYS and v == LATER_KEYS[k])
        }

    def fingerprint(self) -> str:
        """A short hash of :meth:`material`: equal for runs that must produce the same weights."""
        text = json.dumps(self.material(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def differences(self, other: dict[str, Any]) -> list[str]:
        """Material keys whose values differ from ``other`` (a :meth:`material` dump), as ``key: a -> b``."""
        mine = self.material()
        keys = sorted(set(mine) | set(other))
        return [f"{k}: {other.get(k)!r} -> {mine.get(k)!r}" for k in keys if mine.get(k) != other.get(k)]


def load_train_config(path: str | Path | None = None, **overrides: Any) -> TrainConfig:
    """Build a :class:`TrainConfig` from a YAML file and keyword overrides (flags win; None = unset).

    Raises:
        ConfigError: an unknown key or a bad value; the message names the key and the file, or the flag.
    """
    values: dict[str, Any] = read_yaml_config(path) if path is not None else {}
    flags = {k.replace("-", "_"): v for k, v in overrides.items() if v is not None}
    if "data" in flags:  # --data replaces the file's sources as it replaces its data
        values.pop("sources", None)
    values.update(flags)
    return TrainConfig.validated(values, source=str(path) if path is not None else "", flags=flags)


def check_settings(settings: dict[str, Any], source: str) -> TrainConfig:
    """Validate partial training settings (e.g. ``train_settings`` of a compare YAML) before any work."""
    return TrainConfig.validated({"out": Path("."), **settings}, source=source)
