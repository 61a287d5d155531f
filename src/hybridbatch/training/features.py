"""From a :class:`~hybridbatch.sampling.Batch` of ids to texts, token features and labels.

Query ``i`` is the question of ``pairs[i].id`` in ``query_lang`` and its positive the answer sentence
in ``passage_lang``; documents are the B positives in pair order followed by every pair's hard
negatives (candidates of ``passage_lang``'s pool, then of ``query_lang``'s for ``query_negatives``), so
``labels = [0, …, B-1]``. Prompts (``query: ``, ``passage: ``) come from the model's
sentence-transformers ``prompts``, looked up by the one encoder
(:func:`hybridbatch.models.encoding.prompt_text`, as evaluation and search do). Queries and passages are
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
from hybridbatch.models.encoding import prompt_text
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
        docs.extend(collection.candidates[p.passage_lang][i].text for i in p.negatives)
        docs.extend(collection.candidates[p.query_lang][i].text for i in p.query_negatives)
    return BatchTexts(queries, docs)


def model_prompts(model: SentenceTransformer) -> tuple[str, str]:
    """The model's ``query`` and ``passage`` prompts ("" when it has none)."""
    return prompt_text(model, "query"), prompt_text(model, "passage")


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


def length_sorted_chunks(
    features: dict[str, Any], size: int, trim: bool = True
) -> tuple[list[dict[str, Any]], torch.Tensor]:
    """Split tokenized ``features`` into chunks of at most ``size`` rows, longest texts first.

    With ``trim`` each chunk drops the padding columns no row of it needs, so short texts do not pay for
    long ones (right padding assumed, as for BERT/XLM-R). Returns the chunks and ``order``: chunk rows,
    concatenated, are the original rows ``order``. Non-tensor values (e.g. ``modality``) are copied.
    """
    mask = features["attention_mask"]
    n, width = mask.shape
    lengths = mask.sum(dim=1)
    order = torch.argsort(-lengths.cpu(), stable=True)
    chunks = []
    for start in range(0, n, size):
        idx = order[start : start + size].to(mask.device)
        keep = int(lengths[idx].max()) if trim else width
        chunk: dict[str, Any] = {}
        for key, value in features.items():
            if isinstance(value, torch.Tensor) and value.ndim >= 1 and value.shape[0] == n:
                value = value[idx]
                if value.ndim == 2 and value.shape[1] == width:
                    value = value[:, :keep]
            chunk[key] = value
        chunks.append(chunk)
    return chunks, order


def embed_bucketed(model: torch.nn.Module, features: dict[str, Any], rows: int) -> torch.Tensor:
    """``embed(model, features)`` computed in length-sorted buckets of ``rows`` rows, each cut to its own
    longest text, returned in the original row order (differentiable: one graph over all buckets).

    The same embeddings as one padded forward (padding is masked out), at the cost of the real tokens
    rather than ``n × longest``.
    """
    if features["attention_mask"].shape[0] <= rows:
        return embed(model, features)
    chunks, order = length_sorted_chunks(features, rows, trim=True)
    sorted_emb = torch.cat([embed(model, chunk) for chunk in chunks])
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order))
    return sorted_emb[inverse.to(sorted_emb.device)]


def permuted_labels(labels: torch.Tensor, query_order: torch.Tensor, doc_order: torch.Tensor) -> torch.Tensor:
    """Labels after reordering queries by ``query_order`` and docs by ``doc_order``: sorted query ``i``
    is original query ``query_order[i]``; its positive moves to the position of ``labels[query_order[i]]``
    in ``doc_order``."""
    inverse = torch.empty_like(doc_order)
    inverse[doc_order] = torch.arange(len(doc_order))
    return inverse[labels.cpu()[query_order]].to(labels.device)
