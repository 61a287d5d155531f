"""One training step's maths: seeded forward, contrastive backward (plain or GradCache), the L2-SP anchor.

Every step reseeds torch from (seed, step, rank) before its forward pass, so dropout of step ``s`` does
not depend on what ran before (exact resume). The anchor term μ·‖θ − θ_base‖² (L2-SP, Li et al.,
ICML 2018) is added once per step, as its exact gradient 2μ(θ − θ_base) on the trainable parameters,
after the contrastive backward — so it composes with GradCache chunks and DDP (identical on every rank).
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from hybridbatch.training.features import (
    batch_texts,
    embed,
    length_sorted_chunks,
    permuted_labels,
    tokenize,
)
from hybridbatch.training.speed import clip_grad_norm, embed_sides

if TYPE_CHECKING:
    from hybridbatch.sampling import Batch
    from hybridbatch.training.state import TrainingState

# Rows per length bucket of the plain (non-GradCache) forward: small enough to cut padding, large
# enough to keep matrix multiplies efficient.
LENGTH_BUCKET_ROWS = 16


def step_seed(seed: int, step: int, rank: int) -> int:
    """The torch seed of training step ``step`` on ``rank`` (dropout), a pure function of its inputs."""
    digest = hashlib.sha256(f"hybridbatch:{seed}:{step}:{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


def train_step(state: TrainingState, batch: Batch) -> float:
    """One optimizer step on this rank's slice ``batch``; returns the (rank-averaged) objective."""
    loss = compute_gradients(state, batch)
    config = state.config
    if config.max_grad_norm:
        clip_grad_norm(state.trainable, config.max_grad_norm)
    state.optimizer.step()
    state.scheduler.step()
    state.optimizer.zero_grad(set_to_none=True)
    from hybridbatch.training import distributed

    if not state.ctx.distributed:
        return loss
    state.step_metrics = {k: distributed.reduce_mean(v) for k, v in state.step_metrics.items()}
    return distributed.reduce_mean(loss)


def compute_gradients(state: TrainingState, batch: Batch) -> float:
    """Accumulate the step's gradient (contrastive + anchor) in ``.grad``; returns the objective."""
    config, device = state.config, state.ctx.device
    torch.manual_seed(step_seed(config.seed, batch.step, state.ctx.rank))
    state.model.train()
    texts = batch_texts(batch, state.sampler.sources)
    queries, passages = state.prompts
    q = tokenize(state.st_model, texts.queries, queries, config.max_query_length, config.padding, device)
    d = tokenize(state.st_model, texts.docs, passages, config.max_passage_length, config.padding, device)
    loss_fn, value = state.loss_fn, 0.0
    if state.distiller is not None:  # + λ·distillation: a stream's own pass, or on these embeddings
        value += state.distiller.begin(state, batch)
        loss_fn = state.distiller.objective(loss_fn, batch, texts, state.sampler.sources)
    loss = contrastive_backward(
        state.model,
        loss_fn,
        q,
        d,
        texts.labels.to(device),
        mini_batch_size=config.mini_batch_size,
        trim=config.padding == "longest",
        autocast=state.autocast,
    )
    value += float(loss)
    if state.distiller is not None:
        state.step_metrics = dict(state.distiller.last)
        state.counters["teacher_seconds"] += state.distiller.last["teacher_seconds"]
    if state.anchor is not None:
        value += anchor_backward(state.trainable, state.anchor, config.anchor_weight)
    return value


def anchor_weights(params: list[nn.Parameter]) -> list[torch.Tensor]:
    """Detached copies θ_base of the trainable parameters (the L2-SP anchor)."""
    return [p.detach().clone() for p in params]


def anchor_backward(params: list[nn.Parameter], anchor: list[torch.Tensor], weight: float) -> float:
    """Add ∇ μ·‖θ − θ_base‖² = 2μ(θ − θ_base) to each ``.grad``; returns μ·‖θ − θ_base‖²."""
    penalty = 0.0
    with torch.no_grad():
        for p, base in zip(params, anchor, strict=True):
            diff = p - base
            penalty += float(diff.pow(2).sum())
            if p.grad is None:
                p.grad = (2.0 * weight) * diff
            else:
                p.grad.add_(diff, alpha=2.0 * weight)
    return weight * penalty


def contrastive_backward(
    model: nn.Module,
    loss_fn: nn.Module,
    queries: dict[str, Any],
    docs: dict[str, Any],
    labels: torch.Tensor,
    mini_batch_size: int | None = None,
    trim: bool = True,
    autocast: Any = contextlib.nullcontext,
) -> torch.Tensor:
    """Embed queries and docs, compute ``loss_fn(q, d, labels)`` and backpropagate; returns the loss.

    Without ``mini_batch_size`` and with ``trim``, both sides go through one packed forward
    (:func:`.speed.embed_sides`: no padding, the same function) or, where packing does not apply, each
    side is embedded in length-sorted buckets of ``LENGTH_BUCKET_ROWS`` rows cut to their own longest
    text (one autograd graph, the same gradient).
    With ``mini_batch_size`` this is GradCache (:mod:`.gradcache`): the exact full-batch gradient while
    holding one chunk's activations. Chunks are length-sorted and (``trim``) cut to their own longest
    text, and the labels are permuted to match, so short texts do not pay for long ones.
    """
    if not mini_batch_size:
        with autocast():
            if trim:  # one packed forward for both sides where possible (.speed), else length buckets
                query_emb, doc_emb = embed_sides(model, queries, docs, LENGTH_BUCKET_ROWS)
            else:
                query_emb, doc_emb = embed(model, queries), embed(model, docs)
        loss = loss_fn(query_emb.float(), doc_emb.float(), labels)  # the loss in fp32 even under bf16
        loss.backward()
        return loss.detach()
    from hybridbatch.training.gradcache import gradcache_backward

    q_chunks, q_order = length_sorted_chunks(queries, mini_batch_size, trim)
    d_chunks, d_order = length_sorted_chunks(docs, mini_batch_size, trim)

    def encode(features: dict[str, Any]) -> torch.Tensor:
        with autocast():
            return embed(model, features).float()

    device = labels.device
    reordered = getattr(loss_fn, "reordered", None)  # an objective with per-row targets (.distill)
    return gradcache_backward(
        encode,
        q_chunks,
        d_chunks,
        reordered(q_order, d_order) if reordered is not None else loss_fn,
        permuted_labels(labels, q_order, d_order),
        model=model,
        device=device if device.type == "cuda" else None,
    )
