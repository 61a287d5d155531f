"""Model resolution and batched encoding shared by the index, the server and the BEIR evaluator.

Documents are encoded with the model's ``passage`` prompt and queries with its ``query`` prompt (E5
style, as in the paper); embeddings are L2-normalized so inner product equals cosine similarity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from hybridbatch.errors import ModelError

Kind = Literal["query", "passage"]


def resolve_model(model: Any, spec: str | None = None) -> tuple[Any, str | None]:
    """Return ``(model, spec)``: load ``model`` when it is a spec string, else guess its spec.

    A model object's spec is ``spec`` when given, else its ``hybridbatch_spec`` attribute, else the
    local directory it was loaded from (``None`` when unknown).
    """
    if isinstance(model, str | Path):
        from hybridbatch.models import load_model

        return load_model(str(model)), str(model)
    if not hasattr(model, "encode"):
        raise ModelError(
            f"expected a model spec or a sentence-transformers model, got {type(model).__name__}"
        )
    return model, spec or getattr(model, "hybridbatch_spec", None) or _local_path(model)


def _local_path(model: Any) -> str | None:
    try:
        path = model[0].auto_model.config._name_or_path
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    if not path or not Path(path).is_dir():
        return None
    path = Path(path).resolve()
    from hybridbatch.models import BUILTIN_MODELS, builtin_path

    for name in BUILTIN_MODELS:  # a builtin's cache directory is recorded as its portable spec
        if builtin_path(f"builtin:{name}").resolve() == path:
            return f"builtin:{name}"
    return str(path)


def prompt_for(model: Any, kind: Kind) -> str | None:
    """The prompt *name* to use for ``kind`` (``None`` when the model defines no such prompt)."""
    prompts = getattr(model, "prompts", None) or {}
    return kind if kind in prompts else None


def encode(
    model: Any, texts: list[str], kind: Kind, batch_size: int = 64, show_progress: bool = False
) -> np.ndarray:
    """Encode ``texts`` as ``kind`` into a float32 ``(len(texts), dim)`` array of unit vectors."""
    if not texts:
        raise ModelError("nothing to encode: empty list of texts")
    emb = model.encode(
        texts,
        prompt_name=prompt_for(model, kind),
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.ascontiguousarray(emb, dtype=np.float32)
