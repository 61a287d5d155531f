"""GradCache: contrastive batches larger than memory (Gao et al. 2021, arXiv 2101.06983).

The InfoNCE loss couples every query with every document of the batch, so plain gradient
accumulation over mini-batches changes the loss (fewer in-batch negatives). GradCache keeps the
full-batch loss and its exact gradient while holding the activations of only one mini-batch:

1. embed every chunk without a graph, saving the RNG state before each chunk;
2. compute the loss on the concatenated embeddings (leaves with ``requires_grad``) and backprop
   it to the embeddings only;
3. re-encode each chunk with a graph under the same RNG state (so dropout draws the same masks,
   like GradCache's ``RandContext``) and ``backward(embedding_grad)`` into the parameters.

Under DDP, pass the wrapped model as ``model``: every chunk but the last runs in ``model.no_sync()``
so the gradient all-reduce happens once, on the accumulated gradient of the last backward. Pass a
:class:`~hybridbatch.training.distributed.DistributedLoss` as ``loss_fn`` for cross-device
negatives; the gradient scaling argument of :mod:`.distributed` holds unchanged, since step 3 only
redistributes the embedding gradients to the parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from types import TracebackType
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from hybridbatch.training.distributed import no_sync

__all__ = ["RandContext", "gradcache_backward", "split_batch"]

T = TypeVar("T")


class RandContext:
    """The torch RNG state (CPU and the current CUDA device) at construction; ``with`` replays it.

    Inside the ``with`` block the RNG starts from the saved state; on exit the state from before
    the block is restored (``torch.random.fork_rng``), so replaying does not disturb the stream.
    """

    def __init__(self, device: torch.device | None = None) -> None:
        if device is None and torch.cuda.is_available() and torch.cuda.is_initialized():
            device = torch.device("cuda", torch.cuda.current_device())
        self.devices = [device] if device is not None and device.type == "cuda" else []
        self.cpu_state = torch.get_rng_state()
        self.cuda_states = [torch.cuda.get_rng_state(d) for d in self.devices]
        self._fork: Any = None

    def __enter__(self) -> RandContext:
        self._fork = torch.random.fork_rng(devices=self.devices)
        self._fork.__enter__()
        torch.set_rng_state(self.cpu_state)
        for dev, state in zip(self.devices, self.cuda_states, strict=True):
            torch.cuda.set_rng_state(state, dev)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._fork.__exit__(exc_type, exc, tb)
        self._fork = None


def split_batch(batch: T, size: int) -> list[T]:
    """Chunks of at most ``size`` rows of a tensor, a mapping of tensors (tokenizer features; each
    value sliced along dim 0) or a sequence (e.g. a list of texts)."""
    if size < 1:
        raise ValueError(f"mini-batch size must be >= 1, got {size}")
    if isinstance(batch, Tensor):
        return list(batch.split(size))  # type: ignore[return-value]
    if isinstance(batch, Mapping):
        n = len(next(iter(batch.values())))
        return [type(batch)({k: v[i : i + size] for k, v in batch.items()}) for i in range(0, n, size)]  # type: ignore[call-arg]
    if isinstance(batch, Sequence):
        return [batch[i : i + size] for i in range(0, len(batch), size)]  # type: ignore[misc]
    raise TypeError(f"cannot split a {type(batch).__name__} into mini-batches")


def gradcache_backward(
    encode_fn: Callable[[Any], Tensor],
    query_chunks: Sequence[Any],
    doc_chunks: Sequence[Any],
    loss_fn: Callable[..., Tensor],
    labels: Tensor | None = None,
    *,
    model: nn.Module | None = None,
    replay_rng: bool = True,
    device: torch.device | None = None,
) -> Tensor:
    """Accumulate into ``.grad`` the exact gradient of ``loss_fn`` over all chunks; return the loss.

    Args:
        encode_fn: maps one chunk (e.g. tokenizer features) to embeddings ``[n, d]`` through the
            trainable model.
        query_chunks, doc_chunks: the mini-batches; their embeddings are concatenated in order.
        loss_fn: ``loss_fn(query_emb, doc_emb, labels)`` (or ``loss_fn(query_emb, doc_emb)`` when
            ``labels`` is None) → scalar, e.g. a ``DistributedLoss``.
        model: the DDP-wrapped model, if any: all chunk backwards but the last run under
            ``no_sync()``.
        replay_rng: re-run each chunk under the RNG state of its first pass (needed for dropout).
        device: the CUDA device whose RNG to replay (default: the current one, if CUDA is in use).

    Returns:
        The loss value (detached). The optimizer step is left to the caller.
    """
    if not query_chunks or not doc_chunks:
        raise ValueError("gradcache_backward needs at least one query chunk and one doc chunk")
    jobs = [(encode_fn, c) for c in [*query_chunks, *doc_chunks]]

    states: list[RandContext | None] = []
    cached: list[Tensor] = []
    with torch.no_grad():
        for fn, chunk in jobs:
            states.append(RandContext(device) if replay_rng else None)
            cached.append(fn(chunk).detach().requires_grad_())

    n_queries = len(query_chunks)
    query_emb, doc_emb = torch.cat(cached[:n_queries]), torch.cat(cached[n_queries:])
    loss = loss_fn(query_emb, doc_emb) if labels is None else loss_fn(query_emb, doc_emb, labels)
    loss.backward()

    for i, ((fn, chunk), state, leaf) in enumerate(zip(jobs, states, cached, strict=True)):
        last = i == len(jobs) - 1
        with no_sync(model, enabled=not last), state or nullcontext():
            emb = fn(chunk)
            grad = leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)
            emb.backward(grad)
    return loss.detach()
