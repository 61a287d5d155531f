"""Encode a collection's questions and candidates once, optionally through an on-disk cache.

Questions are encoded with the model's ``query`` prompt, candidates with its ``passage`` prompt (the
E5-style ``query: `` / ``passage: `` prefixes, stored as sentence-transformers prompts); a model
without such a prompt encodes the bare text. Identical texts are encoded once. Embeddings are L2
normalised float32, so a dot product is the cosine score.

Cache (*ours*): one ``.npy`` per (model, dataset, side), under ``<cache_dir>/<model fingerprint>/``.
The file name hashes everything the vectors depend on: the model fingerprint (a hash of the weights
and the module stack, so a model changed in training never hits a stale entry), the dataset name,
the texts (with the paragraph, when candidates are encoded with context) and the prompt. Files are
written atomically.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.evaluation.lareqa import CollectionEmbeddings
from hybridbatch.io import atomic_write_bytes

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)
QUERY_PROMPT, PASSAGE_PROMPT = "query", "passage"


def candidate_text(text: str, context: str, with_context: bool) -> str:
    """The text encoded for a candidate: the sentence, or (*ours*) the sentence, a newline, its paragraph."""
    return f"{text}\n{context}" if with_context and context else text


def encode_collection(
    model: SentenceTransformer,
    collection: ParallelQACollection,
    batch_size: int = 64,
    show_progress: bool = True,
    cache_dir: Path | None = None,
    with_context: bool = False,
) -> CollectionEmbeddings:
    """Embeddings of every question (per language, in ``ids_in`` order) and candidate pool."""
    query_langs = [lang for lang in collection.languages if collection.ids_in(lang)]
    pool_langs = [lang for lang in collection.languages if collection.candidates.get(lang)]
    questions = {
        lang: [collection.questions[lang][qid].text for qid in collection.ids_in(lang)]
        for lang in query_langs
    }
    passages = {
        lang: [candidate_text(c.text, c.context, with_context) for c in collection.candidates[lang]]
        for lang in pool_langs
    }
    fingerprint = model_fingerprint(model) if cache_dir is not None else ""
    common = (collection.name, fingerprint, batch_size, show_progress, cache_dir)
    was_training = getattr(model, "training", False)
    try:  # sentence-transformers' encode() switches the model to eval mode and leaves it there
        query_vectors = _encode_side(model, questions, QUERY_PROMPT, "queries", *common)
        passage_vectors = _encode_side(model, passages, PASSAGE_PROMPT, "candidates", *common)
    finally:
        if was_training:
            model.train()
    return CollectionEmbeddings(
        queries=_unflatten(query_vectors, questions), candidates=_unflatten(passage_vectors, passages)
    )


def _encode_side(
    model: SentenceTransformer,
    texts_by_lang: dict[str, list[str]],
    prompt_name: str,
    side: str,
    dataset: str,
    fingerprint: str,
    batch_size: int,
    show_progress: bool,
    cache_dir: Path | None,
) -> np.ndarray:
    """Encode the concatenated texts of all languages (one array, rows in language order)."""
    texts = [t for lang in texts_by_lang for t in texts_by_lang[lang]]
    prompts = getattr(model, "prompts", None) or {}
    name = prompt_name if prompt_name in prompts else None
    file = None
    if cache_dir is not None:
        key = _hash("\0".join([fingerprint, dataset, side, prompts.get(prompt_name, ""), *texts]))
        file = Path(cache_dir) / fingerprint[:16] / f"{_slug(dataset)}-{side}-{key[:20]}.npy"
        if file.is_file():
            cached = np.load(file)
            if cached.shape[0] == len(texts):
                logger.info("embedding cache hit: %s", file)
                return cached
    if show_progress:
        print(f"encoding {len(texts):,} {side} of {dataset}", file=sys.stderr)
    vectors = encode_texts(model, texts, name, batch_size, show_progress)
    if file is not None:
        buffer = io.BytesIO()
        np.save(buffer, vectors)
        atomic_write_bytes(file, buffer.getvalue())
    return vectors


def encode_texts(
    model: SentenceTransformer,
    texts: list[str],
    prompt_name: str | None,
    batch_size: int,
    show_progress: bool,
) -> np.ndarray:
    """L2-normalised float32 embeddings of ``texts``; each distinct text is encoded once.

    Texts are batched by *token* length (sentence-transformers' ``encode`` sorts by characters, which
    mixes scripts of very different token/character ratios: on XQuAD-R's 11 languages that pads
    candidates to 1.75× their real tokens, against 1.03× here).
    """
    unique = list(dict.fromkeys(texts))
    if not unique:
        return np.zeros((0, model.get_embedding_dimension() or 0), dtype=np.float32)
    order = _by_token_length(model, unique, prompt_name)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    parts = []
    for batch in tqdm(batches, desc="Batches", disable=not show_progress, leave=False):
        parts.append(
            model.encode(
                [unique[i] for i in batch],
                prompt_name=prompt_name,
                batch_size=batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        )
    vectors = np.empty((len(unique), parts[0].shape[1]), dtype=np.float32)
    vectors[np.concatenate(batches)] = np.concatenate(parts).astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-12)
    position = {text: i for i, text in enumerate(unique)}
    return vectors[[position[t] for t in texts]]


def _by_token_length(model: SentenceTransformer, texts: list[str], prompt_name: str | None) -> np.ndarray:
    """Indices of ``texts``, longest in tokens (with the prompt, capped at the model's limit) first;
    by characters when the model has no text tokenizer."""
    prompt = (getattr(model, "prompts", None) or {}).get(prompt_name or "", "")
    tokenizer = getattr(model, "tokenizer", None)
    limit = getattr(model, "max_seq_length", None)
    try:
        ids = tokenizer([prompt + t for t in texts], truncation=bool(limit), max_length=limit)["input_ids"]
        lengths = np.array([len(x) for x in ids])
    except Exception:  # any non-text tokenizer: fall back to characters
        lengths = np.array([len(prompt) + len(t) for t in texts])
    return np.argsort(-lengths, kind="stable")


def model_fingerprint(model: SentenceTransformer) -> str:
    """A hash of the model's weights, module stack (``repr``: pooling, normalisation) and max length."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(model).encode())
    digest.update(str(getattr(model, "max_seq_length", None)).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(dtype=_byte_dtype()).numpy().tobytes())
    return digest.hexdigest()


def _byte_dtype():
    import torch

    return torch.uint8


def _unflatten(vectors: np.ndarray, texts_by_lang: dict[str, list[str]]) -> dict[str, np.ndarray]:
    out, start = {}, 0
    for lang, texts in texts_by_lang.items():
        out[lang] = vectors[start : start + len(texts)]
        start += len(texts)
    return out


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[-60:] or "dataset"
