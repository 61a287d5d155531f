"""torch.distributed plumbing for ``hybridbatch train`` under ``torchrun`` (issue 6).

One process per device, launched by ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``/``MASTER_PORT``). Without those variables everything here degrades to a single-process
no-op, so the trainer calls the same functions in both cases.

Cross-device in-batch negatives: :class:`DistributedLoss` gathers the embeddings of every rank with
gradient (``torch.distributed.nn.functional.all_gather``) so that each query is scored against the
*global* batch, as in a single-process run with the global batch size.

Gradient scaling (why no extra factor is needed). Let the global loss be
``L = 1/N Σ_r L_r`` where ``L_r`` is the mean loss of rank r's queries against all docs (N ranks with
equal local batch). The backward of ``all_gather`` *sums* over ranks the gradients that every rank's
loss sends to a rank's slice, so rank r's parameters receive ``∂(Σ_s L_s)/∂θ`` restricted to the
embeddings that rank r computed. DDP then *averages* over ranks: ``1/N Σ_r ... = ∂L/∂θ`` — exactly
the single-process gradient of the mean loss over the concatenated batch. In ``gather_queries`` mode
every rank computes the full global loss ``L`` (identical on all ranks); the all_gather backward then
gives N × the rank's share and DDP's 1/N cancels it, again yielding ``∂L/∂θ``. Unequal local batch
sizes are handled by padding for the collective and, in local-query mode, by weighting ``L_r`` with
``N·B_r / Σ_s B_s``.
"""

from __future__ import annotations

import gc
import inspect
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from hybridbatch.errors import ConfigError


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in the job. ``is_main`` is rank 0: the only writer of files."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    is_main: bool = True
    backend: str | None = None

    @property
    def distributed(self) -> bool:
        """True when a process group with more than one rank is live."""
        return self.world_size > 1 and is_distributed()


def is_distributed() -> bool:
    """True when ``torch.distributed`` has an initialised process group of size > 1."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"environment variable {name}={value!r} is not an integer") from exc


def _default_backend() -> str:
    return "nccl" if torch.cuda.is_available() else "gloo"


def init_distributed(backend: str | None = None, device: str | None = None) -> DistributedContext:
    """Join the process group described by torchrun's environment, or run single-process.

    Reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` (and lets ``env://`` read ``MASTER_ADDR`` and
    ``MASTER_PORT``). Backend: ``backend`` if given, else ``$HYBRIDBATCH_DIST_BACKEND``, else ``nccl``
    when CUDA is available, else ``gloo``. On CUDA (backend other than gloo) the device is
    ``cuda:LOCAL_RANK`` and is made current. Single-process, ``device`` (e.g. ``cpu``, ``cuda:1``) is
    used when given, else CUDA when available: the one place the training device is decided. A
    process group initialised already (e.g. by a test harness) is reused.
    """
    if dist.is_available() and dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
        local_rank = _env_int("LOCAL_RANK", rank)
        backend = dist.get_backend()
    else:
        world_size = _env_int("WORLD_SIZE", 1)
        rank = _env_int("RANK", 0)
        local_rank = _env_int("LOCAL_RANK", 0)
        if world_size > 1:
            if not dist.is_available():
                raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
            backend = backend or os.environ.get("HYBRIDBATCH_DIST_BACKEND") or _default_backend()
            if backend == "nccl" and not torch.cuda.is_available():
                raise ConfigError(
                    "torch.distributed backend 'nccl' needs CUDA; set HYBRIDBATCH_DIST_BACKEND=gloo on CPU"
                )
            if backend == "nccl":
                torch.cuda.set_device(local_rank)
            dist.init_process_group(backend=backend, init_method="env://")
        else:
            backend = None
    auto = torch.device("cuda", local_rank) if torch.cuda.is_available() and backend != "gloo" else None
    chosen = auto if world_size > 1 or device is None else _requested_device(device)
    if chosen is not None and chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    return DistributedContext(
        rank=rank,
        world_size=world_size,
        local_rank=local_rank,
        device=chosen or torch.device("cpu"),
        is_main=rank == 0,
        backend=backend,
    )


def _requested_device(name: str) -> torch.device:
    """``--device``, checked against this machine (ConfigError naming the flag)."""
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: this torch build or machine has no CUDA; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"--device {name}: MPS is not available here; use --device cpu")
    return device


def cleanup() -> None:
    """Destroy the live process group after collecting dropped DDP wrappers (``release_ddp`` says why)."""
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank; no-op single-process."""
    if is_distributed():
        dist.barrier()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s picklable ``obj`` on every rank (identity single-process)."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_objects(obj: Any) -> list[Any]:
    """``[obj of rank 0, obj of rank 1, ...]`` on every rank (``[obj]`` single-process)."""
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def reduce_mean(value: float | Tensor) -> float:
    """Mean of a scalar over ranks (for logging; no gradient)."""
    t = torch.as_tensor(value, dtype=torch.float64).detach().clone()
    if is_distributed():
        if dist.get_backend() == "nccl":
            t = t.to(torch.device("cuda", torch.cuda.current_device()))
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t = t / dist.get_world_size()
    return float(t.item())


def _all_gather_autograd(tensor: Tensor) -> list[Tensor]:
    from torch.distributed.nn.functional import all_gather

    with warnings.catch_warnings():  # deprecated alias, still the documented autograd all_gather
        warnings.simplefilter("ignore", FutureWarning)
        return list(all_gather(tensor))


def _gather_sizes(sizes: list[int], device: torch.device) -> list[list[int]]:
    """Per rank, the given list of sizes (one small collective)."""
    local = torch.tensor(sizes, dtype=torch.long, device=device)
    parts = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, local)
    return [p.tolist() for p in parts]


def gather_with_grad(tensor: Tensor, sizes: list[int] | None = None) -> Tensor:
    """Concatenate ``tensor`` ([n_r, ...] on rank r) over ranks along dim 0, keeping the gradient.

    The backward sends each rank the sum over ranks of the gradient w.r.t. its slice. ``sizes`` (the
    n_r of every rank) may be passed to save a collective; unequal sizes are padded for the
    transfer. Identity when not distributed.
    """
    if not is_distributed():
        return tensor
    if sizes is None:
        sizes = [s[0] for s in _gather_sizes([tensor.shape[0]], tensor.device)]
    longest = max(sizes)
    if all(s == longest for s in sizes):
        return torch.cat(_all_gather_autograd(tensor), dim=0)
    pad = tensor.new_zeros((longest - tensor.shape[0], *tensor.shape[1:]))
    parts = _all_gather_autograd(torch.cat([tensor, pad], dim=0))
    return torch.cat([p[:n] for p, n in zip(parts, sizes, strict=True)], dim=0)


def _gather_plain(tensor: Tensor, sizes: list[int]) -> Tensor:
    """Concatenate a no-grad tensor (e.g. labels) over ranks, allowing unequal sizes."""
    longest = max(sizes)
    pad = tensor.new_zeros((longest - tensor.shape[0], *tensor.shape[1:]))
    parts = [torch.empty_like(torch.cat([tensor, pad])) for _ in sizes]
    dist.all_gather(parts, torch.cat([tensor, pad]).contiguous())
    return torch.cat([p[:n] for p, n in zip(parts, sizes, strict=True)], dim=0)


class DistributedLoss(nn.Module):
    """Cross-device in-batch negatives for a contrastive loss ``loss(query_emb, doc_emb, labels)``.

    ``query_emb`` [B, d] and ``doc_emb`` [M, d] are this rank's embeddings and ``labels`` [B] index
    each query's positive among this rank's docs. The wrapped loss sees the docs of all ranks
    (labels offset by the number of docs on lower ranks), so the in-batch negatives are the global
    batch. If ``gather_queries`` (default: the wrapped loss's ``needs_all_queries`` attribute, e.g.
    the symmetric InfoNCE) the queries and labels are gathered too and every rank computes the
    global loss. With DDP's gradient averaging the parameter gradients equal the single-process
    gradients of the loss over the concatenated batch (see the module docstring). Returns the
    global loss in ``gather_queries`` mode, else this rank's (size-weighted) share; use
    :func:`reduce_mean` to log the global value. Single-process, or with ``cross_device=False``,
    it simply calls the loss.
    """

    def __init__(
        self,
        loss: nn.Module,
        *,
        gather_queries: bool | None = None,
        cross_device: bool = True,
    ) -> None:
        super().__init__()
        self.loss = loss
        self.gather_queries = (
            bool(getattr(loss, "needs_all_queries", False)) if gather_queries is None else gather_queries
        )
        self.cross_device = cross_device

    def forward(self, query_emb: Tensor, doc_emb: Tensor, labels: Tensor) -> Tensor:
        if not (self.cross_device and is_distributed()):
            return self.loss(query_emb, doc_emb, labels)
        rank, world = dist.get_rank(), dist.get_world_size()
        sizes = _gather_sizes([query_emb.shape[0], doc_emb.shape[0]], query_emb.device)
        q_sizes, d_sizes = [s[0] for s in sizes], [s[1] for s in sizes]
        all_docs = gather_with_grad(doc_emb, d_sizes)
        offset = sum(d_sizes[:rank])
        global_labels = labels + offset
        if self.gather_queries:
            all_queries = gather_with_grad(query_emb, q_sizes)
            return self.loss(all_queries, all_docs, _gather_plain(global_labels, q_sizes))
        weight = world * query_emb.shape[0] / sum(q_sizes)
        value = self.loss(query_emb, all_docs, global_labels)
        return value if weight == 1 else value * weight


def wrap_model(model: nn.Module, ctx: DistributedContext, **ddp_kwargs: Any) -> nn.Module:
    """``DistributedDataParallel(model)`` on the context's device when distributed, else ``model``.

    Buffer sync at each forward (``forward_sync_buffers``, formerly ``broadcast_buffers``) is off:
    transformer encoders hold only constant buffers (position ids), and with it on every DDP forward
    is a collective, so ranks that run a different number of forwards in one step (GradCache chunks
    of unequal local batches) would deadlock.
    """
    if not ctx.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if "broadcast_buffers" not in ddp_kwargs and "forward_sync_buffers" not in ddp_kwargs:
        params = inspect.signature(DistributedDataParallel.__init__).parameters
        key = "forward_sync_buffers" if "forward_sync_buffers" in params else "broadcast_buffers"
        ddp_kwargs[key] = False

    if ctx.device.type == "cuda":
        ddp_kwargs.setdefault("device_ids", [ctx.device.index])
        ddp_kwargs.setdefault("output_device", ctx.device.index)
    return DistributedDataParallel(model, **ddp_kwargs)


@contextmanager
def no_sync(model: nn.Module | None, enabled: bool = True) -> Iterator[None]:
    """DDP's ``no_sync()`` (skip the gradient all-reduce) when ``enabled`` and available."""
    ctx = model.no_sync() if enabled and hasattr(model, "no_sync") else nullcontext()
    with ctx:
        yield
