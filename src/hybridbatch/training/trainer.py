"""The hybrid-batch trainer: a plain torch loop with exact resume (arXiv 2408.10536, Sec. 3).

Per step: take the sampler's global :class:`~hybridbatch.sampling.Batch` for that step (a pure function
of seed, step and α-schedule state), keep this rank's slice under DDP, turn it into ``query: ``/``passage: ``
texts, tokenize queries and passages separately with dynamic padding, embed, compute the contrastive
loss over in-batch (optionally cross-device) negatives, and take an AdamW step with linear warmup/decay.

Determinism: every step reseeds torch from (seed, step, rank) before its forward pass, so dropout of
step ``s`` does not depend on what ran before; together with the checkpointed optimizer, scheduler,
sampler state and weights, a resumed run on CPU ends bitwise equal to an uninterrupted one.

Files under ``out/``: ``checkpoints/step-XXXXXX/`` (see :mod:`.checkpoint`), ``metrics.jsonl`` (one
record per step: loss, lr, α, kind; plus ``"event": "dev"`` records of dev evaluations and
``"event": "checkpoint"`` records with the write time), and the final ``model/`` (a sentence-transformers
directory with ``hybridbatch_training.json`` and a README model card).

Under ``torchrun`` every rank draws the same global batch and trains on ``shard(batch, rank, world)``;
only rank 0 evaluates (scores are broadcast, so an adaptive α stays identical on all ranks) and writes
checkpoints, metrics and the final model. ``--log-batches FILE`` is one file: rank 0 gathers every
rank's slice each step and writes one record per rank (``Batch.to_json()`` plus ``rank``). Resuming
reads the checkpoint on every rank, so ``out`` must be on a filesystem all nodes see.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel
from torch import nn

from hybridbatch.errors import ConfigError
from hybridbatch.io import atomic_directory, atomic_write_json, atomic_write_text
from hybridbatch.sampling import Batch, build_sampler, shard
from hybridbatch.training import distributed as dist_utils
from hybridbatch.training.checkpoint import (
    list_checkpoints,
    load_checkpoint,
    restore_weights,
    save_checkpoint,
    set_rng_state,
)
from hybridbatch.training.config import TrainConfig
from hybridbatch.training.data import TrainingData, prepare_data
from hybridbatch.training.features import (
    batch_texts,
    embed,
    embed_bucketed,
    length_sorted_chunks,
    model_prompts,
    permuted_labels,
    tokenize,
)
from hybridbatch.training.jsonl import StepLog
from hybridbatch.training.losses import build_loss
from hybridbatch.training.model_card import TRAINING_JSON, write_model_card

logger = logging.getLogger(__name__)


class TrainResult(BaseModel):
    """What a training run produced."""

    model_dir: Path
    steps: int
    seconds: float
    pairs_per_second: float
    train_languages: list[str]
    dev_metrics: dict[str, float] = {}
    resumed_from: int | None = None


def train(config: TrainConfig) -> TrainResult:
    """Train (or resume, or return the finished result of) the run described by ``config``.

    Rerunning with the same ``out`` resumes from the last checkpoint; a finished run with the same
    material settings returns its result without training. Raises ConfigError when ``out`` holds a run
    whose material settings differ (the message names the keys).
    """
    ctx = dist_utils.init_distributed()
    try:
        return _Run(config, ctx).run()
    finally:
        dist_utils.cleanup()


def finished_result(config: TrainConfig) -> TrainResult | None:
    """The result of a finished run in ``config.out`` with the same material settings, if any."""
    meta_path = Path(config.out) / "model" / TRAINING_JSON
    if not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("fingerprint") != config.fingerprint():
        diff = config.differences(meta.get("config_material", {}))
        raise ConfigError(
            f"{config.out} holds a finished run with different settings ({'; '.join(diff) or 'unknown'}); "
            "use another --out or delete it"
        )
    return TrainResult(model_dir=meta_path.parent, **meta["result"])


def step_seed(seed: int, step: int, rank: int) -> int:
    """The torch seed of training step ``step`` on ``rank`` (dropout), a pure function of its inputs."""
    digest = hashlib.sha256(f"hybridbatch:{seed}:{step}:{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


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
    optimizer = torch.optim.AdamW(groups, lr=config.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, config.resolved_warmup(total_steps), total_steps)
    return optimizer, scheduler


class _Run:
    """State of one training invocation (kept in an object so the loop stays readable)."""

    def __init__(self, config: TrainConfig, ctx: dist_utils.DistributedContext) -> None:
        self.config = config
        self.ctx = ctx
        self.out = Path(config.out)
        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        if ctx.distributed:
            self.device = ctx.device
        elif config.device:
            self.device = torch.device(config.device)
        else:
            self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    # --- setup ----------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        done = dist_utils.broadcast_object(finished_result(self.config) if self.ctx.is_main else None)
        if done is not None:
            logger.info("%s: already trained (%d steps); nothing to do", self.out, done.steps)
            return done
        self.data = prepare_data(self.config)
        self.total = self.config.total_steps(self.data.num_pairs)
        self.sampler = build_sampler(self.config.sampler_config(self.total), self.data.train)
        self._load_model()
        checkpoint = self._find_checkpoint()
        self.start = 0
        self.counters = {"seconds": 0.0, "train_seconds": 0.0, "pairs": 0}
        if checkpoint is not None:
            self._resume(checkpoint)
        self.model = dist_utils.wrap_model(self.st_model, self.ctx)
        self.loss_fn = dist_utils.DistributedLoss(
            build_loss(self.config.loss, self.config.temperature),
            self.ctx,
            cross_device=self.config.cross_device_negatives,
        )
        return self._loop(resumed_from=checkpoint.step if checkpoint is not None else None)

    def _load_model(self) -> None:
        from hybridbatch.models import load_model

        torch.manual_seed(self.config.seed)
        self.st_model = load_model(self.config.model, device=str(self.device))
        self.frozen = freeze_word_embeddings(self.st_model) if self.config.freeze_embeddings else 0
        self.prompts = model_prompts(self.st_model)
        self.optimizer, self.scheduler = build_optimizer(self.st_model, self.config, self.total)

    def _find_checkpoint(self):
        found = list_checkpoints(self.out)
        step = dist_utils.broadcast_object(found[-1][0] if found and self.ctx.is_main else None)
        if step is None:
            return None
        path = dict(found).get(step)
        if path is None:
            raise ConfigError(
                f"{self.out}: checkpoint step-{step:06d} is not visible on rank {self.ctx.rank}"
            )
        checkpoint = load_checkpoint(path)
        saved = checkpoint.state.get("config_material", {})
        if checkpoint.state.get("fingerprint") != self.config.fingerprint():
            diff = "; ".join(self.config.differences(saved)) or "unknown"
            raise ConfigError(
                f"cannot resume {path}: settings differ from the checkpointed run ({diff}); "
                "use another --out, or delete its checkpoints to start over"
            )
        return checkpoint

    def _resume(self, checkpoint) -> None:
        restore_weights(self.st_model, checkpoint.weights, checkpoint.path)
        self.optimizer.load_state_dict(checkpoint.optim["optimizer"])
        self.scheduler.load_state_dict(checkpoint.optim["scheduler"])
        self.sampler.load_state_dict(checkpoint.state["sampler"])
        set_rng_state(checkpoint.rng)
        self.start = checkpoint.step
        self.counters = {k: checkpoint.state.get(k, v) for k, v in self.counters.items()}
        if self.ctx.is_main:
            logger.info("resuming %s from step %d", self.out, checkpoint.step)

    # --- the loop -------------------------------------------------------------------------------
    def _loop(self, resumed_from: int | None) -> TrainResult:
        config, ctx = self.config, self.ctx
        main = ctx.is_main
        metrics = StepLog(self.out / "metrics.jsonl", self.start) if main else None
        batch_log = StepLog(config.log_batches, self.start - 1) if main and config.log_batches else None
        progress = _progress(self.total, self.start, config.show_progress and main)
        started = time.perf_counter()
        seconds_before = self.counters["seconds"]
        dev: dict[str, float] = {}
        try:
            for batch in self.sampler.batches(self.start, self.total):
                local = shard(batch, ctx.rank, ctx.world_size) if ctx.world_size > 1 else batch
                tick = time.perf_counter()
                loss = self._step(local)
                elapsed = time.perf_counter() - tick
                done = batch.step + 1
                self.counters["train_seconds"] += elapsed
                self.counters["pairs"] += len(batch.pairs)
                if batch_log is not None or (ctx.distributed and config.log_batches):
                    self._log_batch(batch_log, local)
                rate = self.counters["pairs"] / max(self.counters["train_seconds"], 1e-9)
                if metrics is not None:
                    lr = self.scheduler.get_last_lr()[0]
                    metrics.write(_step_record(done, loss, lr, batch, elapsed, rate))
                progress.update(1)
                progress.set_postfix(loss=f"{loss:.4f}", alpha=_fmt_alpha(batch.alpha), pairs_s=f"{rate:.1f}")
                if self._eval_due(done):
                    dev = self._evaluate(done, metrics)
                if config.checkpoint_every and done % config.checkpoint_every == 0 and done < self.total:
                    self.counters["seconds"] = seconds_before + time.perf_counter() - started
                    self._checkpoint(done, metrics)
            if self._has_dev() and not self._eval_due(self.total):
                dev = self._evaluate(self.total, metrics)
        finally:
            progress.close()
            for log in (metrics, batch_log):
                if log is not None:
                    log.close()
        self.counters["seconds"] = seconds_before + time.perf_counter() - started
        result = TrainResult(
            model_dir=self.out / "model",
            steps=self.total,
            seconds=round(self.counters["seconds"], 3),
            pairs_per_second=round(self.counters["pairs"] / max(self.counters["train_seconds"], 1e-9), 3),
            train_languages=self.data.languages,
            dev_metrics=dev,
            resumed_from=resumed_from,
        )
        if main:
            self._save_final(result)
        dist_utils.barrier(ctx)
        return result

    def _step(self, batch: Batch) -> float:
        """One optimizer step on this rank's slice; returns the (rank-averaged) loss."""
        config = self.config
        torch.manual_seed(step_seed(config.seed, batch.step, self.ctx.rank))
        self.model.train()
        texts = batch_texts(batch, self.sampler.sources)
        queries = tokenize(
            self.st_model,
            texts.queries,
            self.prompts[0],
            config.max_query_length,
            config.padding,
            self.device,
        )
        docs = tokenize(
            self.st_model, texts.docs, self.prompts[1], config.max_passage_length, config.padding, self.device
        )
        labels = texts.labels.to(self.device)
        loss = contrastive_backward(
            self.model,
            self.loss_fn,
            queries,
            docs,
            labels,
            mini_batch_size=config.mini_batch_size,
            trim=config.padding == "longest",
            autocast=self._autocast,
        )
        if config.max_grad_norm:
            params = [p for p in self.st_model.parameters() if p.requires_grad]
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return dist_utils.reduce_mean(loss, self.ctx) if self.ctx.distributed else float(loss)

    def _autocast(self):
        if self.config.bf16 and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _log_batch(self, log: StepLog | None, local: Batch) -> None:
        record = {**local.to_json(), "rank": self.ctx.rank}
        records = dist_utils.all_gather_objects(record, self.ctx)
        if log is not None:
            for r in records:
                log.write(r)

    # --- evaluation and checkpoints -------------------------------------------------------------
    def _has_dev(self) -> bool:
        return any(c.ids for c in self.data.dev)

    def _eval_due(self, done: int) -> bool:
        config = self.config
        if not self._has_dev():
            return False
        adaptive = config.schedule == "adaptive" and done % config.adaptive_every == 0 and done < self.total
        return adaptive or bool(config.eval_every and done % config.eval_every == 0)

    def _evaluate(self, done: int, metrics: StepLog | None) -> dict[str, float]:
        scores = dev_scores(self.st_model, self.data) if self.ctx.is_main else None
        scores = dist_utils.broadcast_object(scores, self.ctx)
        record: dict[str, Any] = {"step": done, "event": "dev", **scores}
        schedule = self.sampler.schedule
        if (
            self.config.schedule == "adaptive"
            and hasattr(schedule, "observe")
            and done < self.total
            and done % self.config.adaptive_every == 0
        ):
            record["alpha_before"] = schedule.alpha(done)
            record["alpha"] = schedule.observe(done, scores["mono_map"], scores["cross_map"])
        if metrics is not None:
            metrics.write(record)
        if self.ctx.is_main:
            logger.info("dev @ %d: %s", done, ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
        return scores

    def _checkpoint(self, done: int, metrics: StepLog | None) -> None:
        if self.ctx.is_main:
            state = {
                "fingerprint": self.config.fingerprint(),
                "config_material": self.config.material(),
                "sampler": self.sampler.state_dict(step=done),
                "world_size": self.ctx.world_size,
                **self.counters,
            }
            path, seconds = save_checkpoint(
                self.out,
                done,
                self.st_model,
                self.optimizer,
                self.scheduler,
                state,
                keep=self.config.keep_checkpoints,
            )
            if metrics is not None:
                metrics.write({"step": done, "event": "checkpoint", "path": str(path), "seconds": seconds})
        dist_utils.barrier(self.ctx)

    def _save_final(self, result: TrainResult) -> None:
        meta = {
            "fingerprint": self.config.fingerprint(),
            "config": self.config.model_dump(mode="json"),
            "config_material": self.config.material(),
            "datasets": self.data.describe(),
            "train_languages": self.data.languages,
            "sampler": self.sampler.config.model_dump(mode="json"),
            "alpha_history": getattr(self.sampler.schedule, "history", None),
            "frozen_parameters": self.frozen,
            "world_size": self.ctx.world_size,
            "result": result.model_dump(mode="json", exclude={"model_dir"}),
            "versions": _versions(),
        }
        with atomic_directory(result.model_dir) as tmp:
            self.st_model.save(str(tmp), create_model_card=False)
            atomic_write_json(tmp / TRAINING_JSON, meta)
            atomic_write_text(tmp / "README.md", write_model_card(meta))


# Rows per length bucket of the plain (non-GradCache) forward: small enough to cut padding, large
# enough to keep matrix multiplies efficient.
LENGTH_BUCKET_ROWS = 16


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

    Without ``mini_batch_size`` and with ``trim``, each side is embedded in length-sorted buckets of
    ``LENGTH_BUCKET_ROWS`` rows cut to their own longest text (one autograd graph, the same gradient):
    on MLQA-R batches this skips ~40% of the token positions that padding to the batch's longest costs.
    With ``mini_batch_size`` this is GradCache (:mod:`.gradcache`): the exact full-batch gradient while
    holding one chunk's activations. Chunks are length-sorted and (``trim``) cut to their own longest
    text, and the labels are permuted to match, so short texts do not pay for long ones.
    """
    if not mini_batch_size:
        with autocast():
            query_emb = embed_bucketed(model, queries, LENGTH_BUCKET_ROWS) if trim else embed(model, queries)
            doc_emb = embed_bucketed(model, docs, LENGTH_BUCKET_ROWS) if trim else embed(model, docs)
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
    return gradcache_backward(
        encode,
        q_chunks,
        d_chunks,
        loss_fn,
        permuted_labels(labels, q_order, d_order),
        model=model,
        device=device if device.type == "cuda" else None,
    )


def dev_scores(model, data: TrainingData) -> dict[str, float]:
    """Mono and cross mAP on the dev splits (macro-averaged over datasets with a dev split)."""
    from hybridbatch.evaluation import evaluate_model

    mono, cross = [], []
    for dev in data.dev:
        if not dev.ids:
            continue
        report = evaluate_model(
            model, dev, settings=("mono", "cross"), show_progress=False, train_languages=data.languages
        )
        summary = report.summary
        if summary is None:
            continue
        if summary.mono_map is not None:
            mono.append(summary.mono_map)
        if summary.cross_map is not None:
            cross.append(summary.cross_map)
    return {
        "mono_map": sum(mono) / len(mono) if mono else float("nan"),
        "cross_map": sum(cross) / len(cross) if cross else float("nan"),
    }


def _step_record(
    done: int, loss: float, lr: float, batch: Batch, seconds: float, rate: float
) -> dict[str, Any]:
    return {
        "step": done,
        "loss": round(loss, 6),
        "lr": lr,
        "alpha": batch.alpha,
        "kind": batch.kind,
        "language": batch.language,
        "pairs": len(batch.pairs),
        "seconds": round(seconds, 4),
        "pairs_per_second": round(rate, 3),
    }


def _fmt_alpha(alpha: float | None) -> str:
    return "-" if alpha is None else f"{alpha:.2f}"


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=initial, disable=not enabled, desc="train", unit="step", dynamic_ncols=True
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


def is_main_process() -> bool:
    """True on rank 0 of a torchrun job (``RANK`` unset or 0) and in single-process runs."""
    return os.environ.get("RANK", "0") in ("", "0")


def format_result(result: TrainResult) -> str:
    """One human-readable summary of a run."""
    dev = ", ".join(f"{k} {v:.4f}" for k, v in result.dev_metrics.items()) or "no dev split"
    resumed = f" (resumed from step {result.resumed_from})" if result.resumed_from else ""
    return (
        f"model: {result.model_dir}\n"
        f"steps: {result.steps}{resumed}, {result.seconds:.1f} s, {result.pairs_per_second:.1f} pairs/s\n"
        f"train languages: {', '.join(result.train_languages)}\n"
        f"dev: {dev}"
    )
