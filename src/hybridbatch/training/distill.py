"""Distillation from a frozen teacher inside the training step (issue 22).

Each step the teacher embeds its *targets* for the batch's texts, without gradients and in eval mode (no
dropout, no random numbers drawn, so exact resume holds): with ``self`` the texts themselves, with
``english`` the English side of each query and positive (same parallel id; hard negatives, which have
no parallel side, are not distilled). The step's objective becomes
``contrastive(q, d) + λ · DistillationLoss(student rows, their targets)`` on the embeddings the
contrastive forward computes anyway, so distillation costs one teacher forward and no extra student
pass; it composes with GradCache (targets reordered with the chunks) and DDP (a rank-local mean,
weighted by the rank's share of all distilled rows, so DDP's gradient average is the global mean).

With ``--distill-data SOURCE`` the texts come from that source instead, in a pass of their own
(:mod:`.distill_stream`). The default teacher is the model the run starts from: a copy made before any
checkpoint is restored, sharing the tensors that never train (frozen embeddings and layers; under LoRA
every base weight). ``ENGLISH`` is the language code of the English side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from hybridbatch.errors import ConfigError
from hybridbatch.training.adaptation_settings import BATCH_TEXTS
from hybridbatch.training.features import BatchTexts, model_prompts, tokenize
from hybridbatch.training.losses import DistillationLoss
from hybridbatch.training.step import LENGTH_BUCKET_ROWS

if TYPE_CHECKING:
    from hybridbatch.data import ParallelQACollection
    from hybridbatch.sampling import Batch
    from hybridbatch.training.config import TrainConfig
    from hybridbatch.training.data import TrainingData

ENGLISH = "en"


@dataclass(frozen=True)
class DistillTargets:
    """Teacher embeddings per student row (zeros where ``*_mask`` is False: no target)."""

    queries: Tensor
    docs: Tensor
    query_mask: Tensor
    doc_mask: Tensor

    def reordered(self, query_order: Tensor, doc_order: Tensor) -> DistillTargets:
        """The targets of rows reordered like GradCache's length-sorted chunks."""
        q, d = query_order.to(self.queries.device), doc_order.to(self.docs.device)
        return DistillTargets(self.queries[q], self.docs[d], self.query_mask[q], self.doc_mask[d])


class DistilledObjective:
    """``contrastive(q, d, labels) + weight · DistillationLoss(rows with a target, their targets)``.

    ``stats["distill"]`` holds the (unweighted) distillation term of the last call, for the metrics; a
    :meth:`reordered` objective shares it.
    """

    def __init__(
        self,
        contrastive: nn.Module,
        weight: float,
        targets: DistillTargets,
        stats: dict[str, float] | None = None,
    ) -> None:
        self.contrastive, self.weight, self.targets = contrastive, weight, targets
        self.stats = stats if stats is not None else {"distill": 0.0}

    def __call__(self, query_emb: Tensor, doc_emb: Tensor, labels: Tensor) -> Tensor:
        t = self.targets
        student = torch.cat([query_emb[t.query_mask], doc_emb[t.doc_mask]])
        teacher = torch.cat([t.queries[t.query_mask], t.docs[t.doc_mask]])
        distill = DistillationLoss()(student, teacher)
        self.stats["distill"] = float(distill.detach())
        share = global_share(len(student))
        return self.contrastive(query_emb, doc_emb, labels) + self.weight * share * distill

    def reordered(self, query_order: Tensor, doc_order: Tensor) -> DistilledObjective:
        """The same objective for rows reordered by ``query_order`` / ``doc_order`` (GradCache)."""
        targets = self.targets.reordered(query_order, doc_order)
        return DistilledObjective(self.contrastive, self.weight, targets, self.stats)


class Distiller:
    """The frozen teacher of a run, the targets it computes per step and the step's distillation metrics
    (:attr:`last`: the unweighted term and the teacher's seconds). With ``stream`` (``--distill-data
    SOURCE``, :mod:`.distill_stream`) the texts come from that source, else from each batch."""

    def __init__(
        self, teacher: nn.Module, config: TrainConfig, device: torch.device, stream: Any = None
    ) -> None:
        self.teacher, self.config, self.device, self.stream = teacher, config, device, stream
        self.settings = config.distillation
        self.prompts = model_prompts(teacher)
        self.last: dict[str, float] = {"distill": 0.0, "teacher_seconds": 0.0}

    def begin(self, state: Any, batch: Batch) -> float:
        """Start a step: reset its metrics; with a stream, run its distillation pass (returns λ·distill)."""
        self.last.update(distill=0.0, teacher_seconds=0.0)
        if self.stream is None:
            return 0.0
        from hybridbatch.training.distill_stream import stream_backward

        return stream_backward(state, batch.step)

    def objective(
        self,
        contrastive: nn.Module,
        batch: Batch,
        texts: BatchTexts,
        sources: dict[str, ParallelQACollection],
    ) -> nn.Module | DistilledObjective:
        """This step's objective: ``contrastive`` plus the fused term on the batch's texts (none with a
        stream)."""
        if self.stream is not None:
            return contrastive
        if self.settings.distill_mode == "english":
            queries, docs = english_sides(batch, texts, sources)
        else:
            queries, docs = list(texts.queries), list(texts.docs)
        targets = self.timed_embed(queries, docs)
        return DistilledObjective(contrastive, self.settings.distill_weight, targets, self.last)

    def timed_embed(self, queries: list[str | None], docs: list[str | None]) -> DistillTargets:
        """:meth:`embed`, its seconds added to ``last["teacher_seconds"]``."""
        start = time.perf_counter()
        targets = self.embed(queries, docs)
        self.last["teacher_seconds"] += time.perf_counter() - start
        return targets

    def embed(self, queries: list[str | None], docs: list[str | None]) -> DistillTargets:
        """Teacher embeddings (fp32) of the given texts; None rows get no target (zeros, mask False)."""
        from hybridbatch.training.features import embed_bucketed
        from hybridbatch.training.speed import embed_sides

        config = self.config
        sides = [
            (queries, self.prompts[0], config.max_query_length),
            (docs, self.prompts[1], config.max_passage_length),
        ]
        rows = [[i for i, t in enumerate(texts) if t is not None] for texts, _, _ in sides]
        features = [
            tokenize(self.teacher, [texts[i] for i in keep], prompt, length, device=self.device)
            if keep
            else None
            for (texts, prompt, length), keep in zip(sides, rows, strict=True)
        ]
        with torch.no_grad():
            if all(f is not None for f in features):
                embeddings = list(embed_sides(self.teacher, features[0], features[1], LENGTH_BUCKET_ROWS))
            else:
                embeddings = [
                    embed_bucketed(self.teacher, f, LENGTH_BUCKET_ROWS) if f else None for f in features
                ]
        dim = self.teacher.get_embedding_dimension()
        full = [
            _scatter(e, keep, len(texts), dim, self.device)
            for e, keep, (texts, _, _) in zip(embeddings, rows, sides, strict=True)
        ]
        masks = [
            _mask(keep, len(texts), self.device) for keep, (texts, _, _) in zip(rows, sides, strict=True)
        ]
        return DistillTargets(full[0], full[1], masks[0], masks[1])


def global_share(count: int) -> float:
    """``count`` over the mean count of all ranks (1 single-process): a rank's mean over its ``count`` rows,
    so weighted, makes DDP's gradient average the mean over every rank's rows, however unequal."""
    from hybridbatch.training.distributed import is_distributed, reduce_mean

    if not is_distributed():
        return 1.0
    mean = reduce_mean(count)
    return count / mean if mean > 0 else 1.0


def english_sides(
    batch: Batch, texts: BatchTexts, sources: dict[str, ParallelQACollection]
) -> tuple[list[str | None], list[str | None]]:
    """For each query and doc of ``batch``: the English side of its parallel id (None where it has none:
    hard negatives, and ids without an English question)."""
    collection = sources.get(batch.source) or next(iter(sources.values()))
    english = collection.questions.get(ENGLISH, {})
    queries: list[str | None] = []
    positives: list[str | None] = []
    for pair in batch.pairs:
        has = pair.id in english
        queries.append(collection.question(pair.id, ENGLISH).text if has else None)
        positives.append(collection.answer(pair.id, ENGLISH).text if has else None)
    return queries, positives + [None] * (len(texts.docs) - len(positives))


def prepare_distillation(config: TrainConfig, data: TrainingData) -> Any:
    """Check the distillation settings against the data and the teacher spec before any model loads;
    returns the :class:`~.distill_stream.DistillStream` of ``--distill-data SOURCE`` (None for ``batch``)."""
    settings = config.distillation
    if not settings.enabled:
        return None
    if settings.distill_teacher is not None:
        from hybridbatch.errors import ModelError
        from hybridbatch.models.loading import resolve_path

        try:
            resolve_path(settings.distill_teacher)
        except ModelError as exc:
            raise ConfigError(f"--distill-teacher: {exc}") from None
    english = settings.distill_mode == "english"
    if settings.distill_data != BATCH_TEXTS:
        from hybridbatch.training.distill_stream import load_stream

        both = english and settings.distill_both_sides
        return load_stream(settings.distill_data, english, config.seed, both_sides=both)
    if english:
        check_english_side(data.train, data.specs)
    return None


def check_english_side(collections: list[ParallelQACollection], specs: list[str]) -> None:
    """ConfigError naming ``--distill-mode`` when a training source has no English side."""
    for collection, spec in zip(collections, specs, strict=True):
        if not collection.questions.get(ENGLISH):
            raise ConfigError(
                f"--distill-mode english: training source '{spec}' has no English side "
                f"(languages: {', '.join(collection.languages)}); use --distill-mode self"
            )


def _scatter(emb: Tensor | None, rows: list[int], n: int, dim: int, device: torch.device) -> Tensor:
    """``[n, dim]`` fp32 zeros with ``emb``'s rows at ``rows``."""
    out = torch.zeros((n, dim), dtype=torch.float32, device=device)
    if emb is not None:
        out[torch.tensor(rows, dtype=torch.long, device=device)] = emb.float()
    return out


def _mask(rows: list[int], n: int, device: torch.device) -> Tensor:
    mask = torch.zeros(n, dtype=torch.bool, device=device)
    mask[rows] = True
    return mask


def build_teacher(config: TrainConfig, student: nn.Module, device: torch.device) -> nn.Module:
    """The frozen teacher: ``distill_teacher`` loaded, or a copy of ``student`` as loaded (module docstring).

    Call before LoRA adapters are added and before a checkpoint is restored.
    """
    from hybridbatch.models.quantize import copy_sharing

    spec, dtype = (
        config.distillation.distill_teacher,
        teacher_dtype(config.distillation.distill_precision, device),
    )
    if spec is None:  # share what never trains, unless the copy changes dtype (.to() converts in place)
        lora = {id(p) for p in student[0].auto_model.parameters()} if config.tuning.lora else set()
        same_dtype = dtype == torch.float32  # under LoRA no base weight of the encoder ever trains

        def frozen(module: nn.Module) -> bool:
            params = list(module.parameters(recurse=False))
            return same_dtype and bool(params) and all(id(p) in lora or not p.requires_grad for p in params)

        teacher = copy_sharing(student, keep=frozen)
    else:
        from hybridbatch.models import load_model

        teacher = load_model(spec, device=str(device))
        _check_dimension(teacher, student, spec)
    return teacher.to(dtype).eval().requires_grad_(False)


def teacher_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The teacher's dtype: ``bf16`` / ``fp32`` as given; ``auto``: bfloat16 where the device computes it
    natively (a CPU with AMX / AVX512-BF16, :mod:`hybridbatch.models.capability`; CUDA with bf16), else
    float32."""
    if precision != "auto":
        return torch.bfloat16 if precision == "bf16" else torch.float32
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    from hybridbatch.models.capability import detect

    native = device.type == "cpu" and detect(with_torch=False).native_bf16
    return torch.bfloat16 if native else torch.float32


def _check_dimension(teacher: Any, student: Any, spec: str) -> None:
    dims = [m.get_embedding_dimension() for m in (teacher, student)]
    if dims[0] != dims[1]:
        raise ConfigError(
            f"--distill-teacher {spec}: the teacher embeds in {dims[0]} dimensions, the student in {dims[1]}"
        )
