"""An on-disk cache of encoded texts, keyed by the model's weights (*ours*).

One ``.npy`` per (model, label, side, precision), under ``<cache_dir>/<model fingerprint>/``. The
file name hashes everything the vectors depend on: the model fingerprint (:func:`model_fingerprint`:
weights and module configuration, so a model changed in training never hits a stale entry), the label
(e.g. the dataset name), the side (``queries`` / ``candidates``), the prompt text, the precision
and its scheme (``int8`` / ``bf16`` entries never answer an ``fp32`` request or another scheme; fp32
file names are built as in earlier versions) and the texts themselves. Files are written atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hybridbatch.io import atomic_write_bytes
from hybridbatch.models.encoding import (
    Kind,
    Precision,
    check_precision,
    encode_texts,
    prompt_name,
    prompt_text,
)

logger = logging.getLogger(__name__)
_POOLER_HEAD = re.compile(r"(^|\.)(auto_)?model\.pooler\.")
SIDES: dict[str, str] = {"query": "queries", "passage": "candidates"}


def model_fingerprint(model: Any) -> str:
    """A hash of what a model's embeddings depend on: its weights, the type and configuration of each
    module (pooling mode, normalisation, dense activation) and its max length.

    Module *configurations* are hashed, not ``repr(model)``, so a loader or library change that only
    alters how a module prints keeps the key; the weights of a Hugging Face pooler head
    (``model.pooler.*``) are left out: sentence-transformers embeds from the token embeddings, so
    they never change an embedding (and a checkpoint saved without them used to get random ones).
    """
    import torch

    digest = hashlib.blake2b(digest_size=16)
    digest.update(json.dumps(_module_configs(model), sort_keys=True, default=str).encode())
    digest.update(str(getattr(model, "max_seq_length", None)).encode())
    for name, tensor in model.state_dict().items():
        if _POOLER_HEAD.search(name):
            continue
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(dtype=torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _module_configs(model: Any) -> list[Any]:
    """``[type name, config]`` per module of a sentence-transformers model (``repr`` for other models)."""
    try:
        modules = list(model)
    except TypeError:
        return [repr(model)]
    configs = []
    for module in modules:
        get_config = getattr(module, "get_config_dict", None)
        configs.append([type(module).__name__, get_config() if callable(get_config) else repr(module)])
    return configs


def cache_file(
    cache_dir: Path, fingerprint: str, label: str, kind: Kind, prompt: str, texts: list[str], precision: str
) -> Path:
    """Where the embeddings of ``texts`` (encoded as ``kind`` under ``prompt``) are cached."""
    side = SIDES[kind]
    parts = [fingerprint, label, side, prompt]
    if precision != "fp32":
        from hybridbatch.models.quantize import SCHEMES

        parts.append(f"precision={SCHEMES.get(precision, precision)}")
        side = f"{side}-{precision}"
    key = hashlib.sha256("\0".join([*parts, *texts]).encode("utf-8")).hexdigest()
    return Path(cache_dir) / fingerprint[:16] / f"{_slug(label)}-{side}-{key[:20]}.npy"


@dataclass(frozen=True)
class ModelCache:
    """One model's entries in an embedding cache: the cache directory and the model's fingerprint."""

    directory: Path
    fingerprint: str


def model_cache(model: Any, cache_dir: Path | None) -> ModelCache | None:
    """``model``'s entries in ``cache_dir`` (``None``: no cache); its weights are fingerprinted here, once."""
    return None if cache_dir is None else ModelCache(Path(cache_dir), model_fingerprint(model))


def encode_cached(
    model: Any,
    texts: list[str],
    kind: Kind,
    label: str,
    cache: ModelCache | None = None,
    batch_size: int = 64,
    show_progress: bool = False,
    precision: Precision = "fp32",
) -> np.ndarray:
    """:func:`~hybridbatch.models.encoding.encode` through ``cache`` (:func:`model_cache`; ``None``: none).

    ``label`` names the text set (e.g. the dataset).
    """
    precision = check_precision(precision)
    file = None
    if cache is not None:
        prompt = prompt_text(model, kind)
        file = cache_file(cache.directory, cache.fingerprint, label, kind, prompt, texts, precision)
        if file.is_file():
            cached = np.load(file)
            if cached.shape[0] == len(texts):
                logger.info("embedding cache hit: %s", file)
                return cached
    if show_progress:
        print(f"encoding {len(texts):,} {SIDES[kind]} of {label} ({precision})", file=sys.stderr)
    vectors = encode_texts(model, texts, prompt_name(model, kind), batch_size, show_progress, precision)
    if file is not None:
        buffer = io.BytesIO()
        np.save(buffer, vectors)
        atomic_write_bytes(file, buffer.getvalue())
    return vectors


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[-60:] or "dataset"
