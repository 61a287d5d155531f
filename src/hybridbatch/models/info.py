"""A model's vital statistics: parameters, embedding size, max length, prompts, training metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hybridbatch.models.loading import load_model, resolve_path
from hybridbatch.models.metadata import TrainingMetadata


class ModelInfo(BaseModel):
    """What ``hybridbatch models info`` prints."""

    spec: str
    path: str | None
    parameters: int
    trainable_parameters: int
    embedding_dim: int | None
    max_seq_length: int | None
    prompts: dict[str, str]
    similarity: str | None
    modules: list[str]
    builtin: dict[str, Any] | None = None
    training: dict[str, Any] | None = None


def _read_json(path: Path | None, name: str) -> dict[str, Any] | None:
    if path is None or not (path / name).is_file():
        return None
    return json.loads((path / name).read_text(encoding="utf-8"))


def model_info(spec: str) -> ModelInfo:
    """Load ``spec`` and describe it; ``training`` holds its training metadata when present."""
    path = resolve_path(spec)
    training = TrainingMetadata.read(path) if path is not None else None
    model = load_model(spec, device="cpu")
    return ModelInfo(
        spec=spec,
        path=str(path) if path is not None else None,
        parameters=sum(p.numel() for p in model.parameters()),
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
        embedding_dim=model.get_embedding_dimension(),
        max_seq_length=model.max_seq_length,
        prompts=dict(model.prompts),
        similarity=model.similarity_fn_name,
        modules=[type(m).__name__ for m in model],
        builtin=_read_json(path, "hybridbatch_builtin.json"),
        training=training.model_dump(mode="json", exclude_unset=True) if training is not None else None,
    )


def render_model_info(info: ModelInfo) -> str:
    """Human-readable multi-line summary of :class:`ModelInfo`."""
    lines = [
        f"model:           {info.spec}",
        f"path:            {info.path or '(Hugging Face cache)'}",
        f"parameters:      {info.parameters:,} ({info.trainable_parameters:,} trainable)",
        f"embedding dim:   {info.embedding_dim}",
        f"max seq length:  {info.max_seq_length}",
        f"similarity:      {info.similarity}",
        f"modules:         {' -> '.join(info.modules)}",
        "prompts:         " + ", ".join(f"{k}={v!r}" for k, v in info.prompts.items()),
    ]
    if info.training:
        lines.append("training:")
        lines += [f"  {key}: {json.dumps(value, ensure_ascii=False)}" for key, value in info.training.items()]
    return "\n".join(lines)
