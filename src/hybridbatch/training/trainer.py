"""The hybrid-batch trainer: a plain torch loop with exact resume (arXiv 2408.10536, Sec. 3).

Per step: take the sampler's global :class:`~hybridbatch.sampling.Batch` for that step (a pure function
of seed, step and α-schedule state), keep this rank's slice under DDP, and take one optimizer step on
it (:func:`.step.train_step`: tokenize, embed, contrastive loss over in-batch — optionally cross-device —
negatives, the optional L2-SP anchor, AdamW with linear warmup/decay). Metrics, the batch log, the
progress bar, dev evaluation with α feedback and checkpoints are hooks (:mod:`.hooks`).

Determinism: every step reseeds torch from (seed, step, rank); together with the checkpointed
optimizer, scheduler, sampler state and weights, a resumed run on CPU ends bitwise equal to an
uninterrupted one.

Files under ``out/``: ``checkpoints/step-XXXXXX/`` (see :mod:`.checkpoint`), ``metrics.jsonl`` (one
record per step: loss, lr, α, kind; plus ``"event": "dev"`` and ``"event": "checkpoint"`` records), and
the final ``model/`` (a sentence-transformers directory with ``hybridbatch_training.json`` and a README
model card).

Under ``torchrun`` every rank draws the same global batch and trains on ``shard(batch, rank, world)``;
only rank 0 evaluates (scores are broadcast, so an adaptive α stays identical on all ranks) and writes
checkpoints, metrics and the final model. Resuming reads the checkpoint on every rank, so ``out`` must
be on a filesystem all nodes see.
"""

from __future__ import annotations

import logging
import time

import torch

from hybridbatch.errors import ConfigError
from hybridbatch.models.capability import cpu_record
from hybridbatch.models.metadata import TrainingMetadata, TrainResult
from hybridbatch.sampling import shard
from hybridbatch.training import distributed
from hybridbatch.training.checkpoint import Checkpointer
from hybridbatch.training.config import TrainConfig
from hybridbatch.training.hooks import (
    BatchLog,
    Checkpointing,
    DevEvaluation,
    DevScorer,
    Hook,
    MetricsLog,
    Progress,
)
from hybridbatch.training.model_card import write_model_card
from hybridbatch.training.state import TrainingState, build_state
from hybridbatch.training.step import train_step

__all__ = ["TrainResult", "console_logging", "format_result", "train"]

logger = logging.getLogger(__name__)


def train(config: TrainConfig, dev_scorer: DevScorer | None = None) -> TrainResult:
    """Train (or resume, or return the finished result of) the run described by ``config``.

    Rerunning with the same ``out`` resumes from the last checkpoint; a finished run with the same
    material settings returns its result without training. Raises ConfigError when ``out`` holds a run
    whose material settings differ (the message names the keys). ``dev_scorer`` scores the dev split
    (``hybridbatch.evaluation.dev.lareqa_dev_scores``, as ``train`` / ``compare`` / ``study`` pass);
    without one there is no dev evaluation, and the adaptive α schedule is refused.
    """
    if dev_scorer is None and config.sampling.schedule == "adaptive":
        raise ConfigError("schedule 'adaptive' learns α from dev scores: train(config, dev_scorer=...)")
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    ctx = distributed.init_distributed(device=config.device)
    try:
        checkpointer = Checkpointer(config, ctx)
        if ctx.is_main:
            checkpointer.clean_leftovers()
        done = checkpointer.finished()
        if done is not None:
            logger.info("%s: already trained (%d steps); nothing to do", config.out, done.steps)
            return done.model_copy(update={"rank": ctx.rank})
        state = build_state(config, ctx, checkpointer)
        if ctx.is_main and state.resumed_from is not None:
            logger.info("resuming %s from step %d", config.out, state.resumed_from)
        try:
            return run(state, checkpointer, dev_scorer)
        finally:
            state.release_ddp()
    finally:
        distributed.cleanup()


def run(state: TrainingState, checkpointer: Checkpointer, dev_scorer: DevScorer | None) -> TrainResult:
    """The loop: for each batch from the current step on, one step on this rank's slice, then the hooks."""
    ctx = state.ctx
    metrics = MetricsLog(state)
    dev = DevEvaluation(state, metrics, dev_scorer)
    hooks: list[Hook] = [BatchLog(state)] if state.config.log_batches else []
    hooks += [metrics, Progress(state), dev, Checkpointing(checkpointer, metrics)]
    state.started = time.perf_counter()
    try:
        for batch in state.sampler.batches(state.step, state.total):
            local = shard(batch, ctx.rank, ctx.world_size) if ctx.world_size > 1 else batch
            tick = time.perf_counter()
            loss = train_step(state, local)
            seconds = time.perf_counter() - tick
            state.step = batch.step + 1
            state.counters["train_seconds"] += seconds
            state.counters["pairs"] += len(batch.pairs)
            for hook in hooks:
                hook.after_step(state, batch, local, loss, seconds)
        dev.after_training(state)
    finally:
        for hook in hooks:
            if hook is not dev:
                hook.after_training(state)
    return _finish(state, checkpointer, dev.scores)


def _finish(state: TrainingState, checkpointer: Checkpointer, dev: dict[str, float]) -> TrainResult:
    state.counters["seconds"] = state.elapsed()
    result = TrainResult(
        model_dir=state.config.out / "model",
        steps=state.total,
        seconds=round(state.counters["seconds"], 3),
        pairs_per_second=round(state.pairs_per_second, 3),
        train_languages=state.data.languages,
        dev_metrics=dev,
        resumed_from=state.resumed_from,
        teacher_seconds=round(state.counters["teacher_seconds"], 3) if state.distiller else None,
        rank=state.ctx.rank,
    )
    if state.ctx.is_main:
        meta = _metadata(state, result)
        checkpointer.save_model(state, meta, write_model_card(meta))
    distributed.barrier()
    return result


def _metadata(state: TrainingState, result: TrainResult) -> TrainingMetadata:
    config = state.config
    return TrainingMetadata(
        fingerprint=config.fingerprint(),
        config=config.flat(),
        config_material=config.material(),
        datasets=state.data.describe(),
        train_languages=state.data.languages,
        sampler=state.sampler.config.model_dump(mode="json"),
        alpha_history=getattr(state.sampler.schedule, "history", None),
        frozen_parameters=state.frozen,
        world_size=state.ctx.world_size,
        cpu=cpu_record(),
        result=result,
        versions=_versions(),
    )


def _versions() -> dict[str, str]:
    import sentence_transformers
    import transformers

    from hybridbatch import __version__

    return {
        "hybridbatch": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
    }


def console_logging(level: int = logging.INFO) -> None:
    """Show hybridbatch's own log lines (resume, dev scores, α changes) on stderr, once."""
    root = logging.getLogger("hybridbatch")
    if not any(getattr(h, "_hybridbatch", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._hybridbatch = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


def format_result(result: TrainResult) -> str:
    """One human-readable summary of a run."""
    dev = ", ".join(f"{k} {v:.4f}" for k, v in result.dev_metrics.items()) or "no dev split"
    resumed = f" (resumed from step {result.resumed_from})" if result.resumed_from else ""
    took = f"{result.seconds:.1f} s"
    if result.teacher_seconds is not None:
        per_step = result.teacher_seconds / result.steps
        took += f" (teacher {result.teacher_seconds:.1f} s, {per_step:.3f} s/step)"
    return (
        f"model: {result.model_dir}\n"
        f"steps: {result.steps}{resumed}, {took}, {result.pairs_per_second:.1f} pairs/s\n"
        f"train languages: {', '.join(result.train_languages)}\n"
        f"dev: {dev}"
    )
