"""The training state, built completely by one factory: data, sampler, model, optimizer, scheduler, step.

:func:`build_state` loads the model (seeded), freezes the word embeddings if asked, builds AdamW and the
LR schedule, takes the L2-SP anchor θ_base, then restores the latest compatible checkpoint (weights,
optimizer, scheduler, sampler, RNG and counters) and finally wraps the model for DDP.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from hybridbatch.errors import ConfigError
from hybridbatch.sampling import BatchSampler, build_sampler
from hybridbatch.training import distributed
from hybridbatch.training.config import TrainConfig
from hybridbatch.training.data import TrainingData, prepare_data
from hybridbatch.training.distill import Distiller, build_teacher, prepare_distillation
from hybridbatch.training.features import model_prompts
from hybridbatch.training.losses import build_loss
from hybridbatch.training.speed import make_adamw
from hybridbatch.training.step import anchor_weights
from hybridbatch.training.tuning import adapt, check_before_loading

if TYPE_CHECKING:
    from hybridbatch.training.checkpoint import Checkpoint, Checkpointer


@dataclass
class TrainingState:
    """Everything a step reads or changes; ``step`` is the number of completed steps."""

    config: TrainConfig
    ctx: distributed.DistributedContext
    data: TrainingData
    total: int
    sampler: BatchSampler
    st_model: nn.Module
    model: nn.Module
    loss_fn: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    prompts: tuple[str, str]
    frozen: int
    trainable: list[nn.Parameter]
    anchor: list[torch.Tensor] | None = None
    adapter: Any = None  # peft's LoRA model around the encoder (None: no LoRA)
    distiller: Distiller | None = None
    step_metrics: dict[str, float] = field(default_factory=dict)  # the last step's extra terms, logged
    step: int = 0
    resumed_from: int | None = None
    counters: dict[str, float] = field(
        default_factory=lambda: {"seconds": 0.0, "train_seconds": 0.0, "pairs": 0, "teacher_seconds": 0.0}
    )
    started: float = field(default_factory=time.perf_counter)

    def autocast(self) -> Any:
        """bf16 autocast (CUDA or CPU) when configured, else a no-op context."""
        if self.config.bf16:
            return torch.autocast(self.ctx.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @property
    def pairs_per_second(self) -> float:
        return self.counters["pairs"] / max(self.counters["train_seconds"], 1e-9)

    def elapsed(self) -> float:
        """Wall seconds of the run so far, including the sessions before a resume."""
        return self.counters["seconds"] + time.perf_counter() - self.started

    def release_ddp(self) -> None:
        """Drop the DDP wrapper; :func:`.distributed.cleanup` then collects it before the group goes.

        A DDP reducer freed after ``destroy_process_group`` destroys the gloo group itself, in the main
        thread with the GIL held, joining a worker thread that waits for the GIL: the process hangs at exit.
        """
        self.model = self.st_model

    def restore(self, checkpoint: Checkpoint) -> None:
        """Continue from ``checkpoint`` (bitwise: weights, optimizer, scheduler, sampler, RNG)."""
        from hybridbatch.training.checkpoint import restore_weights, set_rng_state

        restore_weights(self.st_model, checkpoint.weights, checkpoint.path)
        self.optimizer.load_state_dict(checkpoint.optim["optimizer"])
        self.scheduler.load_state_dict(checkpoint.optim["scheduler"])
        self.sampler.load_state_dict(checkpoint.state["sampler"])
        set_rng_state(checkpoint.rng)
        self.step = self.resumed_from = checkpoint.step
        self.counters = {k: checkpoint.state.get(k, v) for k, v in self.counters.items()}


def build_state(
    config: TrainConfig, ctx: distributed.DistributedContext, checkpointer: Checkpointer
) -> TrainingState:
    """The full training state of ``config``, resumed from ``checkpointer``'s latest checkpoint if any."""
    from hybridbatch.models import load_model

    check_before_loading(config)
    data = prepare_data(config)
    stream = prepare_distillation(config, data)  # checks; --distill-data SOURCE (None: the batches')
    total = config.total_steps(data.num_pairs)
    sampler = build_sampler(config.sampler_config(total), data.train, data.weights)
    torch.manual_seed(config.seed)
    st_model = load_model(config.model, device=str(ctx.device))
    if config.freeze_embeddings:
        freeze_word_embeddings(st_model)
    teacher = build_teacher(config, st_model, ctx.device) if config.distillation.enabled else None
    adapter, frozen = adapt(st_model, config)  # freeze_layers or LoRA
    trainable = [p for p in st_model.parameters() if p.requires_grad]
    optimizer, scheduler = build_optimizer(st_model, config, total)
    anchor = anchor_weights(trainable) if config.anchor_weight else None
    state = TrainingState(
        config=config,
        ctx=ctx,
        data=data,
        total=total,
        sampler=sampler,
        st_model=st_model,
        model=st_model,
        loss_fn=st_model,
        optimizer=optimizer,
        scheduler=scheduler,
        prompts=model_prompts(st_model),
        frozen=frozen,
        trainable=trainable,
        anchor=anchor,
        adapter=adapter,
        distiller=Distiller(teacher, config, ctx.device, stream) if teacher is not None else None,
    )
    checkpoint = checkpointer.latest()
    if checkpoint is not None:
        state.restore(checkpoint)
    state.model = distributed.wrap_model(st_model, ctx)
    state.loss_fn = distributed.DistributedLoss(
        build_loss(config.loss, config.temperature), cross_device=config.cross_device_negatives
    )
    return state


def freeze_word_embeddings(model: nn.Module) -> int:
    """Set ``requires_grad=False`` on the transformer's input (word) embedding matrix; returns its size."""
    auto_model = getattr(model[0], "auto_model", None) if hasattr(model, "__getitem__") else None
    embeddings = auto_model.get_input_embeddings() if auto_model is not None else None
    if embeddings is None:
        raise ConfigError("freeze_embeddings: the model's first module has no input embeddings to freeze")
    embeddings.weight.requires_grad_(False)
    return embeddings.weight.numel()


def build_optimizer(model: nn.Module, config: TrainConfig, total_steps: int) -> tuple[Any, Any]:
    """AdamW (no weight decay on biases and norms) and a linear warmup/decay LR schedule."""
    from transformers import get_linear_schedule_with_warmup

    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    optimizer = make_adamw(groups, config.lr)  # multi-tensor AdamW (.speed): the same update
    scheduler = get_linear_schedule_with_warmup(optimizer, config.resolved_warmup(total_steps), total_steps)
    return optimizer, scheduler
