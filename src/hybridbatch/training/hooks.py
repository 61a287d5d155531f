"""What happens around the training steps, as hooks: metrics, batch log, progress, dev evaluation with
α feedback, checkpoints. Each sees the state after every step (``after_step``) and once at the end."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

from hybridbatch.data.collection import ParallelQACollection
from hybridbatch.sampling import Batch, ObservingSchedule
from hybridbatch.training import distributed
from hybridbatch.training.checkpoint import Checkpointer
from hybridbatch.training.jsonl import StepLog
from hybridbatch.training.state import TrainingState

logger = logging.getLogger(__name__)


class Hook(Protocol):
    """Called after each step (``batch`` global, ``local`` this rank's slice) and after the last."""

    def after_step(
        self, state: TrainingState, batch: Batch, local: Batch, loss: float, seconds: float
    ) -> None: ...

    def after_training(self, state: TrainingState) -> None: ...


class DevScorer(Protocol):
    """Scores a model on the dev collections: at least ``mono_map`` and ``cross_map`` (the adaptive α
    reads them). Training does not import evaluation: the caller hands one in
    (:func:`hybridbatch.evaluation.dev.lareqa_dev_scores`)."""

    def __call__(
        self, model: Any, dev: Sequence[ParallelQACollection], train_languages: list[str]
    ) -> dict[str, float]: ...


class MetricsLog:
    """``metrics.jsonl`` (rank 0): one record per step, plus dev and checkpoint events."""

    def __init__(self, state: TrainingState) -> None:
        main = state.ctx.is_main
        self.log = StepLog(state.config.out / "metrics.jsonl", state.step) if main else None

    def write(self, record: dict[str, Any]) -> None:
        if self.log is not None:
            self.log.write(record)

    def after_step(
        self, state: TrainingState, batch: Batch, local: Batch, loss: float, seconds: float
    ) -> None:
        self.write(
            {
                "step": state.step,
                "loss": round(loss, 6),
                "lr": state.scheduler.get_last_lr()[0],
                "alpha": batch.alpha,
                "kind": batch.kind,
                "language": batch.language,
                "pairs": len(batch.pairs),
                "seconds": round(seconds, 4),
                "pairs_per_second": round(state.pairs_per_second, 3),
                **{k: round(v, 6) for k, v in state.step_metrics.items()},
            }
        )

    def after_training(self, state: TrainingState) -> None:
        if self.log is not None:
            self.log.close()


class BatchLog:
    """``--log-batches``: rank 0 gathers every rank's slice and writes one record per rank."""

    def __init__(self, state: TrainingState) -> None:
        path = state.config.log_batches
        self.log = StepLog(path, state.step - 1) if path and state.ctx.is_main else None

    def after_step(
        self, state: TrainingState, batch: Batch, local: Batch, loss: float, seconds: float
    ) -> None:
        records = distributed.all_gather_objects({**local.to_json(), "rank": state.ctx.rank})
        if self.log is not None:
            for record in records:
                self.log.write(record)

    def after_training(self, state: TrainingState) -> None:
        if self.log is not None:
            self.log.close()


class Progress:
    """A tqdm bar with loss, α and throughput (rank 0, unless ``show_progress`` is off)."""

    def __init__(self, state: TrainingState) -> None:
        from tqdm.auto import tqdm

        enabled = state.config.show_progress and state.ctx.is_main
        self.bar = tqdm(
            total=state.total,
            initial=state.step,
            disable=not enabled,
            desc="train",
            unit="step",
            dynamic_ncols=True,
        )

    def after_step(
        self, state: TrainingState, batch: Batch, local: Batch, loss: float, seconds: float
    ) -> None:
        alpha = "-" if batch.alpha is None else f"{batch.alpha:.2f}"
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.4f}", alpha=alpha, pairs_s=f"{state.pairs_per_second:.1f}")

    def after_training(self, state: TrainingState) -> None:
        self.bar.close()


class DevEvaluation:
    """Dev mono/cross mAP every ``eval_every`` steps and at the end; an observing α schedule (adaptive)
    gets the scores every ``adaptive_every`` steps. Rank 0 scores; the scores are broadcast. Without a
    scorer there is no dev evaluation."""

    def __init__(self, state: TrainingState, metrics: MetricsLog, scorer: DevScorer | None) -> None:
        self.metrics, self.scorer = metrics, scorer
        self.enabled = scorer is not None and any(c.ids for c in state.data.dev)
        schedule = state.sampler.schedule
        self.schedule = schedule if isinstance(schedule, ObservingSchedule) else None
        self.scores: dict[str, float] = {}

    def _observing(self, state: TrainingState, done: int) -> bool:
        every = state.config.adaptive_every
        return self.schedule is not None and done % every == 0 and done < state.total

    def _due(self, state: TrainingState, done: int) -> bool:
        every = state.config.eval_every
        return self.enabled and (self._observing(state, done) or bool(every and done % every == 0))

    def after_step(
        self, state: TrainingState, batch: Batch, local: Batch, loss: float, seconds: float
    ) -> None:
        if self._due(state, state.step):
            self.evaluate(state, state.step)

    def after_training(self, state: TrainingState) -> None:
        if self.enabled and not self._due(state, state.total):
            self.evaluate(state, state.total)

    def evaluate(self, state: TrainingState, done: int) -> None:
        assert self.scorer is not None  # enabled only with a scorer
        data = state.data
        scores = self.scorer(state.st_model, data.dev, data.languages) if state.ctx.is_main else None
        self.scores = distributed.broadcast_object(scores)
        record: dict[str, Any] = {"step": done, "event": "dev", **self.scores}
        if self.schedule is not None and self._observing(state, done):
            record["alpha_before"] = self.schedule.alpha(done)
            record["alpha"] = self.schedule.observe(done, self.scores["mono_map"], self.scores["cross_map"])
        self.metrics.write(record)
        if state.ctx.is_main:
            logger.info("dev @ %d: %s", done, ", ".join(f"{k} {v:.4f}" for k, v in self.scores.items()))


class Checkpointing:
    """A checkpoint every ``checkpoint_every`` steps (not after the last: the final model follows)."""

    def __init__(self, checkpointer: Checkpointer, metrics: MetricsLog) -> None:
        self.checkpointer, self.metrics = checkpointer, metrics

    def after_step(
        self, state: TrainingState, batch: Batch, local: Batch, loss: float, seconds: float
    ) -> None:
        every = state.config.checkpoint_every
        if every and state.step % every == 0 and state.step < state.total:
            state.counters["seconds"] = state.elapsed()
            state.started = time.perf_counter()
            saved = self.checkpointer.save(state)
            if saved is not None:
                path, took = saved
                self.metrics.write(
                    {"step": state.step, "event": "checkpoint", "path": str(path), "seconds": took}
                )

    def after_training(self, state: TrainingState) -> None:
        return None
