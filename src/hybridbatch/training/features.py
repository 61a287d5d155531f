"""From a :class:`~hybridbatch.sampling.Batch` of ids to texts, token features and labels.

Query ``i`` is the question of ``pairs[i].id`` in ``query_lang`` and its positive the answer sentence
in ``passage_lang``; documents are the B positives in pair order followed by every pair's hard
negatives (candidates of ``passage_lang``'s pool), so ``labels = [0, …, B-1]``. Prompts (``query: ``,
``passage: ``) come from the model's sentence-transformers ``prompts``. Queries and passages are
tokenized separately, each padded only to its longest text (*dynamic padding*) and truncated to its own
maximum length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from sentence_transformers import SentenceTransformer

from hybridbatch.data import ParallelQACollection
from hybridbatch.errors import DataError
from hybridbatch.sampling.batch import Batch

Padding = Literal["longest", "max_length"]


@dataclass(frozen=True)
class BatchTexts:
    """Texts of one batch (without prompts): B queries, B positives + H hard negatives as docs."""

    queries: list[str]
    docs: list[str]

    @property
    def labels(self) -> torch.Tensor:
        """Row of each query's positive among the docs: ``[0, …, B-1]``."""
        return torch.arange(len(self.queries))


def batch_texts(batch: Batch, collections: dict[str, ParallelQACollection]) -> BatchTexts:
    """Look up the texts of ``batch`` in the training collection named by ``batch.source``."""
    collection = collections.get(batch.source)
    if collection is None:
        if len(collections) != 1:
            raise DataError(f"batch {batch.step}: unknown source {batch.source!r} ({', '.join(collections)})")
        collection = next(iter(collections.values()))
    queries = [collection.question(p.id, p.query_lang).text for p in batch.pairs]
    docs = [collection.answer(p.id, p.passage_lang).text for p in batch.pairs]
    for p in batch.pairs:
        pool = collection.candidates[p.passage_lang]
        docs.extend(pool[i].text for i in p.negatives)
    return BatchTexts(queries, docs)


def model_prompts(model: SentenceTransformer) -> tuple[str, str]:
    """The model's ``query`` and ``passage`` prompts ("" when it has none)."""
    prompts = getattr(model, "prompts", None) or {}
    return prompts.get("query", ""), prompts.get("passage", prompts.get("document", ""))


def tokenize(
    model: SentenceTransformer,
    texts: list[str],
    prompt: str,
    max_length: int,
    padding: Padding = "longest",
    device: torch.device | str | None = None,
) -> dict[str, Any]:
    """Token features of ``prompt + text`` for each text, as sentence-transformers' ``encode`` builds them
    (so training and inference see the same inputs), truncated to ``max_length`` tokens."""
    kwargs: dict[str, Any] = {"max_length": max_length}
    if padding == "max_length":
        kwargs["processing_kwargs"] = {"text": {"padding": "max_length", "max_length": max_length}}
    features = model.preprocess(texts, prompt=prompt or None, **kwargs)
    if device is not None:
        features = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
    return features


def embed(model: torch.nn.Module, features: dict[str, Any]) -> torch.Tensor:
    """Sentence embeddings ``[n, d]`` of tokenized features (works on DDP-wrapped models too)."""
    return model(dict(features))["sentence_embedding"]
