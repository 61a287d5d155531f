"""Encode a collection's questions and candidates once, through the one encoder and its cache.

Questions are encoded as queries, candidates as passages by :mod:`hybridbatch.models.encoding`
(prompts, token-length batching, precision), through the embedding cache of
:mod:`hybridbatch.models.embedding_cache` when a cache directory is given. An optional
:class:`EmbeddingTransform` is applied after encoding and caching (the cache holds raw vectors).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from pydantic import ConfigDict, Field, field_validator

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.evaluation.lareqa import CollectionEmbeddings
from hybridbatch.models.embedding_cache import encode_cached, model_cache
from hybridbatch.models.encoding import precision_problem
from hybridbatch.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class EmbeddingTransform(Protocol):
    """A post-encode map of embeddings: ``transform(embeddings, langs) -> embeddings`` (same row count).

    Called once on all candidate embeddings (rows in pool order, ``langs`` the language of each row),
    then once on all query embeddings. A transform with a ``fit(embeddings, langs)`` method is first
    fitted on the candidate embeddings only (corpus statistics, never queries).
    """

    def __call__(self, embeddings: np.ndarray, langs: list[str]) -> np.ndarray: ...


def candidate_text(text: str, context: str, with_context: bool) -> str:
    """The text encoded for a candidate: the sentence, or (*ours*) the sentence, a newline, its paragraph."""
    return f"{text}\n{context}" if with_context and context else text


class EncodeOptions(Settings):
    """How texts are encoded: batch size, precision, embedding cache and progress bars (one bundle for
    :func:`encode_collection`, ``evaluate`` and ``evaluate_model``). Validated once, when built."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(64, ge=1, description="Encoding batch size")
    precision: str = Field("fp32", description="fp32, bf16, int8, onnx-fp32, onnx-int8 or auto")
    cache_dir: Path | None = Field(None, description="Embedding cache directory (None: no cache)")
    show_progress: bool = Field(True, description="Show encoding progress bars")

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, value: str) -> str:
        problem = precision_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def encode_collection(
    model: SentenceTransformer,
    collection: ParallelQACollection,
    encoding: EncodeOptions | None = None,
    with_context: bool = False,
    transform: EmbeddingTransform | None = None,
) -> CollectionEmbeddings:
    """Embeddings of every question (per language, in ``ids_in`` order) and candidate pool.

    ``encoding.precision`` is resolved (``auto``) once, by the encoder (:func:`encode_cached`)."""
    encoding = encoding or EncodeOptions()
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
    options: dict[str, Any] = {
        "label": collection.name,
        "cache": model_cache(model, encoding.cache_dir),
        "batch_size": encoding.batch_size,
        "show_progress": encoding.show_progress,
        "precision": encoding.precision,
    }
    query_vectors = encode_cached(model, _flat(questions), "query", **options)
    passage_vectors = encode_cached(model, _flat(passages), "passage", **options)
    if transform is not None:
        query_vectors, passage_vectors = _transformed(
            transform, query_vectors, questions, passage_vectors, passages
        )
    return CollectionEmbeddings(
        queries=_unflatten(query_vectors, questions), candidates=_unflatten(passage_vectors, passages)
    )


def _transformed(
    transform: EmbeddingTransform,
    queries: np.ndarray,
    questions: dict[str, list[str]],
    candidates: np.ndarray,
    passages: dict[str, list[str]],
) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``transform`` to the candidates (fitting it on them first, if it fits) and the queries."""
    query_langs = [lang for lang, texts in questions.items() for _ in texts]
    pool_langs = [lang for lang, texts in passages.items() for _ in texts]
    fit = getattr(transform, "fit", None)
    if callable(fit):
        fit(candidates, pool_langs)
    out_candidates = np.asarray(transform(candidates, pool_langs), dtype=np.float32)
    out_queries = np.asarray(transform(queries, query_langs), dtype=np.float32)
    if out_candidates.shape[0] != candidates.shape[0] or out_queries.shape[0] != queries.shape[0]:
        raise ValueError("an embedding transform must keep one row per text")
    return out_queries, out_candidates


def _flat(texts_by_lang: dict[str, list[str]]) -> list[str]:
    return [t for lang in texts_by_lang for t in texts_by_lang[lang]]


def _unflatten(vectors: np.ndarray, texts_by_lang: dict[str, list[str]]) -> dict[str, np.ndarray]:
    out, start = {}, 0
    for lang, texts in texts_by_lang.items():
        out[lang] = vectors[start : start + len(texts)]
        start += len(texts)
    return out
