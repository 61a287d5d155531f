"""Distillation on a separate stream of texts (``--distill-data SOURCE``, e.g. ``flores200:train``).

Each step draws ``batch_size`` texts of the source — a parallel id, then one of its languages, uniformly
— from a generator seeded by (seed, step) alone, so a resumed run draws the same texts; under DDP each
rank takes every world-size-th text. The student embeds them (query prompt: E5 prefixes symmetric tasks
such as bitext mining with ``query: ``) and is pulled to the teacher's embedding of the same text
(``self``) or of its English side (``english``; texts without one are skipped). With ``english`` and
``distill_both_sides`` (default) each drawn id also gives its English text, pulled to its own teacher
embedding — both sides, as Reimers & Gurevych (2020) train — so the English targets' space stays put
while the contrastive loss moves the model (one side only, English is 1 of FLORES' ~157 variants and
drifts away from the targets). This pass runs before
the contrastive one, in ``mini_batch_size`` chunks when GradCache is on (the term is a mean over texts:
chunks add exactly), and under DDP's ``no_sync``: the contrastive backward that follows all-reduces the
sum once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from hybridbatch.training.distill import ENGLISH, global_share
from hybridbatch.training.distributed import no_sync
from hybridbatch.training.features import embed_bucketed, tokenize
from hybridbatch.training.losses import DistillationLoss
from hybridbatch.training.step import LENGTH_BUCKET_ROWS

if TYPE_CHECKING:
    from hybridbatch.data import ParallelQACollection
    from hybridbatch.training.state import TrainingState


@dataclass
class DistillStream:
    """The texts of one distillation source, drawn per step (module docstring)."""

    collection: ParallelQACollection
    english: bool
    seed: int
    both_sides: bool = False

    def draw(
        self, step: int, count: int, rank: int = 0, world: int = 1
    ) -> tuple[list[str], list[str | None]]:
        """This rank's student texts of ``step`` and their targets' texts (None: no English side)."""
        rng = random.Random(f"hybridbatch:distill:{self.seed}:{step}")
        pairs: list[tuple[str, str | None]] = []
        while len(pairs) < count:
            student, target = self._one(rng)
            pairs.append((student, target))
            if self.both_sides and target is not None and target != student:
                pairs.append((target, target))  # the English side, pulled to where the teacher has it
        mine = pairs[:count][rank::world]
        return [s for s, _ in mine], [t for _, t in mine]

    def _one(self, rng: random.Random) -> tuple[str, str | None]:
        """One drawn text (an id, then one of its languages) and its target's text."""
        qid = rng.choice(self.collection.ids)
        text = self.collection.question(qid, rng.choice(self.collection.languages_of(qid))).text
        if not self.english:
            return text, text
        english = self.collection.questions.get(ENGLISH, {})
        return text, english[qid].text if qid in english else None


def stream_backward(state: TrainingState, step: int) -> float:
    """Accumulate ∇ λ·distill on this step's stream texts into ``.grad``; returns λ·distill."""
    distiller, config = state.distiller, state.config
    assert distiller is not None and distiller.stream is not None
    students, target_texts = distiller.stream.draw(
        step, config.batch_size, state.ctx.rank, state.ctx.world_size
    )
    targets = distiller.timed_embed(target_texts, [])
    keep = [i for i, t in enumerate(target_texts) if t is not None]
    weight = config.distillation.distill_weight * global_share(len(keep))  # DDP: the mean over all ranks
    size = config.mini_batch_size or max(len(keep), 1)
    total = 0.0
    with no_sync(state.model, enabled=state.ctx.distributed):
        for start in range(0, len(keep), size):
            rows = keep[start : start + size]
            features = tokenize(
                state.st_model,
                [students[i] for i in rows],
                state.prompts[0],
                config.max_query_length,
                config.padding,
                state.ctx.device,
            )
            with state.autocast():
                emb = embed_bucketed(state.model, features, LENGTH_BUCKET_ROWS).float()
            chunk = DistillationLoss()(emb, targets.queries[torch.tensor(rows, device=emb.device)])
            (weight * chunk * (len(rows) / len(keep))).backward()
            total += float(chunk.detach()) * len(rows) / len(keep)
    distiller.last["distill"] = total
    return config.distillation.distill_weight * total


def load_stream(spec: str, english: bool, seed: int, both_sides: bool = False) -> DistillStream:
    """The stream of ``--distill-data SPEC`` (ConfigError naming the flag when it cannot serve)."""
    from hybridbatch.data.registry import load_source
    from hybridbatch.errors import ConfigError, DataError

    try:
        collection = load_source(spec)
    except DataError as exc:
        raise ConfigError(f"--distill-data: {exc}") from None
    if english and not collection.questions.get(ENGLISH):
        shown = ", ".join(collection.languages[:10]) + (" …" if len(collection.languages) > 10 else "")
        raise ConfigError(
            f"--distill-mode english: --distill-data '{spec}' has no English side (languages: {shown})"
        )
    if not collection.ids:
        raise ConfigError(f"--distill-data '{spec}': no texts")
    return DistillStream(collection, english, seed, both_sides)
