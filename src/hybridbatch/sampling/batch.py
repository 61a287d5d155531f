"""What a sampler emits: a batch of (parallel id, query language, passage language) pairs.

A batch carries no text: the trainer turns each :class:`Pair` into a query (the question of ``id`` in
``query_lang``) and a positive passage (the answer sentence of ``id`` in ``passage_lang``) with
:meth:`hybridbatch.data.ParallelQACollection.question` / ``answer``. Keeping batches as ids makes
them cheap to plan, log as JSONL (``hybridbatch batches``) and replay on resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

BatchKind = Literal["xx", "xy", "en-en"]


@dataclass(frozen=True, slots=True)
class Pair:
    """One training pair: question ``id`` in ``query_lang`` against its answer in ``passage_lang``.

    ``negatives`` optionally lists hard-negative candidate indices in ``passage_lang``'s pool,
    ``query_negatives`` in ``query_lang``'s (an X-Y pair's same-language distractors).
    """

    id: str
    query_lang: str
    passage_lang: str
    negatives: tuple[int, ...] = ()
    query_negatives: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"id", "query_lang", "passage_lang"}`` plus ``negatives`` / ``query_negatives`` when any."""
        record: dict[str, Any] = {"id": self.id, "query_lang": self.query_lang}
        record["passage_lang"] = self.passage_lang
        if self.negatives:
            record["negatives"] = list(self.negatives)
        if self.query_negatives:
            record["query_negatives"] = list(self.query_negatives)
        return record


@dataclass(frozen=True, slots=True)
class Batch:
    """One training step's pairs. ``kind`` is ``xx`` (one language), ``xy`` (query language ≠
    passage language for every pair) or ``en-en``; ``source`` names the training collection."""

    step: int
    kind: BatchKind
    pairs: list[Pair]
    source: str = ""
    alpha: float | None = None
    language: str | None = None  # the language of an X-X batch
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSONL record of ``hybridbatch batches`` / ``--log-batches``."""
        record: dict[str, Any] = {
            "step": self.step,
            "kind": self.kind,
            "source": self.source,
            "alpha": self.alpha,
            "language": self.language,
        }
        record["pairs"] = [p.to_json() for p in self.pairs]
        record.update(self.extra)
        return record
