"""The one encoder: prompts, model directories, token-length-batched inference encoding, precision.

Used by evaluation (LAReQA and BEIR), index building and search, the embedding cache
(:mod:`.embedding_cache`) and training (prompts; training builds its own token features with a graph).

- **Prompts**: queries are encoded with the model's ``query`` prompt, passages with its ``passage``
  prompt (E5's ``query: `` / ``passage: `` prefixes, stored as sentence-transformers ``prompts``;
  ``document`` is accepted for passages); a model without such a prompt encodes the bare text.
- **Token-length batching** (*ours*): texts are sorted by their number of tokens, not characters as
  sentence-transformers' ``encode`` does; characters mix scripts of very different token/character
  ratios (XQuAD-R's 11 languages: candidates padded to 1.75× their real tokens, 1.03× here; ~1.7×
  faster encoding). Each distinct text is encoded once. Embeddings are L2-normalised float32, so a
  dot product is the cosine score; they equal ``model.encode(..., normalize_embeddings=True)``.
- **Precision**: ``fp32`` (default), ``bf16`` or ``int8`` (reduced-precision copies, :mod:`.quantize`),
  ``onnx-fp32`` or ``onnx-int8`` (ONNX Runtime, :mod:`.onnx_backend`); ``auto`` resolves to ``bf16``
  on a CPU with native bf16 and ``fp32`` elsewhere (:mod:`.capability`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from tqdm.auto import tqdm

from hybridbatch.errors import ConfigError, ModelError

Kind = Literal["query", "passage"]
Precision = Literal["fp32", "bf16", "int8", "onnx-fp32", "onnx-int8"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
#: Resolved by :func:`check_precision` to a concrete precision for this CPU (:mod:`.capability`).
AUTO = "auto"
#: What ``--precision onnx-*`` needs installed (the pins of pyproject.toml).
ONNX_PACKAGES = ("onnxruntime==1.31.1", "onnx==1.23.2")
#: Prompt names looked up per kind, in order (sentence-transformers also uses ``document``).
PROMPT_NAMES: dict[str, tuple[str, ...]] = {"query": ("query",), "passage": ("passage", "document")}


def unknown_precision(precision: str) -> str:
    """The message for a precision not in :data:`PRECISIONS` (one wording for flags and YAML keys)."""
    return f"unknown {precision!r} (choose from {', '.join((*PRECISIONS, AUTO))})"


def check_precision(precision: str) -> Precision:
    """The concrete precision for ``precision``: itself, or :data:`AUTO` resolved for this CPU.

    Raises a :class:`ConfigError` naming the setting ``precision`` for an unknown value, and for
    ``onnx-*`` when ONNX Runtime is not installed (checked here, before any model is loaded).
    """
    problem = precision_problem(precision)
    if problem:
        raise ConfigError(
            f"precision {problem}" if problem.startswith(f"{precision}: ") else f"precision: {problem}"
        )
    if precision == AUTO:
        from hybridbatch.models.capability import detect

        return detect(with_torch=False).auto_precision()  # type: ignore[return-value]
    return precision  # type: ignore[return-value]


def precision_problem(precision: str) -> str | None:
    """What is wrong with ``precision`` (``None``: nothing): unknown, or its runtime not installed."""
    if precision == AUTO:
        return None
    if precision not in PRECISIONS:
        return unknown_precision(precision)
    missing = [p for p in ("onnxruntime", "onnx") if importlib.util.find_spec(p) is None]
    if precision.startswith("onnx-") and missing:
        return f"{precision}: {' and '.join(missing)} not installed (pip install {' '.join(ONNX_PACKAGES)})"
    return None


def prompt_name(model: Any, kind: str) -> str | None:
    """The name of the model's prompt for ``kind`` (``None`` when it defines none)."""
    if kind not in PROMPT_NAMES:
        raise ValueError(f"unknown text kind {kind!r} (query or passage)")
    prompts = getattr(model, "prompts", None) or {}
    return next((name for name in PROMPT_NAMES[kind] if name in prompts), None)


def prompt_text(model: Any, kind: str) -> str:
    """The prompt text prepended for ``kind`` (``""`` when the model has none)."""
    name = prompt_name(model, kind)
    return model.prompts[name] if name else ""


def model_directory(model: Any) -> Path | None:
    """The local directory a model is (or was loaded from), if any: a path spec or a loaded model."""
    if isinstance(model, str | Path):
        path = Path(model).expanduser()
        return path if path.is_dir() else None
    try:  # a model loaded from a directory remembers it in its transformer config
        path = Path(model[0].auto_model.config.name_or_path)
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    return path if str(path) and path.is_dir() else None


def resolve_model(model: Any, spec: str | None = None) -> tuple[Any, str | None]:
    """Return ``(model, spec)``: load ``model`` when it is a spec string, else guess its spec.

    A model object's spec is ``spec`` when given, else its ``hybridbatch_spec`` attribute, else the
    local directory it was loaded from (a builtin's cache directory as ``builtin:<name>``).
    """
    if isinstance(model, str | Path):
        from hybridbatch.models import load_model

        return load_model(str(model)), str(model)
    if not hasattr(model, "encode"):
        raise ModelError(
            f"expected a model spec or a sentence-transformers model, got {type(model).__name__}"
        )
    return model, spec or getattr(model, "hybridbatch_spec", None) or _portable_spec(model)


def _portable_spec(model: Any) -> str | None:
    directory = model_directory(model)
    if directory is None:
        return None
    path = directory.resolve()
    from hybridbatch.models import BUILTIN_MODELS, builtin_path

    for name in BUILTIN_MODELS:
        if builtin_path(f"builtin:{name}").resolve() == path:
            return f"builtin:{name}"
    return str(path)


def encode(
    model: Any,
    texts: list[str],
    kind: Kind,
    batch_size: int = 64,
    show_progress: bool = False,
    precision: Precision = "fp32",
) -> np.ndarray:
    """Encode ``texts`` as ``kind`` into a float32 ``(len(texts), dim)`` array of unit vectors."""
    return encode_texts(model, texts, prompt_name(model, kind), batch_size, show_progress, precision)


def encode_texts(
    model: Any,
    texts: list[str],
    prompt: str | None,
    batch_size: int = 64,
    show_progress: bool = False,
    precision: Precision = "fp32",
) -> np.ndarray:
    """L2-normalised float32 embeddings of ``texts`` under the prompt *named* ``prompt``.

    Each distinct text is encoded once, in batches of similar token length; rows follow ``texts``.
    """
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    unique = list(dict.fromkeys(texts))
    if not unique:
        return np.zeros((0, _dimension(model)), dtype=np.float32)
    runner = _runner(model, check_precision(precision))
    order = by_token_length(model, unique, prompt)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    was_training = getattr(model, "training", False)
    try:  # sentence-transformers' encode() switches the model to eval mode and leaves it there
        parts = [
            runner.encode(
                [unique[i] for i in batch],
                prompt_name=prompt,
                batch_size=batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
            for batch in tqdm(batches, desc="Batches", disable=not show_progress, leave=False)
        ]
    finally:
        if was_training:
            model.train()
    vectors = np.empty((len(unique), np.shape(parts[0])[1]), dtype=np.float32)
    vectors[np.concatenate(batches)] = np.concatenate(parts).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    position = {text: i for i, text in enumerate(unique)}
    return vectors[[position[t] for t in texts]]


def by_token_length(model: Any, texts: list[str], prompt: str | None) -> np.ndarray:
    """Indices of ``texts``, longest in tokens (with the prompt, capped at the model's limit) first;
    by characters when the model has no text tokenizer."""
    prefix = (getattr(model, "prompts", None) or {}).get(prompt or "", "")
    tokenizer = getattr(model, "tokenizer", None)
    limit = getattr(model, "max_seq_length", None)
    try:
        ids = tokenizer([prefix + t for t in texts], truncation=bool(limit), max_length=limit)["input_ids"]
        lengths = np.array([len(x) for x in ids])
    except Exception:  # any non-text tokenizer: fall back to characters
        lengths = np.array([len(prefix) + len(t) for t in texts])
    return np.argsort(-lengths, kind="stable")


def _runner(model: Any, precision: Precision) -> Any:
    if precision == "fp32":
        return model
    if precision.startswith("onnx-"):
        from hybridbatch.models.onnx_backend import onnx_runner

        return onnx_runner(model, precision)
    from hybridbatch.models.quantize import reduced_precision

    return reduced_precision(model, precision)


def _dimension(model: Any) -> int:
    for name in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        method = getattr(model, name, None)
        if callable(method):
            return int(method() or 0)
    return 0
