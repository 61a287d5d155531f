"""Settings of how a run keeps what the base model knows, declared once (issue 22): distillation from a
frozen teacher (:class:`DistillSettings`) and parameter-efficient training (:class:`TuningSettings`).

Both are groups of :class:`~hybridbatch.training.TrainConfig`, read and written flat (``distill_weight:
0.5``, ``--lora-rank 8``) like the sampler settings. A group that is off (``distill_weight`` 0, no
``lora_rank``) leaves its other keys out of the run fingerprint (:meth:`unused_keys`): they change nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from hybridbatch.settings import Settings

#: LoRA's default targets: every linear layer of a BERT/XLM-R encoder block (attention query/key/value,
#: attention output, feed-forward in and out). QLoRA (Dettmers et al. 2023) found adapting all linear
#: layers necessary to match full fine-tuning; the original LoRA adapted query and value only.
LORA_TARGETS = ("query", "key", "value", "dense")
#: ``distill_data`` value for distilling on the texts of each training batch.
BATCH_TEXTS = "batch"


class DistillSettings(Settings):
    """Distillation from a frozen teacher, added to the contrastive loss with weight λ.

    The term is λ · mean over distilled texts of ``1 − cos(student(x), teacher(y))``: with ``self``
    ``y = x``; with ``english`` ``y`` is the English side of ``x`` (multilingual knowledge distillation,
    Reimers & Gurevych, EMNLP 2020). Cosine, not MSE: ``1 − cos`` equals ½‖ŝ − t̂‖² of the unit vectors, so it
    is the squared distance retrieval scores see, while an element-wise MSE would scale λ by 1/dim and
    would also pull on the embedding norm, which the normalised contrastive scores ignore.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    distill_weight: float = Field(
        0.0, ge=0.0, description="λ of the distillation term λ·(1 − cos(student, teacher)); 0 = off."
    )
    distill_mode: Literal["self", "english"] = Field(
        "self",
        description="self: a text's own teacher embedding; english: the teacher's embedding of its English "
        "side (parallel ids).",
    )
    distill_data: str = Field(
        BATCH_TEXTS,
        description="Texts distilled on: 'batch' (each training batch's own) or a source (flores200:train).",
    )
    distill_both_sides: bool = Field(
        True,
        description="english mode on a --distill-data source: each drawn id also distills its English text "
        "to its own teacher embedding (both sides, as Reimers & Gurevych 2020), so the English space the "
        "other languages are pulled to stays where the teacher has it.",
    )
    distill_teacher: str | None = Field(
        None, description="Teacher model spec (default: the model the run starts from)."
    )
    distill_precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="Teacher precision; auto: bf16 where the device computes it natively, else fp32."
    )

    @field_validator("distill_data")
    @classmethod
    def _known_data(cls, value: str) -> str:
        """``batch`` or a training source in its canonical form (no weight, not evaluation-only)."""
        from hybridbatch.data.sources import parse_source
        from hybridbatch.training.config import EVAL_ONLY_DATASETS

        if value.strip() == BATCH_TEXTS:
            return BATCH_TEXTS
        source = parse_source(value)
        if source.weight is not None:
            raise ValueError(f"{value!r}: a distillation source takes no @weight (distill_weight is λ)")
        if source.dataset in EVAL_ONLY_DATASETS:
            raise ValueError(f"{source.dataset} is an evaluation-only dataset")
        return str(source)

    @field_validator("distill_teacher")
    @classmethod
    def _teacher_spec(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("empty model spec (give builtin:<name>, a path or a Hugging Face id)")
        return value

    @property
    def enabled(self) -> bool:
        return self.distill_weight > 0

    def unused_keys(self) -> set[str]:
        """Keys without effect in this configuration (left out of the fingerprint)."""
        if not self.enabled:
            return set(type(self).model_fields) - {"distill_weight"}
        stream_english = self.distill_mode == "english" and self.distill_data != BATCH_TEXTS
        return set() if stream_english else {"distill_both_sides"}


class TuningSettings(Settings):
    """Which parameters train: LoRA adapters (peft) or the top layers above ``freeze_layers``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    lora_rank: int | None = Field(
        None, ge=1, description="LoRA rank r (peft): train low-rank adapters only; None = full fine-tuning."
    )
    lora_alpha: float = Field(16.0, gt=0.0, description="LoRA α: adapter updates are scaled by α / r.")
    lora_dropout: float = Field(0.1, ge=0.0, lt=1.0, description="Dropout on the LoRA adapters' input.")
    lora_target_modules: list[str] = Field(
        default_factory=lambda: list(LORA_TARGETS),
        description="Module names LoRA adapts (a name matches itself and any path ending in .name).",
    )
    freeze_layers: int | None = Field(
        None, ge=0, description="Freeze the embeddings and the bottom N transformer layers (None: off)."
    )

    @field_validator("lora_target_modules", mode="before")
    @classmethod
    def _split_modules(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if isinstance(value, list) and not [v for v in value if str(v).strip()]:
            raise ValueError("give at least one module name")
        return value

    @property
    def lora(self) -> bool:
        return self.lora_rank is not None

    @field_validator("freeze_layers")
    @classmethod
    def _one_way_to_freeze(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("lora_rank") is not None:
            raise ValueError("give it or --lora-rank, not both (LoRA freezes every base weight)")
        return value

    def unused_keys(self) -> set[str]:
        """Keys without effect in this configuration (left out of the fingerprint)."""
        return set() if self.lora else {"lora_alpha", "lora_dropout", "lora_target_modules"}
