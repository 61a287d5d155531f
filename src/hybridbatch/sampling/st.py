"""Hybrid batches for sentence-transformers' ``SentenceTransformerTrainer`` (no hybridbatch trainer).

The extension point is the trainer's ``batch_sampler`` argument, which accepts a callable returning a
:class:`~sentence_transformers.base.sampler.DefaultBatchSampler`:

* :func:`to_st_dataset` lays out one ``(anchor, positive)`` row per (source, id, query language,
  passage language) of the sampler's training collections: the question and its answer sentence;
* :func:`st_batch_sampler` returns that callable (a picklable :class:`STBatchSamplerFactory`, as the
  trainer saves its arguments in every checkpoint); its :class:`HybridSTBatchSampler` yields, for each
  step, the rows of our batch (``sampler.batch_at(step)``), so in-batch negatives follow the hybrid
  X-X / X-Y mix with its id and answer-group dedup.

One dataset holds every training collection (batches carry their source), so ST's multi-dataset
samplers are not needed. The stream's seed is the sampler's, not ``args.seed``; an epoch is
``steps_per_epoch`` steps (default: training questions // batch size) and epoch ``e`` continues the
stream at step ``e · steps_per_epoch``. Prefixes: pass ``prompts={"anchor": "query: ", "positive":
"passage: "}`` in the training arguments. Hard negatives are not supported on this path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sentence_transformers.base.sampler import DefaultBatchSampler

from hybridbatch.errors import ConfigError
from hybridbatch.sampling.hybrid import BatchSampler

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

RowKey = tuple[str, str, str, str]  # (source, id, query_lang, passage_lang)


def st_rows(sampler: BatchSampler) -> list[RowKey]:
    """Every pair the sampler can emit, in the fixed row order of :func:`to_st_dataset`."""
    rows: list[RowKey] = []
    for pool in sampler.pools:
        train = set(pool.languages)
        for qid in pool.collection.ids:
            langs = [lang for lang in pool.collection.languages_of(qid) if lang in train]
            rows.extend((pool.name, qid, q, p) for q in langs for p in langs)
    return rows


def to_st_dataset(sampler: BatchSampler) -> Dataset:
    """A ``datasets.Dataset`` with ``anchor`` (question) and ``positive`` (answer sentence) columns."""
    from datasets import Dataset

    _check_supported(sampler)
    sources = sampler.sources
    anchors, positives = [], []
    for source, qid, q, p in st_rows(sampler):
        anchors.append(sources[source].question(qid, q).text)
        positives.append(sources[source].answer(qid, p).text)
    return Dataset.from_dict({"anchor": anchors, "positive": positives})


class HybridSTBatchSampler(DefaultBatchSampler):
    """ST batch sampler yielding row indices of :func:`to_st_dataset` that follow ``sampler``'s stream."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        drop_last: bool,
        valid_label_columns: list[str] | None = None,
        generator=None,
        seed: int = 0,
        *,
        sampler: BatchSampler,
        steps_per_epoch: int | None = None,
    ) -> None:
        super().__init__(dataset, batch_size, drop_last, valid_label_columns, generator, seed)
        _check_supported(sampler)
        if batch_size != sampler.config.batch_size:
            raise ConfigError(
                f"per_device_train_batch_size {batch_size} != sampler batch_size {sampler.config.batch_size}"
            )
        self.sampler = sampler
        self.rows = {key: i for i, key in enumerate(st_rows(sampler))}
        questions = sum(pool.size for pool in sampler.pools)
        self.steps_per_epoch = steps_per_epoch or sampler.config.steps or max(1, questions // batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        start = self.epoch * self.steps_per_epoch
        for step in range(start, start + self.steps_per_epoch):
            batch = self.sampler.batch_at(step)
            yield [self.rows[(batch.source, p.id, p.query_lang, p.passage_lang)] for p in batch.pairs]

    def __len__(self) -> int:
        return self.steps_per_epoch


class STBatchSamplerFactory:
    """The picklable ``batch_sampler`` callable (the trainer pickles its arguments into each checkpoint).

    Called by the trainer with ``(dataset, batch_size, drop_last, valid_label_columns, generator, seed)``:
    the training dataset from :func:`to_st_dataset` (same sampler) gets a :class:`HybridSTBatchSampler`;
    any other dataset (an evaluation split) gets plain sequential batches.
    """

    def __init__(self, sampler: BatchSampler, steps_per_epoch: int | None = None) -> None:
        self.sampler = sampler
        self.steps_per_epoch = steps_per_epoch
        self.expected = len(st_rows(sampler))

    def __call__(
        self,
        dataset: Dataset,
        batch_size: int,
        drop_last: bool,
        valid_label_columns: list[str] | None = None,
        generator=None,
        seed: int = 0,
    ) -> DefaultBatchSampler:
        if len(dataset) == self.expected:
            return HybridSTBatchSampler(
                dataset,
                batch_size,
                drop_last,
                valid_label_columns,
                generator,
                seed,
                sampler=self.sampler,
                steps_per_epoch=self.steps_per_epoch,
            )
        logger.info("dataset of %d rows is not to_st_dataset(sampler): sequential batches", len(dataset))
        from torch.utils.data import SequentialSampler

        return DefaultBatchSampler(
            SequentialSampler(dataset), batch_size, drop_last, valid_label_columns, generator, seed
        )


def st_batch_sampler(sampler: BatchSampler, steps_per_epoch: int | None = None) -> STBatchSamplerFactory:
    """The value for ``SentenceTransformerTrainingArguments(batch_sampler=...)`` (picklable, so the
    trainer can save checkpoints). The training dataset must come from :func:`to_st_dataset`."""
    return STBatchSamplerFactory(sampler, steps_per_epoch)


def _check_supported(sampler: BatchSampler) -> None:
    if sampler.config.hard_negatives:
        raise ConfigError("hard negatives are not supported with the sentence-transformers batch sampler")
