"""The training metadata a trained model carries: ``hybridbatch_training.json`` beside its weights.

Written by the trainer, read by the model card, evaluation (training languages: seen vs unseen), the
resume check of a finished run and ``hybridbatch models info``. Unknown keys (e.g. what
``neutralize`` / ``merge`` add) are kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hybridbatch.errors import ModelError

#: The one name of the training metadata file.
TRAINING_JSON = "hybridbatch_training.json"


class RunResult(BaseModel):
    """What a training run produced (without where its model is)."""

    steps: int
    seconds: float
    pairs_per_second: float
    train_languages: list[str]
    dev_metrics: dict[str, float] = {}
    resumed_from: int | None = None
    teacher_seconds: float | None = None  # distillation: the frozen teacher's share of ``seconds``


class TrainResult(RunResult):
    """A run's result and its model directory; ``rank`` is the process that trained (not saved)."""

    model_dir: Path
    rank: int = Field(0, exclude=True)


class TrainingMetadata(BaseModel):
    """The content of ``hybridbatch_training.json`` (every field optional for foreign files)."""

    model_config = ConfigDict(extra="allow")

    fingerprint: str | None = None
    config: dict[str, Any] = Field(default_factory=dict, description="Every setting (flat layout).")
    config_material: dict[str, Any] = Field(default_factory=dict, description="The fingerprinted settings.")
    datasets: list[dict[str, Any]] = Field(default_factory=list)
    train_languages: list[str] | None = None
    sampler: dict[str, Any] = Field(default_factory=dict)
    alpha_history: list[dict[str, float]] | None = None
    frozen_parameters: int = 0
    world_size: int = 1
    cpu: dict[str, Any] | None = None  # the CPU trained on (models.capability)
    result: RunResult | None = None
    versions: dict[str, str] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to disk (NaN scores dropped: the file stays valid JSON)."""
        data = self.model_dump(mode="json", exclude_none=False)
        if data.get("result"):
            dev = data["result"].get("dev_metrics", {})
            data["result"]["dev_metrics"] = {
                k: v for k, v in dev.items() if v == v and v not in (1e999, -1e999)
            }
        return data

    @classmethod
    def read(cls, directory: str | Path) -> TrainingMetadata | None:
        """The metadata of the model in ``directory`` (None when it has none; ModelError if unreadable)."""
        file = Path(directory) / TRAINING_JSON
        if not file.is_file():
            return None
        try:
            return cls.model_validate(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError, RecursionError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            raise ModelError(f"{file}: unreadable training metadata ({first})") from None
