"""Exact speed levers of the training step (issue 13): packed sequences, fused AdamW, foreach clipping.

*Packing* (ours; the unpadding idea of Krell et al. 2021, "Efficient sequence packing without
cross-contamination", arXiv 2107.02027): the texts of both sides of a step (queries and documents) are
laid end to end into a few rows of at most ``capacity`` tokens (first-fit decreasing), each text with
its own position ids 0…len-1 and a block-diagonal attention mask, so no token attends across texts.
One encoder forward then covers the whole step with almost no padding (≈1.02× the real tokens on
MLQA-R batches against ≈1.19× for 16-row length buckets) and larger matrix multiplies. The token
states are unpacked into the usual ``[n, length, dim]`` layout and go through the model's own pooling
and normalisation modules, so the embeddings equal those of one padded forward up to float rounding
(the same function; dropout masks are drawn in another layout, so a training run with dropout follows
another — equally distributed — random path than the bucketed one).

Applies to a plain sentence-transformers model whose first module wraps a BERT encoder (absolute
position ids from 0, e.g. multilingual-e5-small, builtin:tiny); :func:`can_pack` says so, and callers
fall back to the bucketed forward otherwise (DDP-wrapped models, other architectures).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

PACKABLE_TYPES = ("bert",)


def can_pack(model: nn.Module) -> bool:
    """True when :func:`embed_packed` applies to ``model`` (see the module docstring)."""
    from sentence_transformers import SentenceTransformer

    if not isinstance(model, SentenceTransformer) or len(model) < 2:
        return False
    auto_model = getattr(model[0], "auto_model", None)
    config = getattr(auto_model, "config", None)
    if config is None or getattr(config, "model_type", None) not in PACKABLE_TYPES:
        return False
    absolute = getattr(config, "position_embedding_type", "absolute") in (None, "absolute")
    return absolute and config._attn_implementation in ("sdpa", "eager") and not config.is_decoder


def pack_rows(lengths: list[int], capacity: int) -> list[list[int]]:
    """First-fit decreasing: indices of ``lengths`` grouped into rows whose lengths sum to ≤ ``capacity``."""
    rows: list[list[int]] = []
    free: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda k: -lengths[k]):
        slot = next((r for r, space in enumerate(free) if space >= lengths[i]), None)
        if slot is None:
            rows.append([])
            free.append(capacity)
            slot = len(rows) - 1
        rows[slot].append(i)
        free[slot] -= lengths[i]
    return rows


def _packed_inputs(
    ids: list[torch.Tensor], capacity: int, eager: torch.dtype | None
) -> tuple[dict[str, Any], torch.Tensor]:
    """Rows of packed token ids, position ids and a block-diagonal mask (additive, in the model's dtype
    ``eager``, for eager attention); and for each text's tokens, their flat position in the rows (texts in
    order, tokens in order)."""
    rows = pack_rows([len(t) for t in ids], capacity)
    device = ids[0].device
    input_ids = torch.zeros(len(rows), capacity, dtype=ids[0].dtype, device=device)
    positions = torch.zeros_like(input_ids)
    segment = torch.full((len(rows), capacity), -1, dtype=torch.long, device=device)
    where = [torch.empty(0)] * len(ids)
    for r, members in enumerate(rows):
        start = 0
        for seg, i in enumerate(members):
            n = len(ids[i])
            input_ids[r, start : start + n] = ids[i]
            positions[r, start : start + n] = torch.arange(n, device=device)
            segment[r, start : start + n] = seg
            where[i] = r * capacity + start + torch.arange(n, device=device)
            start += n
    same = segment[:, :, None] == segment[:, None, :]
    allowed = (same & (segment[:, :, None] >= 0)) | torch.eye(capacity, dtype=torch.bool, device=device)
    mask: torch.Tensor = allowed[:, None]  # padding attends to itself only: no empty softmax rows
    if eager is not None:  # eager attention adds the mask to the scores (a bf16 model: in bf16)
        mask = torch.zeros(mask.shape, device=device, dtype=eager).masked_fill(~mask, torch.finfo(eager).min)
    inputs = {
        "input_ids": input_ids,
        "position_ids": positions,
        "token_type_ids": torch.zeros_like(input_ids),
    }
    return {**inputs, "attention_mask": mask}, torch.cat(where)


def embed_packed(
    model: nn.Module, sides: list[dict[str, Any]], capacity: int | None = None
) -> list[torch.Tensor]:
    """Sentence embeddings of each tokenized side in ``sides`` from one packed forward (module docstring).

    ``capacity`` (tokens per row) defaults to the longest text of all sides. Right padding assumed.
    """
    transformer = model[0]
    auto_model = transformer.auto_model
    texts = []
    for features in sides:
        lengths = features["attention_mask"].sum(dim=1).tolist()
        texts += [row[:n] for row, n in zip(features["input_ids"], lengths, strict=True)]
    capacity = capacity or max(len(t) for t in texts)
    eager = auto_model.dtype if auto_model.config._attn_implementation == "eager" else None
    inputs, where = _packed_inputs(texts, capacity, eager)
    states = auto_model(**inputs).last_hidden_state
    flat = torch.cat([states.reshape(-1, states.shape[-1]), states.new_zeros(1, states.shape[-1])])
    out, offset = [], 0
    for features in sides:
        mask = features["attention_mask"].bool()
        n = mask.sum().item()
        gather = torch.full(mask.shape, flat.shape[0] - 1, dtype=torch.long, device=mask.device)
        gather[mask] = where[offset : offset + n]  # boolean indexing is row-major: texts, then tokens
        offset += n
        pooled = {**features, "token_embeddings": flat[gather]}
        for module in list(model)[1:]:
            pooled = module(pooled)
        out.append(pooled["sentence_embedding"])
    return out


def embed_sides(
    model: nn.Module, queries: dict[str, Any], docs: dict[str, Any], rows: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Query and doc embeddings of one training step: packed (:func:`embed_packed`) when the model allows
    it and a side has more than ``rows`` texts, else each side in ``rows``-row length buckets.

    A side of at most ``rows`` texts is one padded forward in the bucketed path; keeping that path for
    small batches keeps their dropout draws (and so their training runs) exactly as before packing.
    """
    from hybridbatch.training.features import embed_bucketed

    if can_pack(model) and max(len(queries["attention_mask"]), len(docs["attention_mask"])) > rows:
        query_emb, doc_emb = embed_packed(model, [queries, docs])
        return query_emb, doc_emb
    return embed_bucketed(model, queries, rows), embed_bucketed(model, docs, rows)


def make_adamw(param_groups: list[dict[str, Any]], lr: float) -> torch.optim.AdamW:
    """AdamW over all parameters at once: the fused kernel on CUDA (the same update up to float rounding),
    the multi-tensor (``foreach``) one elsewhere — on CPU bitwise the default per-parameter loop's update,
    so CPU runs stay reproducible against earlier ones (the fused CPU kernel rounds differently)."""
    params = [p for group in param_groups for p in group["params"]]
    if params and all(p.device.type == "cuda" for p in params):
        return torch.optim.AdamW(param_groups, lr=lr, fused=True)
    return torch.optim.AdamW(param_groups, lr=lr, foreach=True)


def clip_grad_norm(params: list[torch.Tensor], max_norm: float) -> torch.Tensor:
    """``clip_grad_norm_`` with the multi-tensor norm and scaling (the same result, fewer kernel calls)."""
    return torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=True)
